"""``neuralpaint evaluate``: the temporal warping error E_k of a stylised clip.

STYLIZED and SOURCE are any clip media reads (GIF, video, frame folder). They must have the same
number of frames; when their sizes differ, the SOURCE is resized to the stylised size (Lanczos)
and the flows are computed there. Flows come from the SOURCE frames (see
:mod:`neuralpaint.metrics` for the definition).

Why ``evaluate OUT.gif`` reads higher than ``report`` on the same run: ``report`` measures the
run folder's 8-bit PNG frames; a delivered GIF keeps at most 256 colours (one palette for the
clip, no dithering), so colours between two palette entries snap one way or the other from
frame to frame; a delivered MP4 is H.264 (lossy, 4:2:0 chroma), and that quantisation noise changes
from frame to frame, which is exactly what E_k measures. Given the run folder itself
(``evaluate .NAME.neuralpaint SOURCE``) both agree (same frames, same source frames at the same
size, same flow method; tested).

``--json`` prints one JSON object on stdout; these keys are a stable schema (more follow them)::

    {
      "E":         {"1": 0.0012, "2": 0.0019, ..., "16": null},   # one key per --offsets value
      "per_frame": {"1": [null, 0.0011, ...], ..., "16": null},   # E_k(t) for t = 0..frames-1
      "frames":    12                                              # number of frames
    }

``E[k]`` is the mean over frames of E_k(t); ``per_frame[k][t]`` is null for t < k and for a frame
whose reliability mask is empty; an offset with no pair at all (k >= frames) is null in both,
never 0. Values are mean squared differences of [0,1] RGB over the reliable pixels and channels.

Beside them, the measures E_k cannot see (:mod:`neuralpaint.quality`, ``docs/metrics.md``):
``source`` (the source clip's own E_k), ``ratio``, ``disoccluded``, ``unstylised``,
``sharpness``, ``style`` (null unless ``--style`` is given) and ``flags``; see
:meth:`neuralpaint.quality.QualityReport.to_json`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich.console import Console
from rich.table import Table
from typing_extensions import Annotated

from ..settings import EvalSettings, ImageSettings, ModelSettings, RuntimeSettings
from .common import ProgressRenderer, echo, existing_file, existing_path
from .spine import Fields, command

if TYPE_CHECKING:
    from ..quality import QualityReport


def format_value(v: float | None, digits: int = 4) -> str:
    """A metric value for a table: ``—`` for absent, else ``digits`` significant digits."""
    return "—" if v is None else f"{v:.{digits}g}"


@command("evaluate", no_args_is_help=True)
def evaluate(
    stylized: Annotated[Path, typer.Argument(help="The stylised clip (GIF, video or frame folder).", show_default=False)],
    source: Annotated[Path, typer.Argument(help="The clip it was made from (flows are computed on it).", show_default=False)],
    measure: EvalSettings = Fields(),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON {E, per_frame, frames, ...} instead of tables.")] = False,
    style: Annotated[Optional[Path], typer.Option("--style", help="The style image of the clip: adds the style-loss drift (needs the VGG, see --weights).")] = None,
    model: ModelSettings = Fields(only=("weights",)),
    runtime: RuntimeSettings = Fields(only=("device",)),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
) -> None:
    """Temporal consistency of a stylised clip: the warping error E_k (lower is steadier).

    Flows are computed on SOURCE (resized to the stylised size when the sizes differ); the frame counts must match.

    --json prints {"E": {"<k>": mean}, "per_frame": {"<k>": [E_k(t) per frame]}, "frames": N, ...}; null marks a missing value (t < k, an offset longer than the clip), never 0.

    Beside E_k: the source clip's own E_k and the ratio, the error inside disoccluded pixels, the unstylised share, the sharpness drift and, with --style, the style-loss drift (docs/metrics.md).
    """
    ks, flow = measure.offsets, measure.flow
    existing_path(stylized, "stylized clip")
    existing_path(source, "source clip")
    if style is not None:
        existing_file(style, "style image")
    # here, not at the top: `neuralpaint --help` must not import torch
    from ..metrics import LossMeter, read_pair
    from ..quality import quality_report
    from ..vgg import resolve_model

    note = _delivery_note(stylized)
    if stylized.is_dir() and (stylized / "manifest.json").is_file():
        stylized = stylized / "frames"  # a run folder: its lossless frames
    with ProgressRenderer(quiet=quiet or as_json, label="evaluate") as progress:
        out_frames, src_frames = read_pair(stylized, source, progress)
        meter = None
        if style is not None:
            size = max(out_frames[0].shape[:2]) if out_frames else 16
            meter = LossMeter(style, resolve_model(model, progress), ImageSettings(size=max(16, size)),
                              runtime.device)
        quality = quality_report(out_frames, src_frames, None, meter, offsets=ks, method=flow, callback=progress)
    result = quality.warping
    if as_json:
        echo(json.dumps(quality.to_json()))
        return
    table = Table(title=f"warping error of {stylized.name} ({result.frames} frames, flow {flow} on {source.name})")
    table.add_column("k", justify="right")
    table.add_column("E_k", justify="right")
    table.add_column("frames", justify="right")
    table.add_column("reliable px", justify="right")
    for k in result.offsets:
        pf = result.per_frame.get(k)
        counted = sum(v is not None for v in pf) if pf is not None else 0
        cov = [c for c in (result.coverage.get(k) or []) if c is not None]
        table.add_row(str(k), format_value(result.E.get(k)), str(counted),
                      f"{100 * sum(cov) / len(cov):.0f}%" if cov else "—")
    Console(highlight=False).print(table)
    print_quality(quality, stylized.name)
    if note:
        echo(f"note: {note}")


def _delivery_note(path: Path) -> str:
    """Why a delivered file reads higher than the run's report (empty for lossless frames)."""
    suffix = path.suffix.lower()
    if suffix == ".gif":
        return ("a GIF keeps at most 256 colours (one palette for the clip); colours between two palette "
                "entries snap one way or the other from frame to frame, which E_k counts as flicker. The run "
                "folder's lossless frames give the render's own value (neuralpaint evaluate "
                ".NAME.neuralpaint SOURCE), which is what report shows.")
    if suffix in (".mp4", ".mov", ".mkv", ".webm", ".avi"):
        return ("H.264 and friends are lossy (4:2:0 chroma, per-frame coding noise), which raises E_k. The run "
                "folder's lossless frames give the render's own value (neuralpaint evaluate .NAME.neuralpaint "
                "SOURCE), which is what report shows.")
    return ""


