"""Parameter sweeps: TOML validation, local and Ray executors, results, page, resume, retry."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from neuralpaint.errors import InputError
from neuralpaint.sweep import config, run_sweep
from neuralpaint.sweep.cli import main as sweep_main

REPO = Path(__file__).resolve().parent.parent


GRID_2X2 = """
title = "tiny"
inputs = ["content.png"]
styles = ["style.png"]
[options]
size = 24
iters = 2
weights = "random"
device = "cpu"
[grid]
style_weight = [1e5, 1e6]
optimizer = ["lbfgs", "adam"]
"""


def write_toml(folder: Path, text: str, name: str = "sweep.toml") -> Path:
    p = folder / name
    p.write_text(text, encoding="utf-8")
    return p


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "img" and a.get("src"):
            self.refs.append(a["src"])
        if tag == "a" and a.get("href"):
            self.refs.append(a["href"])


def page_refs(index: Path) -> list[str]:
    p = _Links()
    p.feed(index.read_text(encoding="utf-8"))
    return p.refs


def csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def check_outputs(out: Path, n: int) -> None:
    rows = csv_rows(out / "results.csv")
    data = json.loads((out / "results.json").read_text())
    assert len(rows) == n and len(data["runs"]) == n
    assert all(r["status"] == "done" for r in rows), rows
    assert {r["optimizer"] for r in rows} == {"lbfgs", "adam"}
    assert {float(r["style_weight"]) for r in rows} == {1e5, 1e6}
    assert all(float(r["loss"]) > 0 and float(r["seconds"]) > 0 for r in rows)
    refs = page_refs(out / "index.html")
    images = [r for r in refs if r.endswith(".png")]
    assert len([r for r in images if r.startswith("runs/")]) >= n  # one thumbnail per run
    assert any(r.startswith("plots/") for r in images)
    for r in refs:
        assert (out / r).exists(), r


def test_local_sweep_results_page_and_resume(tmp_path, tiny_images):
    write_toml(tmp_path, GRID_2X2)
    summary = run_sweep(tmp_path / "sweep.toml")
    out = tmp_path / "sweep_sweep"
    assert summary.output == out and summary.ran == 4 and summary.failed == 0
    check_outputs(out, 4)
    for rec in summary.records:
        assert Image.open(out / "runs" / rec["id"] / "output.png").size == (24, 18)
        assert rec["settings"]["style_weight"] == rec["varied"]["style_weight"]
    before = {r["id"]: (r["started"], r["seconds"]) for r in summary.records}
    marks = {p: p.stat().st_mtime_ns for p in out.glob("runs/*/output.png")}

    again = run_sweep(tmp_path / "sweep.toml")  # resume: nothing left to do
    assert again.ran == 0 and again.skipped == 4
    assert {r["id"]: (r["started"], r["seconds"]) for r in again.records} == before
    assert {p: p.stat().st_mtime_ns for p in out.glob("runs/*/output.png")} == marks
    check_outputs(out, 4)


def test_failed_run_recorded_then_retried(tmp_path, tiny_images, capsys):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not a png at all")
    write_toml(tmp_path, """
