"""neuralpaint.report and ``neuralpaint report RUN_DIR``: offline HTML pages."""

from __future__ import annotations

import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pytest

import flows
import neuralpaint.cli.report  # noqa: F401  (registers the command)
import json

from neuralpaint import media, report
from neuralpaint.errors import InputError
from neuralpaint.video import stylize_video


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.images = 0
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.images += tag == "img"
        self.refs += [a[k] for k in ("src", "href") if a.get(k)]

    def handle_data(self, data):
        self.text.append(data)


def open_page(path: Path) -> tuple[Page, str]:
    """Parse the page, check that every file it references exists; returns (parser, its text)."""
    html = path.read_text(encoding="utf-8")
    p = Page()
    p.feed(html)
    p.close()
    assert p.images > 0
    for ref in p.refs:
        assert "://" not in ref and not ref.startswith("/"), ref
        assert (path.parent / unquote(ref)).is_file(), ref
    assert not [f for f in path.parent.iterdir() if f.name.startswith(".") and ".tmp" in f.name]
    return p, " ".join(" ".join(p.text).split())


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A finished 3-frame video run in a folder whose name needs escaping; (clip, run_dir)."""
    folder = tmp_path_factory.mktemp("report")
    clip = flows.synthetic.make_clip(n_frames=3, height=24, width=32, motion="pan", seed=4)
    src = folder / "clip.gif"
    media.write_clip(src, clip.frames)
    work = folder / "run <b>&"
    stylize_video(src, [], folder / "out.gif", work_dir=work, weights="random", size=32, iters=3,
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


def test_page_building_escapes_and_formats(tmp_path):
    page = report.Page(tmp_path / "p.html", "a <title> & more")
    page.table(["name", "value"], [["<script>", 1.234567], ["x", None], ["y", 3]], caption="c&c")
    page.note("<b>careful</b>")
    report.line_plot(page.asset("plot.png"), {"s": ([1, 2, 3], [1.0, None, 3.0])}, title="t", xlabel="x", ylabel="y")
    page.image(page.files[-1], "a plot")
    page.write()
    html = (tmp_path / "p.html").read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;careful" in html
    assert "1.235" in html and "—" in html and "c&amp;c" in html
    open_page(tmp_path / "p.html")
    assert report.pick_frames(10, 3) == [0, 4, 9] or report.pick_frames(10, 3) == [0, 5, 9]
    assert report.pick_frames(2, 3) == [0, 1] and report.pick_frames(0) == []


def test_definition_values_wrap_so_the_settings_row_fits_the_window(tmp_path):
    from neuralpaint.htmlpage import _CSS, Page
    page = Page(tmp_path / "p.html", "t")
    page.definitions([("settings", ", ".join(f"option_{i} {i * 1e6}" for i in range(40)))])
    text = page.write().read_text()
    assert '<td class="l wrap">' in text
    assert "td.wrap{white-space:normal;overflow-wrap:anywhere}" in _CSS
