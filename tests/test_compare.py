"""neuralpaint.compare and ``neuralpaint compare``: every method on one clip, one table, one page."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest

import flows
import neuralpaint.cli.compare  # noqa: F401  (registers the command)
from neuralpaint import media
from neuralpaint.compare import COLUMNS, compare, parse_methods
from neuralpaint.errors import InputError

TINY = ["--size", "48", "--iters", "5", "--first-iters", "5", "--weights", "random", "--device", "cpu", "-q"]

class Links(HTMLParser):
    """Every src/href of a page, and its text."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.images: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.images.append(a["src"])
        for key in ("src", "href"):
            if a.get(key):
                self.refs.append(a[key])

    def handle_data(self, data):
        self.text.append(data)


def check_page(page: Path) -> Links:
    """Parse the page; every referenced file must exist and nothing may point outside it."""
    parser = Links()
    parser.feed(page.read_text(encoding="utf-8"))
    parser.close()
    assert parser.images
    for ref in parser.refs:
        assert "://" not in ref and not ref.startswith("/"), ref  # offline, relative
        assert (page.parent / unquote(ref)).exists(), ref
    return parser


@pytest.fixture(scope="module")
def clip_path(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cmp")
    clip = flows.synthetic.make_clip(n_frames=5, height=36, width=48, motion="pan", seed=1)
    path = folder / "clip.gif"
    media.write_clip(path, clip.frames)
    return path


def test_compare_writes_table_json_and_page(clip_path, tmp_path, cli):
    out = tmp_path / "cmp"
    r = cli("compare", clip_path, "-o", out, "--methods", "naive,short,long", *TINY)
    assert r.code == 0, r
    for name in ("naive", "short", "long", "E_1", "E_4", "E_16", "s/frame", "style loss"):
        assert name in r.out
    data = json.loads((out / "compare.json").read_text())
    assert data["format"] == "neuralpaint-compare" and data["frames"] == 5 and data["size"] == [36, 48]
    assert data["columns"] == COLUMNS and [row["method"] for row in data["table"]] == ["naive", "short", "long"]
    assert set(data["methods"]) == {"naive", "short", "long"}
    for m in data["methods"].values():
        assert m["seconds_per_frame"] > 0 and m["style_loss"] > 0 and m["content_loss"] >= 0
        assert set(m["E"]) == {"1", "2", "4", "8", "16"} and m["E"]["8"] is None and m["E"]["16"] is None
        assert m["E"]["1"] >= 0 and len(m["per_frame"]["1"]) == 5
        assert (out / m["output"]).is_file() and (out / m["work_dir"] / "manifest.json").is_file()
        assert len(m["records"]) == 5
    # the measures beside E_k: one source E_k for all, each method's ratio, shares, drifts
    assert data["source"]["E"]["1"] > 0 and len(data["source"]["per_frame"]["1"]) == 5
    for row in data["table"]:
        m = data["methods"][row["method"]]
        assert row["E_1_vs_source"] == pytest.approx(m["E"]["1"] / data["source"]["E"]["1"])
        assert 0 <= row["unstylised_last"] <= 1 and row["sharpness_last"] > 0 and row["style_drift_mean"] > 0
        assert row["unstylised_last"] == m["quality"]["unstylised"]["25"]["last"]
        assert len(m["quality"]["style"]["drift"]) == 5 and m["quality"]["style"]["drift"][0] == 1.0
        assert set(m["quality"]["disoccluded"]) == {"E", "per_frame", "coverage", "source_E"}
    for name in ("E_1 ÷ src", "unstyl. last", "sharp last", "style drift"):
        assert name in r.out
    assert data["methods"]["naive"]["options"]["temporal_init"] is False
    assert data["methods"]["long"]["options"]["long_term"] is True
    page = check_page(out / "report.html")
    text = " ".join(page.text)
    assert "naive" in text and "E_1" in text and "untrained" in text
    assert "Beyond the warping error" in text and "source E_1" in text
    assert len(page.images) >= 7

    # the same command again resumes every method: nothing is optimised again
    r2 = cli("compare", clip_path, "-o", out, "--methods", "naive,short,long", *TINY)
    assert r2.code == 0, r2
    again = json.loads((out / "compare.json").read_text())
    for name in data["methods"]:
        assert again["methods"][name]["records"] == data["methods"][name]["records"]
        assert again["methods"][name]["E"] == data["methods"][name]["E"]


def test_fast_method(clip_path, tmp_path):
    pytest.importorskip("neuralpaint.fast.train")
    pytest.importorskip("neuralpaint.fast.infer")
    res = compare(clip_path, None, tmp_path / "f", methods="fast,fast-blend", fast_steps=1, size=48,
                  weights="random", device="cpu")
    assert set(res.methods) == {"fast", "fast-blend"}
    for m in res.methods.values():
        assert len(m.frames) == 5 and m.frames[0].shape == (36, 48, 3)
        assert m.train_seconds is not None and m.warping.E[1] is not None and m.losses.style > 0
    assert (tmp_path / "f" / "fast" / "model.pt").is_file()
    check_page(res.report_path)
    # a given model is used as is (no training)
    res2 = compare(clip_path, None, tmp_path / "g", methods=["fast"], fast_model=tmp_path / "f" / "fast" / "model.pt",
                   size=48, weights="random", device="cpu", write_report=False)
    assert res2.methods["fast"].train_seconds is None and not (tmp_path / "g" / "fast" / "model.pt").exists()
    assert res2.methods["fast"].warping.E == res.methods["fast"].warping.E


def test_coherent_row_runs_online_with_the_same_network_as_the_fast_rows(clip_path, tmp_path, cli):
    from neuralpaint.fast.checkpoint import save_checkpoint
    from neuralpaint.fast.coherent import CoherentNet

    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    cnet = CoherentNet()
    with torch.no_grad():  # a mask of 1: every later frame reuses the warped previous features
        cnet.mask.body[-1].weight.zero_()
        cnet.mask.body[-1].bias.fill_(30.0)
    model = save_checkpoint(tmp_path / "c.pt", cnet.net, {}, 1, mask=cnet.mask)
    res = compare(clip_path, None, tmp_path / "c", methods="fast,coherent", coherent_model=model, size=48,
                  weights="random", device="cpu")
    fast, coherent = res.methods["fast"], res.methods["coherent"]
    assert fast.train_seconds is None and not (tmp_path / "c" / "fast" / "model.pt").exists()
    assert (coherent.frames[0] == fast.frames[0]).all()  # the first frame is the per-frame output
    assert coherent.warping.E[1] < fast.warping.E[1]  # reusing the warped features steadies the pan
    assert len(list((tmp_path / "c" / "coherent" / "masks").glob("mask_*.png"))) == 4
    check_page(res.report_path)
    with pytest.raises(InputError, match="--coherent-model"):
        compare(clip_path, None, tmp_path / "d", methods="coherent", size=48, weights="random")
    r = cli("compare", clip_path, "-o", tmp_path / "e", "--methods", "coherent", "--coherent-model",
            tmp_path / "none.pt", *TINY)
    assert r.code == 2 and r.err.startswith("error:") and "none.pt" in r.err, r


def test_bad_input(clip_path, tmp_path, cli):
    with pytest.raises(InputError, match="unknown method 'magic'"):
        parse_methods("naive,magic")
    with pytest.raises(InputError, match="twice"):
        parse_methods("naive,naive")
    with pytest.raises(InputError, match="does not exist"):
        compare(tmp_path / "missing.gif", methods="naive")
    with pytest.raises(InputError, match="passes of at least 2, got 1"):
        compare(clip_path, out_dir=tmp_path / "x", methods="multipass", passes=1)
    with pytest.raises(InputError, match="sets temporal_init per method"):
        compare(clip_path, out_dir=tmp_path / "x", methods="naive", temporal_init=True)
    for args, needle in [
        (["--methods", "naive,magic"], "magic"),
        (["--eval-offsets", "0,1"], "0"),
        (["--fast-model", str(tmp_path / "none.pt")], "none.pt"),
        (["--methods", "multipass", "--passes", "1"], "passes"),
    ]:
        r = cli("compare", clip_path, "-o", tmp_path / "y", *args, *TINY)
        assert r.code == 2 and r.err.startswith("error:") and needle in r.err and "Traceback" not in r.err, r
    r = cli("compare", tmp_path / "missing.gif", *TINY)
    assert r.code == 2 and "missing.gif" in r.err
