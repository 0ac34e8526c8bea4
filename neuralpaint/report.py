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

from . import atomic, media, runstate

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


# ---------------------------------------------------------------------------------------------
# the page of one video run folder (``neuralpaint report RUN_DIR``)


RUN_FORMAT = "neuralpaint-run"


def read_manifest(run_dir: Path) -> dict[str, Any]:
    """The manifest of a run folder; :class:`InputError` for a folder that is not one."""
    import json

    from .errors import InputError

    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise InputError(f"run folder {str(run_dir)!r} does not exist")
    if not run_dir.is_dir():
        raise InputError(f"run folder {str(run_dir)!r} is not a folder (give the --work-dir of a video run)")
    path = run_dir / "manifest.json"
    if not path.is_file():
        raise InputError(f"{str(run_dir)!r} has no manifest.json: it is not a neuralpaint run folder")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"manifest {str(path)!r} is unreadable ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != RUN_FORMAT:
        raise InputError(f"{str(path)!r} is not a neuralpaint run manifest")
    return data


def _recorded_source(manifest: Mapping[str, Any]) -> Optional[Path]:
    """The source clip if the manifest names one (identity.input.path or a top-level source)."""
    ident = manifest.get("identity") if isinstance(manifest.get("identity"), dict) else {}
    inp = ident.get("input") if isinstance(ident.get("input"), dict) else {}
    for value in (inp.get("path"), manifest.get("source"), ident.get("source")):
        if isinstance(value, str) and value:
            return Path(value)
    return None