inputs = ["content.png", "broken.png"]
styles = ["style.png"]
output = "out"
[options]
size = 24
iters = 1
weights = "random"
""")
    s = run_sweep(tmp_path / "sweep.toml")
    by_input = {r["input"]: r for r in s.records}
    assert s.failed == 1 and by_input["content.png"]["status"] == "done"
    failed = by_input["broken.png"]
    assert failed["status"] == "failed" and "broken.png" in failed["error"]
    row = [r for r in csv_rows(tmp_path / "out" / "results.csv") if r["input"] == "broken.png"][0]
    assert row["status"] == "failed" and "broken.png" in row["error"]
    assert "failed" in (tmp_path / "out" / "index.html").read_text()

    s2 = run_sweep(tmp_path / "sweep.toml")  # without --retry-failed: kept, not run
    assert s2.ran == 0 and s2.failed == 1

    Image.fromarray(np.full((20, 30, 3), 128, np.uint8)).save(bad)
    capsys.readouterr()
    code = sweep_main([str(tmp_path / "sweep.toml"), "--retry-failed", "-q"])
    assert code == 0, capsys.readouterr()
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    assert [r["status"] for r in data["runs"]] == ["done", "done"]
    ran = [r for r in data["runs"] if r["input"] == "broken.png"][0]
    assert ran["error"] is None and (tmp_path / "out" / ran["folder"] / "output.png").exists()


def test_bad_key_named(tmp_path, tiny_images, capsys):
    p = write_toml(tmp_path, GRID_2X2.replace("style_weight = [1e5", "stlye_weight = [1e5"))
    with pytest.raises(InputError, match="stlye_weight") as exc:
        config.load(p)
    assert "grid.stlye_weight" in str(exc.value) and "style_weight" in str(exc.value)
    assert str(p) in str(exc.value)
    assert sweep_main([str(p)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "grid.stlye_weight" in err[0]
    assert not (tmp_path / "sweep_sweep").exists()


def test_script_runs_from_repo_root(tmp_path, tiny_images):
    p = write_toml(tmp_path, GRID_2X2.replace("[grid]", "[grid]\nnot_an_option = [1]"))
    r = subprocess.run([sys.executable, "scripts/sweep.py", str(p)], cwd=REPO, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {p}: unknown key 'grid.not_an_option'"), r.stderr


@pytest.mark.parametrize("text, match", [
    ('inputs = ["content.png"]\ncolour = 1', r"unknown key 'colour'"),
    ('inputs = ["content.png"]\n[options]\nsize = 128.0', r"options\.size must be an integer, got 128\.0"),
    ('inputs = ["content.png"]\n[options]\nsize = "128"', r"options\.size must be an integer, got '128'"),
    # types as the settings fields declare them (optional, tuple and bool fields too)
    ('inputs = ["content.png"]\n[options]\nlr = "x"', r"options\.lr must be a number, got 'x'"),
    ('inputs = ["content.png"]\n[options]\nstyle_blend = [0.5, "a"]',
     r"options\.style_blend\[1\] must be a number, got 'a'"),
    ('inputs = ["content.png"]\n[options]\nstyle_layers = "relu1_1"',
     r"options\.style_layers must be a list, got 'relu1_1'"),
    ('inputs = ["content.png"]\n[options]\npreserve_colors = 1',
     r"options\.preserve_colors must be true or false, got 1"),
    ('inputs = ["content.png"]\n[grid]\noptimizer = ["lbfgs", "sgd"]', r"grid\.optimizer\[1\].*'sgd'"),
    ('inputs = ["content.png"]\n[grid]\nstyle_weight = 1e5', r"grid\.style_weight must be a non-empty list"),
    ('inputs = ["content.png"]\n[grid]\nstyle_weight = [-1.0]', r"grid\.style_weight\[0\].*-1"),
    ('inputs = ["content.png"]\n[options]\ntemporal_weight = 1.0', r"options\.temporal_weight.*video option"),
    ('inputs = ["content.png"]\n[[runs]]\nitres = 3', r"unknown key 'runs\[0\]\.itres' \(did you mean 'iters'\?\)"),
    ('inputs = ["missing.png"]', r"inputs\[0\]: input 'missing.png' does not exist"),
    ('inputs = ["content.png"]\n[options]\nsize = 16\nscales = 3', r"scales"),
    ('inputs = ["content.png"]\n[options]\nsize = 32\n[grid]\nsize = [16]', r"grid\.size is also set in \[options\]"),
    ('inputs = ["content.png"]\nstyles = [', r"not valid TOML"),
])
def test_validation_messages(tmp_path, tiny_images, text, match):
    p = write_toml(tmp_path, text.replace("content.png", tiny_images[0].name))
    with pytest.raises(InputError, match=match):
        config.load(p)


def test_schema_expansion(tmp_path, tiny_images):
    (tmp_path / "clip.gif").write_bytes(b"GIF89a")  # only its name matters to the parser
    p = write_toml(tmp_path, """
