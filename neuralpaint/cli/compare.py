"""``neuralpaint compare``: every video method on one clip -> a table, compare.json, report.html."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table
from typing_extensions import Annotated

from ..settings import COMPARE_TABLE_OFFSETS as TABLE_OFFSETS
from ..settings import CompareSettings, ImageSettings, ModelSettings, RuntimeSettings, VideoSettings, changed
from .common import done, echo, existing_file, existing_path
from .evaluate import format_value
from .options import Quiet
from .spine import Fields, command
from .train import TrainProgress

#: Set per method by compare (temporal switches, passes) or about the output file, not the runs.
_NOT_COMPARED = ("temporal_init", "short_term", "long_term", "passes", "flow_dir", "audio", "crf", "fps")


@command("compare", no_args_is_help=True)
def compare_command(
    input: Annotated[Path, typer.Argument(help="A GIF, a video file or a folder of frames.", show_default=False)],
    style: Annotated[Optional[Path], typer.Argument(help="Style image \\[default: the bundled style].", show_default=False)] = None,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Output folder \\[default: <input>_compare next to the input].")] = None,
    comparison: CompareSettings = Fields(),
    clip: VideoSettings = Fields(exclude=_NOT_COMPARED),
    painting: ImageSettings = Fields(exclude=("iters",)),  # a video's --iters: VideoSettings.later_iters
    model: ModelSettings = Fields(),
    runtime: RuntimeSettings = Fields(),
    restart: Annotated[bool, typer.Option("--restart", help="Redo every method instead of resuming.")] = False,
    quiet: Quiet = False,
) -> None:
    """Run the video methods on one clip with the same settings and compare time, stability
    (warping error E_k) and losses. Writes DIR/compare.json and DIR/report.html; resumable."""
    existing_path(input, "input")
    if style is not None:
        existing_file(style, "style image")
    c = comparison
    if c.fast_model is not None:
        existing_file(Path(c.fast_model), "fast model")
    if c.coherent_model is not None:
        existing_file(Path(c.coherent_model), "coherent model")
    options = changed(painting, clip, model, runtime)
    from ..compare import compare
    progress = TrainProgress(quiet=quiet)
    progress.label = "frame"  # the iteration bar of the optimisation methods
    with progress:
        res = compare(input, style, output, methods=c.methods, fast_model=c.fast_model,
                      coherent_model=c.coherent_model, fast_steps=c.fast_steps, eval_offsets=c.eval_offsets,
                      eval_flow=c.eval_flow, restart=restart, callback=progress, passes=c.passes, **options)
    h, w = res.source_frames[0].shape[:2]
    table = Table(title=f"compare: {input.name}, {res.frames} frames {w}x{h}")
    for col in ("method", "s/frame", *[f"E_{k}" for k in TABLE_OFFSETS], "style loss", "content loss",
                "E_1 ÷ src", "disocc. E_1", "unstyl. last", "sharp last", "style drift"):
        table.add_column(col, justify="left" if col == "method" else "right")
    for row in res.rows():
        share = row["unstylised_last"]
        table.add_row(row["method"], f"{row['seconds_per_frame']:.3g}",
                      *[format_value(row[f"E_{k}"]) for k in TABLE_OFFSETS],
                      format_value(row["style_loss"]), format_value(row["content_loss"]),
                      format_value(row["E_1_vs_source"], 3), format_value(row["disoccluded_E_1"]),
                      "—" if share is None else f"{100 * share:.0f}%", format_value(row["sharpness_last"], 3),
                      format_value(row["style_drift_mean"], 3))
    Console(highlight=False, width=160).print(table)
    for m in res.methods.values():
        for flag in (m.quality.flags() if m.quality is not None else []):
            echo(f"warning: {m.name}: {flag}")
    echo(f"{res.json_path}")
    done(f"{res.report_path}")