def run_report(run_dir: Union[str, os.PathLike], output: Union[str, os.PathLike, None] = None,
               source: Union[str, os.PathLike, None] = None, offsets: Sequence[int] = (1,),
               callback: Any = None, style: Union[str, os.PathLike, Sequence[Union[str, os.PathLike]], None] = None
               ) -> Path:
    """Write the HTML page of a video run folder: per-frame iterations, losses, stopping reasons,
    times, plots, frames, and E_k (default E_1) of the frames in ``RUN_DIR/frames`` against the
    source clip — ``source`` if given, else the one the manifest names. When there is no source,
    it is gone, or it is not the clip the run was made from, the page says so instead.
    With the source, the measures of :mod:`neuralpaint.quality` too; their style-loss drift uses
    the run's own style image(s) (``style`` if given, else those the manifest names, checked
    against the run's fingerprints) and the run's VGG and loss settings.
    Written atomically to ``output`` (default ``RUN_DIR/report.html``)."""
    from .metrics import SourceFlows, check_offsets
    from .quality import quality_report
    from .runstate import frame_name

    run_dir = Path(run_dir)
    if not (run_dir / "manifest.json").exists() and (run_dir / "masks").is_dir():  # video --fast, coherent
        from .fast.masks_page import masks_report
        return masks_report(run_dir, output)
    manifest = read_manifest(run_dir)
    offsets = check_offsets(offsets, "--offsets")
    ident = manifest.get("identity") if isinstance(manifest.get("identity"), dict) else {}
    st = ident.get("settings") if isinstance(ident.get("settings"), dict) else {}
    recs = [r if isinstance(r, dict) else {} for r in (manifest.get("frames") or [])]
    shape = ident.get("frames") if isinstance(ident.get("frames"), list) and len(ident.get("frames")) == 3 else None
    n = int(shape[0]) if shape else len(recs)
    recs = (recs + [{}] * n)[:n]

    stylised: list[Optional[np.ndarray]] = []
    for t in range(n):
        p = run_dir / "frames" / frame_name(t)
        stylised.append(media.load_image(p) if p.is_file() else None)
    done = sum(f is not None for f in stylised)

    page = Page(Path(output) if output is not None else run_dir / "report.html",
                f"neuralpaint run: {run_dir.resolve().name}")
    size_text = f"{shape[2]}x{shape[1]}" if shape else "?"
    page.definitions([
        ("run folder", str(run_dir)),
        ("state", "complete" if manifest.get("complete") else f"incomplete: {done} of {n} frames rendered"),
        ("frames", f"{n} at {size_text}"),
        ("method", _method_text(st)),
        ("settings", ", ".join(f"{k} {st[k]}" for k in ("size", "iters", "first_iters", "optimizer", "weights",
                                                       "style_weight", "content_weight", "temporal_weight", "flow",
                                                       "seed") if k in st)),
    ])
    if st.get("weights") == "random":
        page.note("This run used an untrained VGG-19 (--weights random): its pictures do not resemble the style.")

    # -- the source and the warping error
    src_path = Path(source) if source is not None else _recorded_source(manifest)
    source_frames: Optional[list[np.ndarray]] = None
    werr = None
    quality = None
    if src_path is None:
        page.note("The manifest does not name the source clip (it keeps only its fingerprint), so the warping "
                  "error is not computed; run `neuralpaint report RUN_DIR --source CLIP` to add it.")
    elif not src_path.exists():
        page.note(f"The source clip {src_path} is gone, so the warping error is not computed.")
    else:
        source_frames, why = _load_source(src_path, ident, st, n, shape)
        if source_frames is None:
            page.note(f"The source clip {src_path} {why}; the warping error is not computed.")
        else:
            meter, why_not = _run_meter(manifest, ident, st, style)
            quality = quality_report(stylised, source_frames,
                                     SourceFlows.estimated(source_frames, str(st.get("flow", "dis"))), meter,
                                     offsets=offsets, callback=callback)
            werr = quality.warping
            page.paragraph(f"Source: {src_path}. Warping error with {werr.flow} flows of the source "
                           f"(mean squared difference of [0,1] RGB over the reliable pixels).", cls="muted")
            if meter is None:
                page.note(f"The style-loss drift is not computed: {why_not}.")

    # -- summary
    page.heading("Summary")
    total_it = sum(int(r.get("iterations") or 0) for r in recs)
    secs = [float(r.get("seconds") or 0) for r in recs]
    fsecs = [float(r.get("flow_seconds") or 0) for r in recs]
    iosecs = [float(r.get("io_seconds") or 0) for r in recs]
    reasons: dict[str, int] = {}
    for r in recs:
        if r.get("stop_reason"):
            reasons[str(r["stop_reason"])] = reasons.get(str(r["stop_reason"]), 0) + 1
    summary = [("iterations", total_it), ("iterations per frame", total_it / max(1, done)),
               ("optimisation s", sum(secs)), ("flow wait s", sum(fsecs)), ("I/O s", sum(iosecs)),
               ("s per frame", (sum(secs) + sum(fsecs) + sum(iosecs)) / max(1, done)),
               ("stopping", ", ".join(f"{k} {v}" for k, v in sorted(reasons.items())) or "—")]
    if werr is not None:
        summary += [(f"E_{k}", werr.E.get(k)) for k in werr.offsets]
    page.table(["", "value"], [[k, v] for k, v in summary])
    if quality is not None:
        quality_section(page, {"this run": quality})

    # -- per frame
    page.heading("Frames")
    parts = sorted({k for r in recs for k in (r.get("losses") or {})})
    k0 = offsets[0]
    e_frames = werr.per_frame.get(k0) if werr is not None else None
    rows = []
    for t, r in enumerate(recs):
        losses = r.get("losses") or {}
        row = [str(t + 1), r.get("passes_done"), r.get("iterations"), r.get("loss"),
               *[losses.get(p) for p in parts], r.get("stop_reason") or "—", r.get("seconds"),
               r.get("flow_seconds"), r.get("io_seconds")]
        if werr is not None:
            row.append(e_frames[t] if e_frames else None)
        if quality is not None:
            row += [quality.unstylised[quality.deltas[0]][t], quality.sharpness_drift[t],
                    quality.style_drift[t] if quality.style else None]
        rows.append(row)
    headers = ["frame", "passes", "iterations", "loss", *parts, "stop", "s", "flow s", "I/O s"]
    if werr is not None:
        headers.append(f"E_{k0}")
    if quality is not None:
        headers += [f"unstylised ({quality.deltas[0]}/255)", "sharpness ÷ 1", "style loss ÷ 1"]
    page.table(headers, rows)

    frames_x = list(range(1, n + 1))
    line_plot(page.asset("iterations.png"), {"iterations": (frames_x, [r.get("iterations") for r in recs])},
              title="iterations per frame", xlabel="frame", ylabel="iterations")
    page.image(page.files[-1], "iterations per frame")
    line_plot(page.asset("time.png"), {"optimisation": (frames_x, secs), "flow wait": (frames_x, fsecs),
                                       "I/O": (frames_x, iosecs)},
              title="time per frame", xlabel="frame", ylabel="seconds")
    page.image(page.files[-1], "seconds per frame")
    if parts:
        line_plot(page.asset("losses.png"), {p: (frames_x, [(r.get("losses") or {}).get(p) for r in recs])
                                             for p in parts},
                  title="final weighted loss parts per frame", xlabel="frame", ylabel="loss", logy=True)
        page.image(page.files[-1], "final loss parts per frame")
    picked = pick_frames(n, 4)
    hist = {f"frame {t + 1}": ([p[0] for p in recs[t].get("history") or []],
                               [p[1] for p in recs[t].get("history") or []])
            for t in picked if recs[t].get("history")}
    if hist:
        line_plot(page.asset("loss_history.png"), hist, title="loss per iteration", xlabel="iteration",
                  ylabel="loss", logy=True)
        page.image(page.files[-1], "loss per iteration of a few frames",
                   caption="multi-pass runs: the last pass of each frame")
    if werr is not None:
        line_plot(page.asset("warping_error.png"),
                  {f"E_{k}": (frames_x, werr.per_frame.get(k) or [None] * n) for k in werr.offsets
                   if werr.per_frame.get(k) is not None},
                  title="warping error per frame", xlabel="frame", ylabel="E")
        page.image(page.files[-1], "warping error per frame")

    picked = pick_frames(n, 3)
    if picked and done:
        cols = ["source", "stylised"] if source_frames is not None else ["stylised"]
        grid = [([source_frames[t]] if source_frames is not None else []) + [stylised[t]] for t in picked]
        grid_image(page.asset("frames.png"), grid, cols, [f"frame {t + 1}" for t in picked])
        page.image(page.files[-1], "frames of the run", pixelated=True)
    return page.write()