inputs = ["content.png", "clip.gif"]
styles = ["style.png", ["style.png", "content.png"]]
[options]
size = 32
[grid]
temporal_weight = [0.0, 100.0]
offsets = [1, 2]
[[runs]]
iters = 5
later_iters = 5
[[runs]]
iters = 10
later_iters = 10
""")
    sw = config.load(p)
    assert sw.parameters == ["input", "style", "iters", "later_iters", "temporal_weight", "offsets"]
    videos = [r for r in sw.runs if r.kind == "video"]
    images = [r for r in sw.runs if r.kind == "image"]
    assert len(videos) == 2 * 2 * 2 * 2 and len(images) == 2 * 2  # video axes do not multiply images
    assert {tuple(r.options["offsets"]) for r in videos} == {(1,), (2,)}
    assert all("temporal_weight" not in r.options and "later_iters" not in r.options for r in images)
    # an image's cap is not a video's: each kind keeps only its own
    assert all("iters" not in r.options and r.varied["iters"] is None for r in videos)
    assert {r.options["later_iters"] for r in videos} == {5, 10} and {r.options["iters"] for r in images} == {5, 10}
    assert len({r.id for r in sw.runs}) == len(sw.runs)
    assert config.load(p).runs[3].id == sw.runs[3].id  # stable names
    assert all(r.id.startswith(("content_", "clip_")) for r in sw.runs)


def test_local_pool_two_workers(tmp_path, tiny_images):
    write_toml(tmp_path, GRID_2X2.replace('optimizer = ["lbfgs", "adam"]', ""))
    s = run_sweep(tmp_path / "sweep.toml", tmp_path / "o", max_parallel=2, page=False)
    assert s.ran == 2 and s.failed == 0
    assert len({r["host"] for r in s.records}) == 1
    assert all((tmp_path / "o" / "runs" / r["id"] / "output.png").exists() for r in s.records)


@pytest.mark.ray
def test_ray_executor(tmp_path, tiny_images):
    ray = pytest.importorskip("ray")
    write_toml(tmp_path, GRID_2X2)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        s = run_sweep(tmp_path / "sweep.toml", executor="ray")
    finally:
        ray.shutdown()
    assert s.ran == 4 and s.failed == 0, [r.get("error") for r in s.records]
    check_outputs(tmp_path / "sweep_sweep", 4)


def test_ray_missing_message(monkeypatch):
    import builtins

    from neuralpaint.sweep import executors
    real = builtins.__import__

    def fake(name, *a, **k):
        if name == "ray":
            raise ImportError("no ray")
        return real(name, *a, **k)
    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(InputError, match=r"pip install 'neuralpaint\[ray\]'"):
        executors.make_executor("ray")


def test_clip_sweep_measures_warping_error(tmp_path):
    from flows import synthetic
    from mediautil import write_gif
    clip = synthetic.make_clip(n_frames=4, height=24, width=32, motion="pan", seed=1)
    write_gif(tmp_path / "clip.gif", clip.frames, [50, 70, 90, 110])
    Image.fromarray(clip.frames[0]).save(tmp_path / "style.png")
    write_toml(tmp_path, """
