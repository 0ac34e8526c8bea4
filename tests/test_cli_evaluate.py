"""`neuralpaint evaluate` agrees with `report` on the same run, and says why a delivered GIF/MP4
reads higher; it prints the source clip's own E_k beside the output's."""

from __future__ import annotations

import json

import pytest
from PIL import Image

import flows
from neuralpaint import media

FAST = ["--weights", "random", "--iters", "2", "--first-iters", "3", "--optimizer", "adam", "-q"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from neuralpaint.cli import main
    folder = tmp_path_factory.mktemp("evaluate")
    clip = flows.synthetic.make_clip(n_frames=4, height=32, width=48, motion="pan", seed=3)
    src = folder / "clip.gif"
    media.write_clip(src, list(clip.frames))
    style = folder / "style.png"
    Image.fromarray(clip.frames[0][::-1].copy()).save(style)
    out = folder / "out.gif"
    assert main(["video", str(src), str(style), "-o", str(out), *FAST]) == 0
    return src, out, folder / ".out.gif.neuralpaint"


def test_evaluate_on_the_run_folder_equals_the_report(run, cli, monkeypatch, tmp_path):
    import neuralpaint.quality as quality
    src, out, work = run
    seen = {}
    real = quality.quality_report

    def spy(*args, **kwargs):
        seen["report"] = res = real(*args, **kwargs)
        return res

    monkeypatch.setattr(quality, "quality_report", spy)  # report imports it when it runs
    r = cli("report", work, "-o", tmp_path / "r.html", "--offsets", "1,2", "-q")
    assert r.code == 0, r
    monkeypatch.setattr(quality, "quality_report", real)
    r = cli("evaluate", work, src, "--offsets", "1,2", "--json")
    assert r.code == 0, r
    data = json.loads(r.out)
    for k in (1, 2):
        assert data["E"][str(k)] == pytest.approx(seen["report"].E[k], rel=1e-9, abs=1e-12)


def test_delivered_gif_says_why_it_reads_higher_and_shows_the_source_e(run, cli):
    src, out, work = run
    r = cli("evaluate", out, src, "--offsets", "1", "-q")
    assert r.code == 0, r
    assert "source E_k" in r.out
    assert "note: a GIF keeps at most 256 colours" in r.out
    data = json.loads(cli("evaluate", out, src, "--offsets", "1", "--json").out)
    own = json.loads(cli("evaluate", src, src, "--offsets", "1", "--json").out)
    assert data["source"]["E"]["1"] == pytest.approx(own["E"]["1"])  # the source measured as an output
    assert own["source"]["E"] == own["E"]
