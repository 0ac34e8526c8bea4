"""neuralpaint.report and ``neuralpaint report RUN_DIR``: offline HTML pages."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import flows
import neuralpaint.cli.report  # noqa: F401  (registers the command)
import json

from neuralpaint import media, report
from neuralpaint.errors import InputError
from neuralpaint.video import stylize_video
from pageutil import open_page


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A finished 3-frame video run in a folder whose name needs escaping; (clip, run_dir)."""
    folder = tmp_path_factory.mktemp("report")
    clip = flows.synthetic.make_clip(n_frames=3, height=24, width=32, motion="pan", seed=4)
    src = folder / "clip.gif"
    media.write_clip(src, clip.frames)
    work = folder / "run <b>&"
    stylize_video(src, [], folder / "out.gif", work_dir=work, weights="random", size=32, later_iters=3,
                  first_iters=3, device="cpu", callback=lambda event: None)
    return src, work


def test_report_finds_the_source_named_in_the_manifest(run, cli):
    src, work = run
    r = cli("report", work, "-q")
    assert r.code == 0, r
    parser, text = open_page(work / "report.html")
    assert "E_1" in text and "does not name the source clip" not in text


def test_report_shows_the_quality_measures_with_the_runs_own_style(run, tmp_path, cli):
    src, work = run
    manifest = json.loads((work / "manifest.json").read_text())
    assert manifest["style_paths"] == [str(media.default_style_path().resolve())]
    out = tmp_path / "q.html"
    r = cli("report", work, "-o", out, "-q")
    assert r.code == 0, r
    _, text = open_page(out)
    assert "Beyond the warping error" in text and "source E_1" in text and "unstylised" in text
    assert "style-loss drift is not computed" not in text
    for name in ("unstylised", "sharpness", "disoccluded", "style"):
        assert (tmp_path / "q_files" / f"quality_{name}.png").is_file(), name
    # another image than the run's style is refused on the page, not used
    other = tmp_path / "other.png"
    media.save_image(other, np.full((16, 16, 3), 90, np.uint8))
    page = report.run_report(work, tmp_path / "o.html", style=other)
    _, text = open_page(page)
    assert "style-loss drift is not computed" in text and "is not the style image this run used" in text
    assert not (tmp_path / "o_files" / "quality_style.png").exists()
    r = cli("report", work, "--style", tmp_path / "none.png", "-q")
    assert r.code == 2 and r.err.startswith("error:") and "none.png" in r.err


def test_report_without_a_source_says_so(run, cli):
    src, work = run
    manifest = work / "manifest.json"
    data = json.loads(manifest.read_text())
    data.pop("source", None)  # a run folder written before the source was recorded
    manifest.write_text(json.dumps(data))
    r = cli("report", work, "-q")
    assert r.code == 0, r
    page = work / "report.html"
    assert r.out.strip() == str(page)
    parser, text = open_page(page)
    assert "does not name the source clip" in text and "--source" in text
    assert "frame" in text and "iterations" in text and "untrained" in text
    html = page.read_text(encoding="utf-8")
    assert "run <b>&" not in html and "run &lt;b&gt;&amp;" in html  # every text is escaped


def test_report_with_the_source_computes_the_warping_error(run, tmp_path, cli):
    src, work = run
    out = tmp_path / "pages" / "run.html"
    r = cli("report", work, "--source", src, "-o", out, "--offsets", "1,2", "-q")
    assert r.code == 0, r
    parser, text = open_page(out)
    assert (tmp_path / "pages" / "run_files" / "warping_error.png").is_file()
    assert "E_1" in text and "E_2" in text and "Warping error with estimated (dis) flows" in text


def test_report_when_the_source_is_gone_or_another_clip(run, tmp_path):
    src, work = run
    copy = tmp_path / "copy.gif"
    shutil.copy(src, copy)
    copy.unlink()
    page = report.run_report(work, tmp_path / "gone.html", source=copy)
    _, text = open_page(page)
    assert f"The source clip {copy} is gone" in text
    other = tmp_path / "other.gif"
    media.write_clip(other, [np.full((24, 32, 3), 40 * i, np.uint8) for i in range(3)])
    page = report.run_report(work, tmp_path / "other.html", source=other)
    _, text = open_page(page)
    assert "is not the clip this run was made from" in text


def test_bad_run_folders(tmp_path, cli):
    with pytest.raises(InputError, match="does not exist"):
        report.run_report(tmp_path / "missing")
    with pytest.raises(InputError, match="has no manifest.json"):
        report.run_report(tmp_path)
    (tmp_path / "manifest.json").write_text("{\"format\": \"something else\"}")
    with pytest.raises(InputError, match="not a neuralpaint run manifest"):
        report.run_report(tmp_path)
    r = cli("report", tmp_path, "-q")
    assert r.code == 2 and r.err.startswith("error:") and "Traceback" not in r.err
    r = cli("report", tmp_path / "missing", "-q")
    assert r.code == 2 and "missing" in r.err
    r = cli("report", tmp_path, "-o", tmp_path / "page.txt", "-q")
    assert r.code == 2 and "page.txt" in r.err