inputs = ["clip.gif"]
styles = ["style.png"]
offsets = [1, 2]
[options]
size = 32
later_iters = 2
first_iters = 3
weights = "random"
[grid]
temporal_weight = [0.0, 100.0]
""")
    s = run_sweep(tmp_path / "sweep.toml", page=True)
    assert s.failed == 0, [r["error"] for r in s.records]
    rows = csv_rows(tmp_path / "sweep_sweep" / "results.csv")
    assert [r["temporal_weight"] for r in rows] == ["0", "100"]
    for r in rows:
        assert float(r["E1"]) >= 0 and float(r["E2"]) >= 0 and r["output"].endswith("output.gif")
    from neuralpaint import media
    out = media.read_clip(tmp_path / "sweep_sweep" / rows[0]["output"])
    assert out.durations_ms == [50, 70, 90, 110]
    assert (tmp_path / "sweep_sweep" / "plots" / "temporal_weight.png").exists()


def _page_sweep(tmp_path):
    (tmp_path / "c.png").write_bytes(b"")
    data = {"inputs": ["c.png"], "styles": ["c.png"], "options": {"weights": "random"},
            "grid": {"style_weight": [1e5, 1e6], "optimizer": ["lbfgs", "adam"]}}
    return config.parse(data, tmp_path / "s.toml", tmp_path)


def test_page_of_a_sweep_whose_runs_all_failed(tmp_path):
    from neuralpaint.sweep.page import write_page
    sweep = _page_sweep(tmp_path)
    long_error = "InputError: weights file " + "/very/long/path/" * 12 + "vgg19.pth does not exist"
    records = [{"id": r.id, "status": "failed", "error": long_error, "varied": r.varied,
                "input": "c.png", "style": "c.png"} for r in sweep.runs]
    html_text = write_page(tmp_path / "out", sweep, records).read_text()
    assert "No varied numeric parameter" not in html_text
    assert "No plots: no run finished" in html_text
    assert "overflow-wrap: anywhere" in html_text  # long errors wrap inside their cell


def test_sweep_plots_fit_a_1280_px_window(tmp_path):
    from neuralpaint.sweep.page import write_page
    sweep = _page_sweep(tmp_path)
    records = [{"id": r.id, "status": "done", "varied": r.varied, "input": "c.png", "style": "c.png",
                "output": "o.png", "loss": 1.0 + i, "seconds": 2.0 + i, "E": {"1": 0.1 * (i + 1), "2": 0.2}}
               for i, r in enumerate(sweep.runs)]
    write_page(tmp_path / "out", sweep, records)
    widths = [Image.open(p).size[0] for p in (tmp_path / "out" / "plots").glob("*.png")]
    assert widths and max(widths) <= 1280 - 2 * 24, widths  # four metrics side by side, body margins
    assert "figure img { max-width: 100%" in (tmp_path / "out" / "index.html").read_text()


def test_example_sweep_does_not_write_into_examples():
    sweep = config.load(REPO / "examples" / "sweep.toml")
    out = sweep.output.resolve()
    assert (REPO / "examples").resolve() not in (out, *out.parents), out


def test_sweep_progress_lines_show_an_overall_eta(capsys, monkeypatch):
    import time as time_module

    from neuralpaint.sweep.cli import _printer
    from neuralpaint.sweep.core import RunFinished, SweepPlanned
    now = [100.0]
    monkeypatch.setattr(time_module, "monotonic", lambda: now[0])
    cb = _printer(quiet=False)
    cb(SweepPlanned(total=4, todo=4, done=0, failed=0, executor="local", output="o"))
    now[0] = 130.0
    cb(RunFinished(index=1, todo=4, run_id="a", status="done", seconds=30.0, error=None))
    now[0] = 160.0
    cb(RunFinished(index=4, todo=4, run_id="b", status="done", seconds=30.0, error=None))
    lines = capsys.readouterr().err.splitlines()
    assert lines[1] == "[1/4] done a  30.0s  ETA 1:30" and lines[2] == "[4/4] done b  30.0s", lines


def test_an_image_cap_on_a_sweep_of_videos_only_is_refused(tmp_path):
    (tmp_path / "clip.gif").write_bytes(b"GIF89a")  # only its name matters to the parser
    p = write_toml(tmp_path, 'inputs = ["clip.gif"]\n[options]\niters = 50\n')
    with pytest.raises(InputError, match=r"options\.iters: 'iters' caps an image, but every input is a video: "
                                         r"a video's frames take later_iters and first_iters"):
        config.load(p)
