"""``neuralpaint image``: stylise one image."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from typing_extensions import Annotated

from .. import guard, media
from ..atomic import remove_stale_temps
from ..api import stylize_image_full
from ..errors import InputError, NonFiniteLossError
from ..optimize import STOP_NONFINITE
from . import app
from .common import ProgressRenderer, check_image_suffix, check_output, done, existing_file
from .options import (DEFAULTS, LineSearch, ContentWeight, Device, Init, Iters, Lr, Optimizer, Pooling,
                      Precision, PreserveColors, Compile, Quiet, Scales, Seed, Size, StyleBlend,
                      StyleScale, StyleWeight, Tol, TvWeight, Weights, image_options)


@app.command("image", no_args_is_help=True)
def image(
    content: Annotated[Path, typer.Argument(help="The photo to paint.", show_default=False)],
    styles: Annotated[Optional[List[Path]], typer.Argument(help="One or more style images (blended); none with --fast.", show_default=False)] = None,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Output image \\[default: <content>_stylized.png].")] = None,
    size: Size = DEFAULTS["size"],
    iters: Iters = DEFAULTS["iters"],
    optimizer: Optimizer = DEFAULTS["optimizer"],
    lr: Lr = None,
    init: Init = DEFAULTS["init"],
    line_search: LineSearch = DEFAULTS["line_search"],
    content_weight: ContentWeight = DEFAULTS["content_weight"],
    style_weight: StyleWeight = DEFAULTS["style_weight"],
    tv_weight: TvWeight = DEFAULTS["tv_weight"],
    style_blend: StyleBlend = None,
    style_scale: StyleScale = DEFAULTS["style_scale"],
    scales: Scales = DEFAULTS["scales"],
    preserve_colors: PreserveColors = DEFAULTS["preserve_colors"],
    pooling: Pooling = DEFAULTS["pooling"],
    tol: Tol = DEFAULTS["tol"],
    seed: Seed = DEFAULTS["seed"],
    device: Device = DEFAULTS["device"],
    precision: Precision = DEFAULTS["precision"],
    weights: Weights = DEFAULTS["weights"],
    compile: Compile = DEFAULTS["compile"],
    fast: Annotated[Optional[Path], typer.Option("--fast", help="A trained fast network (neuralpaint train): one forward pass instead of an optimisation.")] = None,
    quiet: Quiet = False,
) -> None:
    """Paint CONTENT in the style of STYLE (several styles are blended)."""
    existing_file(content, "content image")
    styles = list(styles or [])
    for s in styles:
        existing_file(s, "style image")
    if fast is None and not styles:
        raise InputError("give at least one STYLE image, or a trained network with --fast MODEL.pt")
    if fast is not None and styles:
        raise InputError(f"--fast uses the style the network was trained on; drop the STYLE argument(s) "
                         f"{', '.join(map(str, styles))}")
    out = output if output is not None else content.with_name(f"{content.stem}_stylized.png")
    check_image_suffix(out)
    check_output(out, [content, *styles], folder_ok=False)
    with guard.reading((content, "content image"), *[(s, "style image") for s in styles],
                       (fast, "fast model"), (weights, "weights file")):
        guard.check_write(out)
        _paint(content, styles, out, fast, size, device, locals(), quiet, style_weight, tv_weight, lr)


def _paint(content: Path, styles: list[Path], out: Path, fast: Optional[Path], size: int, device: str,
           values: dict, quiet: bool, style_weight: float, tv_weight: float, lr: Optional[float]) -> None:
    if fast is not None:
        existing_file(fast, "fast model")
        from ..device import resolve_device
        from ..fast.infer import stylize_image_file

        stylize_image_file(fast, content, out, size=size, device=resolve_device(device))
        done(f"{out}  (fast network {fast.name})")
        return
    options = image_options(values)
    with ProgressRenderer(quiet=quiet) as progress:
        res = stylize_image_full(content, styles, callback=progress, **options)
    r = res.result
    if r.stop_reason != STOP_NONFINITE:
        content_img = media.load_image(content)
        guard.check_result([res.image], [content_img], "the result",
                           "check the style and --weights (a damaged weights file gives this)")
    remove_stale_temps(out)  # a previous run killed (kill -9) while saving this output
    media.save_image(out, res.image)
    if r.stop_reason == STOP_NONFINITE:
        raise NonFiniteLossError(
            f"the loss became NaN or infinite after {r.iterations} iterations; the last finite image "
            f"was saved to {str(out)!r}; lower --style-weight ({style_weight:g}), --tv-weight "
            f"({tv_weight:g}) or --lr ({'default' if lr is None else format(lr, 'g')})")
    done(f"{out}  ({r.iterations} iterations, {r.stop_reason}, loss {r.loss:.4g}, {r.seconds:.1f}s)")