def _run_meter(manifest: Mapping[str, Any], ident: Mapping[str, Any], st: Mapping[str, Any],
               style: Union[str, os.PathLike, Sequence[Union[str, os.PathLike]], None]) -> tuple[Any, str]:
    """A :class:`~neuralpaint.metrics.LossMeter` with the run's style(s), VGG and loss settings,
    or (None, why not). Never downloads weights: a page is no reason to fetch 550 MB."""
    from . import settings as settings_mod
    from .errors import InputError
    from .metrics import LossMeter
    from .video import _hash_style
    from .vgg import cached_path

    if style is None:
        paths = manifest.get("style_paths")
        if not isinstance(paths, list) or not paths or not all(isinstance(p, str) and p for p in paths):
            return None, "the manifest does not name the style image(s); pass --style"
    else:
        paths = [style] if isinstance(style, (str, os.PathLike)) else list(style)
    recorded = ident.get("styles") if isinstance(ident.get("styles"), list) else []
    if len(paths) != len(recorded):
        return None, f"the run used {len(recorded)} style image(s), {len(paths)} given"
    for p, fingerprint in zip(paths, recorded):
        if not Path(p).is_file():
            return None, f"the style image {p} is gone"
        if _hash_style(Path(p)) != fingerprint:
            return None, f"{p} is not the style image this run used (its fingerprint differs)"
    try:
        image_s = settings_mod.build(settings_mod.ImageSettings, st)
        model_s = settings_mod.build(settings_mod.ModelSettings, st)
        if model_s.weights in ("imagenet", "auto") and not cached_path().exists():
            return None, "the ImageNet VGG-19 file the run used is not cached here"
        return LossMeter([Path(p) for p in paths], model_s, image_s, "auto"), ""
    except (InputError, OSError, TypeError) as exc:
        return None, f"the run's loss network cannot be built here ({exc})"


def _method_text(st: Mapping[str, Any]) -> str:
    bits = []
    if st.get("temporal_init"):
        bits.append("temporal init")
    if st.get("long_term"):
        bits.append(f"long-term loss (offsets {st.get('offsets')})")
    elif st.get("short_term"):
        bits.append("short-term loss")
    if (st.get("passes") or 1) > 1:
        bits.append(f"{st.get('passes')} passes")
    return ", ".join(bits) or "independent frames"


def _load_source(path: Path, ident: Mapping[str, Any], st: Mapping[str, Any], n: int,
                 shape: Optional[Sequence[int]]) -> tuple[Optional[list[np.ndarray]], str]:
    """The source frames as the run saw them, or (None, why not)."""
    from .errors import InputError

    recorded = ident.get("input") if isinstance(ident.get("input"), dict) else {}
    try:
        now = runstate.file_identity(path)
    except InputError as exc:
        return None, f"cannot be read ({exc})"
    for key in ("size", "sha256"):
        if key in recorded and recorded.get(key) != now.get(key):
            return None, "is not the clip this run was made from (its fingerprint differs)"
    size = st.get("size") if isinstance(st.get("size"), int) else None
    if shape:  # the long side the run actually worked at (--size is a cap unless given explicitly)
        size = max(int(shape[1]), int(shape[2]))
    try:
        clip = media.read_clip(path, size=size, start=st.get("start"), end=st.get("end"))
    except InputError as exc:
        return None, f"cannot be read ({exc})"
    if len(clip.frames) != n:
        return None, f"has {len(clip.frames)} frames, the run {n}"
    if shape and tuple(clip.frames[0].shape[:2]) != (int(shape[1]), int(shape[2])):
        return None, f"reads at {clip.frames[0].shape[1]}x{clip.frames[0].shape[0]}, the run was {shape[2]}x{shape[1]}"
    return clip.frames, ""


__all__ += ["read_manifest", "run_report"]
