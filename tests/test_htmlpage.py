"""neuralpaint.htmlpage: the one HTML page builder (escaping, offline images, plots)."""

from __future__ import annotations

from neuralpaint.htmlpage import _CSS, Page, line_plot, pick_frames
from pageutil import open_page


def test_page_building_escapes_and_formats(tmp_path):
    page = Page(tmp_path / "p.html", "a <title> & more")
    page.table(["name", "value"], [["<script>", 1.234567], ["x", None], ["y", 3]], caption="c&c")
    page.note("<b>careful</b>")
    line_plot(page.asset("plot.png"), {"s": ([1, 2, 3], [1.0, None, 3.0])}, title="t", xlabel="x", ylabel="y")
    page.image(page.files[-1], "a plot")
    page.write()
    html = (tmp_path / "p.html").read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;careful" in html
    assert "1.235" in html and "—" in html and "c&amp;c" in html
    open_page(tmp_path / "p.html")
    assert pick_frames(10, 3) == [0, 4, 9] or pick_frames(10, 3) == [0, 5, 9]
    assert pick_frames(2, 3) == [0, 1] and pick_frames(0) == []


def test_definition_values_wrap_so_the_settings_row_fits_the_window(tmp_path):
    page = Page(tmp_path / "p.html", "t")
    page.definitions([("settings", ", ".join(f"option_{i} {i * 1e6}" for i in range(40)))])
    text = page.write().read_text()
    assert '<td class="l wrap">' in text
    assert "td.wrap{white-space:normal;overflow-wrap:anywhere}" in _CSS
