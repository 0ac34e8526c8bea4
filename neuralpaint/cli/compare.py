"""``neuralpaint compare``: every video method on one clip -> a table, compare.json, report.html."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table
from typing_extensions import Annotated

from ..settings import COMPARE_DEFAULT_METHODS as DEFAULT_METHODS
from ..settings import COMPARE_FAST_STEPS as FAST_STEPS
from ..settings import COMPARE_METHODS as METHODS
from ..settings import COMPARE_PASSES
from ..settings import COMPARE_TABLE_OFFSETS as TABLE_OFFSETS
from ..settings import EVAL_OFFSETS as OFFSETS
from ..settings import VideoSettings as V
from ..settings import default as d
from . import app
from .common import done, echo, existing_file, existing_path, parse_offsets
from .evaluate import format_value
from .options import (DEFAULTS, ContentWeight, Device, Iters, Optimizer, Pooling, Precision, Quiet, Seed, Size,
                      StyleWeight, Tol, TvWeight, Weights, image_options)
from .train import TrainProgress


@app.command("compare", no_args_is_help=True)
def compare_command(
    input: Annotated[Path, typer.Argument(help="A GIF, a video file or a folder of frames.", show_default=False)],
    style: Annotated[Optional[Path], typer.Argument(help="Style image \\[default: the bundled style].", show_default=False)] = None,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Output folder \\[default: <input>_compare next to the input].")] = None,
    methods: Annotated[str, typer.Option("--methods", help=f"Comma-separated, from: {', '.join(METHODS)}.")] = ",".join(DEFAULT_METHODS),
    fast_model: Annotated[Optional[Path], typer.Option("--fast-model", help="A trained fast model (.pt) for fast/fast-blend \\[default: train one on the clip's frames].")] = None,
    coherent_model: Annotated[Optional[Path], typer.Option("--coherent-model", help="A coherent model (train --coherent) for the coherent method.")] = None,
    fast_steps: Annotated[int, typer.Option("--fast-steps", help="Training steps of that network when no --fast-model is given.")] = FAST_STEPS,
    passes: Annotated[int, typer.Option("--passes", help="Passes of the multipass method.")] = COMPARE_PASSES,
    offsets: Annotated[str, typer.Option("--offsets", help="Frame offsets of the long-term loss (method long).")] = ",".join(map(str, d(V, "offsets"))),
    eval_offsets: Annotated[str, typer.Option("--eval-offsets", help="Frame offsets k of the warping error E_k.")] = ",".join(map(str, OFFSETS)),
    flow: Annotated[str, typer.Option("--flow", help="Optical flow of the runs: dis, farneback, deepflow or tvl1.")] = d(V, "flow"),
    eval_flow: Annotated[Optional[str], typer.Option("--eval-flow", help="Optical flow of the metric \\[default: --flow].")] = None,
    first_iters: Annotated[int, typer.Option("--first-iters", help="Iteration cap of the first frame.")] = d(V, "first_iters"),
    multipass_iters: Annotated[int, typer.Option("--multipass-iters", help="Iteration cap per frame in passes after the first.")] = d(V, "multipass_iters"),
    temporal_weight: Annotated[float, typer.Option("--temporal-weight")] = d(V, "temporal_weight"),
    iters: Iters = DEFAULTS["iters"],
    size: Size = None,
    optimizer: Optimizer = DEFAULTS["optimizer"],
    content_weight: ContentWeight = DEFAULTS["content_weight"],
    style_weight: StyleWeight = DEFAULTS["style_weight"],
    tv_weight: TvWeight = DEFAULTS["tv_weight"],
    pooling: Pooling = DEFAULTS["pooling"],
    tol: Tol = DEFAULTS["tol"],
    seed: Seed = DEFAULTS["seed"],
    device: Device = DEFAULTS["device"],
    precision: Precision = DEFAULTS["precision"],
    weights: Weights = DEFAULTS["weights"],
    restart: Annotated[bool, typer.Option("--restart", help="Redo every method instead of resuming.")] = False,
    quiet: Quiet = False,
) -> None:
    """Run the video methods on one clip with the same settings and compare time, stability
    (warping error E_k) and losses. Writes DIR/compare.json and DIR/report.html; resumable."""
    existing_path(input, "input")
    if style is not None:
        existing_file(style, "style image")
    if fast_model is not None:
        existing_file(fast_model, "fast model")
    if coherent_model is not None:
        existing_file(coherent_model, "coherent model")
    options = image_options(locals())
    options.update(offsets=parse_offsets(offsets), flow=flow, first_iters=first_iters,
                   multipass_iters=multipass_iters, temporal_weight=temporal_weight, passes=passes)
    ks = parse_offsets(eval_offsets, "--eval-offsets")
    from ..compare import compare
    progress = TrainProgress(quiet=quiet)
    progress.label = "frame"  # the iteration bar of the optimisation methods
    with progress:
        res = compare(input, style, output, methods=methods, fast_model=fast_model, coherent_model=coherent_model,
                      fast_steps=fast_steps,
                      eval_offsets=ks or OFFSETS, eval_flow=eval_flow, restart=restart, callback=progress,
                      **options)
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
