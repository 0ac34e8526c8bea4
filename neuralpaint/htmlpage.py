"""HTML report pages (``neuralpaint compare`` and ``neuralpaint report``): self-contained, offline.

A :class:`Page` collects headings, paragraphs, tables and images and writes one HTML file with
its images as PNG files in a folder beside it (``report.html`` + ``report_files/``), referenced
by relative URLs: the page opens from disk, needs no network and no JavaScript, and the pair can
be copied anywhere together. Every piece of text is escaped with :func:`html.escape`. The HTML is
written atomically after its images.

Plots use matplotlib's object API with the Agg canvas (no pyplot, no global backend switch).
"""

from __future__ import annotations

import html
import math
import os
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence, Union
from urllib.parse import quote

import numpy as np

from . import atomic, media

Number = Union[int, float, None]

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1200px;
padding:0 1em;color:#222;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right;white-space:nowrap}
th{background:#f3f3f3}td.l,th.l{text-align:left}
td.wrap{white-space:normal;overflow-wrap:anywhere}
caption{caption-side:top;text-align:left;font-weight:600;padding:.3em 0}
figure{margin:.8em 0}figcaption{font-size:.9em;color:#555}
img{max-width:100%;image-rendering:auto}img.pixel{image-rendering:pixelated}
.note{background:#fff6d6;border:1px solid #e8d48a;padding:.5em .8em;border-radius:4px}
.muted{color:#666;font-size:.9em}code{background:#f3f3f3;padding:0 .2em}
"""


def esc(value: Any) -> str:
    """Text for HTML (``html.escape`` with quotes)."""
    return html.escape(str(value), quote=True)


def fmt(value: Number, digits: int = 4) -> str:
    """A number for a table: ``—`` for None/NaN, integers as is, floats with ``digits`` digits."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    v = float(value)
    if not math.isfinite(v):
        return "—"
    return f"{v:.{digits}g}"


def assets_dir(page: Path) -> Path:
    """The image folder of a page: ``report.html`` -> ``report_files``."""
    return page.with_name(f"{page.stem}_files")


class Page:
    """An HTML page under construction; :meth:`write` writes it to ``path``."""

    def __init__(self, path: Union[str, os.PathLike], title: str, *, css: str = "",
                 footer: Optional[str] = None):
        self.path = Path(path)
        self.title = title
        self.assets = assets_dir(self.path)
        self.parts: list[str] = []
        self.files: list[Path] = []
        #: extra markup for <head> (the live preview's refresh tag)
        self.head: list[str] = []
        #: style rules after the shared ones (a sweep's contact sheet)
        self.css = css
        #: the closing line (default: where the page's images are)
        self.footer = footer

    # -- content ------------------------------------------------------------------------------

    def heading(self, text: str, level: int = 2) -> None:
        level = min(max(int(level), 1), 6)
        self.parts.append(f"<h{level}>{esc(text)}</h{level}>")

    def paragraph(self, text: str, cls: Optional[str] = None) -> None:
        attr = f' class="{esc(cls)}"' if cls else ""
        self.parts.append(f"<p{attr}>{esc(text)}</p>")

    def note(self, text: str) -> None:
        """A highlighted remark (missing source, untrained weights, ...)."""
        self.parts.append(f'<p class="note">{esc(text)}</p>')

    def definitions(self, items: Iterable[tuple[str, Any]]) -> None:
        """A two-column key/value table."""
        # values wrap (a run's settings are one long line): the page stays inside its window
        rows = "".join(f'<tr><th class="l">{esc(k)}</th><td class="l wrap">{esc(v)}</td></tr>' for k, v in items)
        self.parts.append(f"<table>{rows}</table>")

    def table(self, headers: Sequence[str], rows: Iterable[Sequence[Any]], caption: Optional[str] = None,
              left: int = 1) -> None:
        """A table; the first ``left`` columns are left-aligned (labels), numbers go through
        :func:`fmt` and everything else through :func:`esc`."""
        out = ["<table>"]
        if caption:
            out.append(f"<caption>{esc(caption)}</caption>")
        out.append("<tr>" + "".join(f'<th{" class=l" if i < left else ""}>{esc(h)}</th>'
                                    for i, h in enumerate(headers)) + "</tr>")
        for row in rows:
            cells = []
            for i, v in enumerate(row):
                text = fmt(v) if (v is None or isinstance(v, (int, float))) and not isinstance(v, bool) else esc(v)
                cells.append(f'<td{" class=l" if i < left else ""}>{text}</td>')
            out.append("<tr>" + "".join(cells) + "</tr>")
        out.append("</table>")
        self.parts.append("".join(out))

    def image(self, file: Path, alt: str, caption: Optional[str] = None, pixelated: bool = False) -> None:
        """Show an image file that lies in (or under) the page's folder."""
        rel = os.path.relpath(Path(file), self.path.parent)
        src = quote(Path(rel).as_posix())
        cls = ' class="pixel"' if pixelated else ""
        cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
        self.parts.append(f'<figure><img src="{src}" alt="{esc(alt)}"{cls}>{cap}</figure>')

    def markup(self, html_text: str) -> None:
        """Markup made by the caller (an inline SVG): it must escape its own text with :func:`esc`."""
        self.parts.append(html_text)

    def asset(self, name: str) -> Path:
        """Path of a new image file ``name`` in the page's image folder."""
        p = self.assets / name
        self.files.append(p)
        return p

    # -- output -------------------------------------------------------------------------------

    def render(self) -> str:
        body = "\n".join(self.parts)
        footer = (self.footer if self.footer is not None else
                  f"Made by neuralpaint. Readable offline: images are in {self.assets.name}/ beside this file.")
        return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
                f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
                f"{''.join(self.head)}"
                f"<title>{esc(self.title)}</title>\n<style>{_CSS}{self.css}</style>\n</head>\n<body>\n"
                f"<h1>{esc(self.title)}</h1>\n{body}\n"
                f'<p class="muted">{esc(footer)}</p>\n</body>\n</html>\n')

    def write(self) -> Path:
        """Write the HTML atomically (its images must have been written already)."""
        atomic.write_text(self.path, self.render())
        return self.path


# ---------------------------------------------------------------------------------------------
# images


def _save_figure(fig: Any, path: Path) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic.atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    return path


def line_plot(path: Path, series: Mapping[str, tuple[Sequence[Number], Sequence[Number]]], *, title: str,
              xlabel: str, ylabel: str, logy: bool = False, markers: bool = True, integer_x: bool = True,
              size: tuple[float, float] = (7.0, 3.6)) -> Path:
    """One line per series (label -> (x, y)); None values leave gaps. Written atomically as PNG."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=size)
    ax = fig.add_subplot(1, 1, 1)
    drawn = 0
    for label, (xs, ys) in series.items():
        x = np.array([np.nan if v is None else float(v) for v in xs], dtype=float)
        y = np.array([np.nan if v is None else float(v) for v in ys], dtype=float)
        if logy:
            y = np.where(y > 0, y, np.nan)
        if np.isfinite(y).any():
            ax.plot(x, y, marker="o" if markers else None, markersize=3, linewidth=1.4, label=str(label))
            drawn += 1
    if logy and drawn:
        ax.set_yscale("log")
    if not drawn:
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes, color="#888")
    if integer_x:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    if drawn:
        ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return _save_figure(fig, path)


def bar_plot(path: Path, values: Mapping[str, Number], *, title: str, ylabel: str,
             size: tuple[float, float] = (7.0, 3.2)) -> Path:
    """A bar per label (None: no bar)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)
    ax = fig.add_subplot(1, 1, 1)
    labels = list(values)
    ys = [0.0 if values[k] is None else float(values[k]) for k in labels]  # type: ignore[arg-type]
    ax.bar(range(len(labels)), ys, color="#4c72b0")
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=0)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    return _save_figure(fig, path)


def grid_image(path: Path, rows: Sequence[Sequence[Optional[np.ndarray]]], col_titles: Sequence[str],
               row_titles: Sequence[str], cell_inches: float = 2.2) -> Path:
    """Frames side by side: one row per frame, one column per version (uint8 HxWx3; None: blank),
    titled; drawn with ``nearest`` interpolation so small frames stay sharp."""
    from matplotlib.figure import Figure

    n_rows, n_cols = len(rows), max(1, len(col_titles))
    first = next((im for row in rows for im in row if im is not None), None)
    aspect = (first.shape[0] / first.shape[1]) if first is not None else 0.75
    fig = Figure(figsize=(cell_inches * n_cols, cell_inches * aspect * n_rows + 0.5))
    for r, row in enumerate(rows):
        for c in range(n_cols):
            ax = fig.add_subplot(n_rows, n_cols, r * n_cols + c + 1)
            im = row[c] if c < len(row) else None
            if im is not None:
                ax.imshow(im, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(str(col_titles[c]), fontsize=9)
            if c == 0 and r < len(row_titles):
                ax.set_ylabel(str(row_titles[r]), fontsize=9)
    fig.tight_layout()
    return _save_figure(fig, path)


def save_png(path: Path, image: np.ndarray) -> Path:
    """A uint8 HxWx3 image as PNG, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    media.save_image(path, image)
    return path


def pick_frames(n: int, count: int = 3) -> list[int]:
    """Up to ``count`` frame indices spread over 0..n−1 (first, middle, last)."""
    if n <= 0:
        return []
    if n <= count:
        return list(range(n))
    return sorted({int(round(i * (n - 1) / (count - 1))) for i in range(count)})


def quality_section(page: Page, reports: Mapping[str, Any], prefix: str = "quality") -> None:
    """The measures beside E_k (:class:`neuralpaint.quality.QualityReport`, one per label): a
    table, the flags as notes and per-frame plots (images named ``<prefix>_*.png``)."""
    if not reports:
        return
    first = next(iter(reports.values()))
    k, delta = first.offsets[0], first.deltas[0]
    page.heading("Beyond the warping error")
    page.paragraph(f"E_{k} rewards a frozen, blurred or unpainted video. Beside it: the source clip's own E_{k} "
                   f"(an output far below it is frozen or blurred), the error inside the disoccluded pixels, the "
                   f"share of pixels within {delta}/255 of the photograph, the sharpness (mean |Laplacian| of the "
                   f"luminance) and the style loss of each frame relative to frame 1. Definitions: docs/metrics.md.",
                   cls="muted")
    rows = []
    for label, q in reports.items():
        rows.append([label, q.E.get(k), q.source_E.get(k), q.ratio(k), q.disoccluded_E.get(k),
                     q.source_disoccluded_E.get(k), q.unstylised_last(delta), q.unstylised_mean(delta),
                     q.sharpness_last, q.style_drift_mean])
    page.table(["", f"E_{k}", f"source E_{k}", "÷ source", f"disoccluded E_{k}", "source disoccluded",
                f"unstylised (last, {delta}/255)", "unstylised (mean)", "sharpness last ÷ first",
                "style loss ÷ frame 1 (mean)"], rows,
               caption="— : not measured (no pair, no style loss network, or a missing frame)")
    for label, q in reports.items():
        for flag in q.flags():
            page.note(f"{label}: {flag}")
    frames_x = list(range(1, first.frames + 1))
    plots = [("unstylised", f"unstylised share per frame (within {delta}/255 of the source)", "share",
              lambda q: q.unstylised[delta]),
             ("sharpness", "sharpness ÷ frame 1's", "ratio", lambda q: q.sharpness_drift),
             ("disoccluded", f"error inside disoccluded pixels, k = {k}", f"D_{k}",
              lambda q: q.disoccluded.get(k) or [None] * q.frames)]
    if any(q.style for q in reports.values()):
        plots.append(("style", "style loss ÷ frame 1's", "ratio", lambda q: q.style_drift or [None] * q.frames))
    for name, title, ylabel, values in plots:
        series = {label: (frames_x, values(q)) for label, q in reports.items()}
        line_plot(page.asset(f"{prefix}_{name}.png"), series, title=title, xlabel="frame", ylabel=ylabel)
        page.image(page.files[-1], title)


__all__ = ["Page", "esc", "fmt", "assets_dir", "line_plot", "bar_plot", "grid_image", "save_png", "pick_frames",
           "quality_section"]
