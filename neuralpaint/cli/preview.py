"""``--preview``: a small self-refreshing HTML page of a running render.

Built here, in the command line, from the core's progress events (the core knows nothing of
HTML): the latest image or frame (the events' ``snapshot()``, written as a PNG at most every
``ProgressSettings.preview_seconds``), the loss curve of the image / frame being painted and, for
a video, the final loss of each finished frame (inline SVG polylines, no JavaScript), the progress
line of :class:`~neuralpaint.cli.progress.ProgressTracker` (frame i/n, iteration, ETA) and the
settings. The page reloads itself (``<meta http-equiv="refresh">``) while the render runs; the last
version says "finished" (or why it stopped) and no longer reloads.

The page is :class:`neuralpaint.report.Page` (the project's one HTML builder): ``OUT.preview.html``
beside the output ``OUT``, its image in ``OUT.preview_files/``. Beside the output, not in the run
folder: an image's run folder goes when the image is written and ``--no-keep-work`` removes a
video's, and a page open in a browser should still show the finished result. Every file is written
atomically, so a reload never sees half a PNG or half a page.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence

import numpy as np

from ..events import FrameDone, FrameStarted, IterationEvent, Notice
from ..settings import ProgressSettings
from ..settings import default as d
from .progress import ProgressTracker

#: Size of a curve's SVG (CSS pixels).
CURVE_WIDTH, CURVE_HEIGHT = 560, 200
_MARGIN = (62, 14, 24, 30)  # left, right, top, bottom


def preview_path(output: Path) -> Path:
    """The page of the render whose output is ``output``: ``OUT.preview.html`` beside it."""
    output = Path(output)
    return output.with_name(f"{output.name or 'output'}.preview.html")


def _num(v: float) -> str:
    return f"{v:.4g}"


def loss_svg(points: Sequence[tuple[float, float]], title: str, xlabel: str, logy: bool = True,
             empty: str = "no iterations yet") -> str:
    """An inline SVG line chart of (x, y) points: a polyline, the axes, the y range (log scale when
    every y is positive and ``logy``) and the x range. Non-finite points are left out."""
    from ..htmlpage import esc

    pts = [(float(x), float(y)) for x, y in points if math.isfinite(x) and math.isfinite(y)]
    w, h = CURVE_WIDTH, CURVE_HEIGHT
    left, right, top, bottom = _MARGIN
    pw, ph = w - left - right, h - top - bottom
    out = [f'<svg class="curve" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           f'viewBox="0 0 {w} {h}" role="img" aria-label="{esc(title)}">',
           f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fafafa" stroke="#bbb"/>']
    if not pts:
        out.append(f'<text x="{left + pw / 2}" y="{top + ph / 2}" text-anchor="middle" fill="#888" '
                   f'font-size="13">{esc(empty)}</text>')
    else:
        log = logy and all(y > 0 for _, y in pts)
        ys = [math.log10(y) if log else y for _, y in pts]
        xs = [x for x, _ in pts]
        x0, x1 = min(xs), max(xs)
        y0, y1 = min(ys), max(ys)
        if x1 == x0:
            x0, x1 = x0 - 0.5, x1 + 0.5
        if y1 == y0:
            pad = abs(y0) * 0.05 or 0.5
            y0, y1 = y0 - pad, y1 + pad

        def sx(x: float) -> float:
            return left + (x - x0) / (x1 - x0) * pw

        def sy(y: float) -> float:
            return top + (1 - (y - y0) / (y1 - y0)) * ph

        coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in zip(xs, ys))
        out.append(f'<polyline fill="none" stroke="#3465a4" stroke-width="2" points="{coords}"/>')
        lx, ly = sx(xs[-1]), sy(ys[-1])
        out.append(f'<circle cx="{lx:.1f}" cy="{ly:.1f}" r="3.5" fill="#c4314b"/>')
        hi = 10 ** y1 if log else y1
        lo = 10 ** y0 if log else y0
        out.append(f'<text x="{left - 4}" y="{top + 10}" text-anchor="end" font-size="11">{esc(_num(hi))}</text>')
        out.append(f'<text x="{left - 4}" y="{top + ph}" text-anchor="end" font-size="11">{esc(_num(lo))}</text>')
        out.append(f'<text x="{left}" y="{h - 14}" font-size="11">{esc(_num(x0))}</text>')
        out.append(f'<text x="{left + pw}" y="{h - 14}" text-anchor="end" font-size="11">{esc(_num(x1))}</text>')
    out.append(f'<text x="{left + pw / 2}" y="{h - 3}" text-anchor="middle" font-size="12">'
               f'{esc(xlabel)}{" (loss on a log scale)" if pts and logy and all(y > 0 for _, y in pts) else ""}</text>')
    out.append(f'<text x="{left}" y="{top - 8}" font-size="13" font-weight="600">{esc(title)}</text>')
    out.append("</svg>")
    return "".join(out)


def thin(points: list[tuple[float, float]], limit: int) -> list[tuple[float, float]]:
    """At most ``limit`` points: every other one of the older points goes, the newest stays."""
    while len(points) > limit:
        points = points[:-1:2] + points[-1:]
    return points


class LivePreview:
    """Feed it the core's events (``live(event)``, or :meth:`tee` with the progress renderer);
    it rewrites the page at most every ``seconds``. Use as a context manager: leaving it without
    :meth:`finish` (an error, Ctrl-C) writes a last page that says the render stopped, and why.

    A preview that cannot be written (disk full) never stops the render: ``notice`` is told once.
    """

    def __init__(self, path: Path, title: str, settings: Iterable[tuple[str, Any]], *,
                 seconds: Optional[float] = None, points: Optional[int] = None,
                 clock: Callable[[], float] = time.monotonic,
                 notice: Optional[Callable[[str], None]] = None):
        from ..htmlpage import assets_dir

        self.path = Path(path)
        self.title = title
        self.settings = [(str(k), v) for k, v in settings]
        self.seconds = float(d(ProgressSettings, "preview_seconds") if seconds is None else seconds)
        self.points = int(d(ProgressSettings, "preview_points") if points is None else points)
        self.clock = clock
        self.notice = notice or (lambda m: print(f"notice: {m}", file=sys.stderr, flush=True))
        self.image_path = assets_dir(self.path) / "latest.png"
        self.tracker = ProgressTracker()
        self.curve: list[tuple[float, float]] = []  #: (iteration, loss) of the image / frame being painted
        self.curve_of = ""  #: what the curve is of ("frame 3/12", "scale 2/3")
        self.frame_losses: list[tuple[float, float]] = []  #: (frame number, final loss) of a video
        self.image_version = 0
        self.image_caption = ""
        self.state = "running"  #: running | finished | stopped
        self.message = ""
        self.pages = 0  #: pages written
        self._key: Any = None
        self._last_page: Optional[float] = None
        self._last_image: Optional[float] = None
        self._failed = False

    # -- feeding ---------------------------------------------------------------------------
    def tee(self, first: Callable[[Any], None]) -> Callable[[Any], None]:
        """A callback that gives each event to ``first`` (the progress renderer), then to us."""
        def both(event: Any) -> None:
            first(event)
            self(event)
        return both

    def __call__(self, event: Any) -> None:
        if isinstance(event, Notice):
            return
        t = self.tracker
        t.update(event)
        wrote_image = False
        if isinstance(event, FrameStarted):
            self._new_curve((t.frame, t.pass_index, 0))
        elif isinstance(event, IterationEvent):
            self._new_curve((t.frame, t.pass_index, event.scale))
            self.curve.append((float(event.iteration), float(event.loss)))
            self.curve = thin(self.curve, self.points)
            now = self.clock()
            if event.snapshot is not None and (self._last_image is None or now - self._last_image >= self.seconds):
                from .. import media
                self._last_image = now
                wrote_image = True
                self._write_image(media.tensor_to_image(event.snapshot()),
                                  f"{self._where()}iteration {event.iteration}")
        elif isinstance(event, FrameDone) and not event.resumed:
            self.frame_losses = [p for p in self.frame_losses if p[0] != event.frame + 1]
            self.frame_losses.append((float(event.frame + 1), float(event.loss)))
            self.frame_losses = thin(sorted(self.frame_losses), self.points)
        now = self.clock()
        if wrote_image or self._last_page is None or now - self._last_page >= self.seconds:
            self.write()  # with each new image, so that the page never shows an older one

    def _where(self) -> str:
        bits = self.tracker.where()
        return ", ".join(bits) + (", " if bits else "")

    def _new_curve(self, key: Any) -> None:
        if key != self._key:
            self._key = key
            self.curve = []
            self.curve_of = self._where().rstrip(", ")

    # -- output ----------------------------------------------------------------------------
    def _guarded(self, what: Callable[[], None]) -> None:
        from ..errors import NeuralPaintError
        if self._failed:
            return
        try:
            what()
        except (OSError, NeuralPaintError) as exc:
            self._failed = True
            self.notice(f"the preview {str(self.path)!r} is no longer updated: {exc}")

    def _write_image(self, image: np.ndarray, caption: str) -> None:
        def write() -> None:
            from .. import media
            self.image_path.parent.mkdir(parents=True, exist_ok=True)
            media.save_image(self.image_path, image)
            self.image_version += 1
            self.image_caption = caption
        self._guarded(write)

    def render(self) -> str:
        """The page's HTML as it would be written now."""
        import datetime
        import os
        from urllib.parse import quote

        from ..htmlpage import Page, esc

        page = Page(self.path, self.title)
        running = self.state == "running"
        refresh = max(1, int(math.ceil(self.seconds)))
        if running:
            page.head.append(f'<meta http-equiv="refresh" content="{refresh}">\n')
        line = self.tracker.line().replace("  ", " · ")
        if running:
            status = f"running: {line}" if line else "starting…"
            page.markup(f'<p class="status running"><b>{esc(status)}</b></p>')
        else:
            page.markup(f'<p class="status note {esc(self.state)}"><b>{esc(self.state)}</b>'
                        f'{": " + esc(self.message) if self.message else ""}</p>')
            if line:
                page.paragraph(line, cls="muted")
        page.markup('<div style="display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start">')
        if self.image_version:
            rel = quote(Path(os.path.relpath(self.image_path, self.path.parent)).as_posix())
            page.markup(f'<figure style="margin:0"><img id="latest" src="{rel}?v={self.image_version}" '
                        f'alt="the latest image" style="min-width:256px;max-width:640px;image-rendering:pixelated">'
                        f'<figcaption>{esc(self.image_caption)}</figcaption></figure>')
        else:
            page.paragraph("No image yet: the first one appears after the first iterations.", cls="muted")
        page.markup('<div>' + loss_svg(self.curve, f"loss{' of ' + self.curve_of if self.curve_of else ''}",
                                       "iteration"))
        if self.tracker.frames:
            page.markup("<br>" + loss_svg(self.frame_losses, "final loss per frame", "frame",
                                               empty="no finished frame yet"))
        page.markup("</div></div>")
        page.heading("Settings")
        page.definitions(self.settings)
        stamp = datetime.datetime.now().strftime("%H:%M:%S")
        page.paragraph(f"Updated {stamp}." + (f" This page reloads itself every {refresh} s." if running else ""),
                       cls="muted")
        return page.render()

    def write(self) -> None:
        from .. import atomic

        def write() -> None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic.write_text(self.path, self.render())
            self.pages += 1
        self._last_page = self.clock()
        self._guarded(write)

    def finish(self, message: str = "", image: Optional[np.ndarray] = None, caption: str = "the result",
               state: str = "finished") -> None:
        """The last page: ``state`` (finished / stopped), ``message`` and the final image."""
        if image is not None:
            self._write_image(image, caption)
        self.state, self.message = state, message
        self.write()

    def __enter__(self) -> "LivePreview":
        self.write()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if self.state != "running":
            return
        if exc_type is None:
            self.finish()
        elif issubclass(exc_type, KeyboardInterrupt):
            self.finish("interrupted (Ctrl-C)", state="stopped")
        else:
            self.finish(str(exc).splitlines()[0] if str(exc) else exc_type.__name__, state="stopped")


def settings_rows(paths: Sequence[tuple[str, Any]], options: dict[str, Any]) -> list[tuple[str, Any]]:
    """The page's settings table: the files, then the options as the core gets them."""
    rows: list[tuple[str, Any]] = [(k, v) for k, v in paths if v not in (None, "", [])]
    shown = []
    for k in sorted(options):
        if k == "progress_every":
            continue
        v = options[k]
        if v is None:
            continue
        if isinstance(v, (list, tuple)):
            v = ",".join(map(str, v))
        shown.append(f"{k.replace('_', '-')} {v}")
    rows.append(("options", ", ".join(shown)))
    return rows
