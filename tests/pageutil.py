"""Reading a written HTML page back in tests: its images, links and text."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote


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