def print_quality(q: "QualityReport", name: str) -> None:
    """The measures beside E_k (neuralpaint.quality) as two tables and the flags."""
    console = Console(highlight=False)
    table = Table(title=f"beside E_k: the source's own, and the disoccluded pixels ({name})")
    for col in ("k", "source E_k", "E_k ÷ source", "disoccluded E_k", "source disoccluded", "disoccluded px"):
        table.add_column(col, justify="right")
    for k in q.offsets:
        cov = [c for c in (q.disoccluded_coverage.get(k) or []) if c is not None]
        table.add_row(str(k), format_value(q.source_E.get(k)), format_value(q.ratio(k), 3),
                      format_value(q.disoccluded_E.get(k)), format_value(q.source_disoccluded_E.get(k)),
                      f"{100 * sum(cov) / len(cov):.1f}%" if cov else "—")
    console.print(table)
    table = Table(title="per-frame measures")
    for col in ("measure", "last frame", "mean"):
        table.add_column(col, justify="left" if col == "measure" else "right")
    for delta in q.deltas:
        last, mean = q.unstylised_last(delta), q.unstylised_mean(delta)
        table.add_row(f"unstylised share (within {delta}/255 of the source)",
                      "—" if last is None else f"{100 * last:.1f}%", "—" if mean is None else f"{100 * mean:.1f}%")
    table.add_row("sharpness drift (÷ frame 1)", format_value(q.sharpness_last, 3), "")
    if q.style:
        table.add_row("style-loss drift (÷ frame 1; mean of frames 2..n)", format_value(q.style_drift[-1], 3),
                      format_value(q.style_drift_mean, 3))
    console.print(table)
    for flag in q.flags():
        echo(f"warning: {flag}")
