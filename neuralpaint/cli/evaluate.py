"""``neuralpaint evaluate``: the temporal warping error E_k of a stylised clip.

STYLIZED and SOURCE are any clip media reads (GIF, video, frame folder), and STYLIZED may be a
video run folder (``.NAME.neuralpaint/``: its lossless ``frames/`` are read). They must have the
same number of frames; when their sizes differ, the SOURCE is resized to the stylised size
(Lanczos) and the flows are computed there. Flows come from the SOURCE frames (see
:mod:`neuralpaint.metrics` for the definition).

Why ``evaluate OUT.gif`` reads higher than ``report`` on the same run: ``report`` measures the
run folder's 8-bit PNG frames; a delivered GIF keeps at most 256 colours (one palette for the
clip, no dithering), so colours between two palette entries snap one way or the other from
frame to frame; a delivered MP4 is H.264 (lossy, 4:2:0 chroma), and that quantisation noise changes
from frame to frame, which is exactly what E_k measures. On the run folder both agree (same
frames, same source frames at the same size, same flow method; tested). The source clip's own
E_k is printed beside the output's: it is not a lower bound (a clip with fine texture, flow
errors or dithering of its own scores high, a smooth stylised version can score lower).

``--json`` prints one JSON object on stdout, with exactly these keys (a stable schema)::

    {
      "E":         {"1": 0.0012, "2": 0.0019, ..., "16": null},   # one key per --offsets value
      "per_frame": {"1": [null, 0.0011, ...], ..., "16": null},   # E_k(t) for t = 0..frames-1
      "frames":    12,                                             # number of frames
      "source_E":  {"1": 0.0030, ...}                              # E_k of the SOURCE itself
    }

``E[k]`` is the mean over frames of E_k(t); ``per_frame[k][t]`` is null for t < k and for a frame
whose reliability mask is empty; an offset with no pair at all (k >= frames) is null in both,
never 0. Values are mean squared differences of [0,1] RGB over the reliable pixels and channels.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from typing_extensions import Annotated

from ..settings import EVAL_OFFSETS as OFFSETS
from ..settings import VideoSettings as V
from ..settings import default as d
from . import app
from .common import ProgressRenderer, echo, existing_path, parse_offsets


def format_value(v: float | None, digits: int = 4) -> str:
    """A metric value for a table: ``—`` for absent, else ``digits`` significant digits."""
    return "—" if v is None else f"{v:.{digits}g}"


@app.command("evaluate", no_args_is_help=True)
def evaluate(
    stylized: Annotated[Path, typer.Argument(help="The stylised clip (GIF, video or frame folder).", show_default=False)],
    source: Annotated[Path, typer.Argument(help="The clip it was made from (flows are computed on it).", show_default=False)],
    offsets: Annotated[str, typer.Option("--offsets", help="Frame offsets k of E_k.")] = ",".join(map(str, OFFSETS)),
    flow: Annotated[str, typer.Option("--flow", help="Optical flow of the source: dis, farneback, deepflow or tvl1.")] = d(V, "flow"),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON {E, per_frame, frames} instead of a table.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
) -> None:
    """Temporal consistency of a stylised clip: the warping error E_k (lower is steadier).

    Flows are computed on SOURCE (resized to the stylised size when the sizes differ); the frame counts must match.

    --json prints {"E": {"<k>": mean}, "per_frame": {"<k>": [E_k(t) per frame]}, "frames": N}; null marks a missing value (t < k, an offset longer than the clip), never 0.
    """
    ks = parse_offsets(offsets)
    assert ks is not None
    existing_path(stylized, "stylized clip")
    existing_path(source, "source clip")
    from .. import media
    from ..metrics import SourceFlows, resize_frames, warping_errors
    from ..errors import InputError
    if stylized.is_dir() and (stylized / "manifest.json").is_file():
        stylized = stylized / "frames"  # a run folder: its lossless frames
    with ProgressRenderer(quiet=quiet or as_json, label="evaluate") as progress:
        sty = media.read_clip(stylized)
        src = media.read_clip(source)
        if len(sty.frames) != len(src.frames):
            raise InputError(f"{str(stylized)!r} has {len(sty.frames)} frames but the source {str(source)!r} "
                             f"has {len(src.frames)}; give the clip it was made from")
        src_frames = resize_frames(src.frames, sty.size)
        both = warping_errors({"output": sty.frames, "source": src_frames},
                              SourceFlows.estimated(src_frames, flow), ks, callback=progress)
    result, own = both["output"], both["source"]
    note = _delivery_note(stylized)
    if as_json:
        data = result.to_json()
        data["source_E"] = own.to_json()["E"]
        echo(json.dumps(data))
        return
    table = Table(title=f"warping error of {stylized.name} ({result.frames} frames, flow {flow} on {source.name})")
    table.add_column("k", justify="right")
    table.add_column("E_k", justify="right")
    table.add_column(f"source E_k", justify="right")
    table.add_column("frames", justify="right")
    table.add_column("reliable px", justify="right")
    for k in result.offsets:
        pf = result.per_frame.get(k)
        counted = sum(v is not None for v in pf) if pf is not None else 0
        cov = [c for c in (result.coverage.get(k) or []) if c is not None]
        table.add_row(str(k), format_value(result.E.get(k)), format_value(own.E.get(k)), str(counted),
                      f"{100 * sum(cov) / len(cov):.0f}%" if cov else "—")
    Console(highlight=False).print(table)
    if note:
        echo(f"note: {note}")


def _delivery_note(path: Path) -> str:
    """Why a delivered file reads higher than the run's report (empty for lossless frames)."""
    suffix = path.suffix.lower()
    if suffix == ".gif":
        return ("a GIF keeps at most 256 colours (one palette for the clip); colours between two palette "
                "entries snap one way or the other from frame to frame, which E_k counts as flicker. The run folder's lossless frames give the render's own value "
                "(neuralpaint evaluate .NAME.neuralpaint SOURCE), which is what report shows.")
    if suffix in (".mp4", ".mov", ".mkv", ".webm", ".avi"):
        return ("H.264 and friends are lossy (4:2:0 chroma, per-frame coding noise), which raises E_k. The run "
                "folder's lossless frames give the render's own value (neuralpaint evaluate .NAME.neuralpaint "
                "SOURCE), which is what report shows.")
    return ""
