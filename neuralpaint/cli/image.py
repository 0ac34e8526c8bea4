"""``neuralpaint image``: stylise one image."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, List, Optional

import typer
from typing_extensions import Annotated

from ..errors import InputError, NonFiniteLossError
from ..settings import ImageSettings, ModelSettings, ProgressSettings, RuntimeSettings, as_options
from ..settings import default as d
from . import interrupted_with
from .common import ProgressRenderer, check_image_suffix, check_output, done, existing_file, say_if_replacing
from .options import KeepWork, Preview, Quiet, check_init_image, fast_size, open_preview, refuse_with_fast, with_progress
from .spine import Fields, command


@command("image", no_args_is_help=True)
def image(
    ctx: typer.Context,
    content: Annotated[Path, typer.Argument(help="The photo to paint.", show_default=False)],
    styles: Annotated[Optional[List[Path]], typer.Argument(help="One or more style images (blended); none with --fast.", show_default=False)] = None,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="Output image \\[default: <content>_stylized.png].")] = None,
    painting: ImageSettings = Fields(),  # each settings parameter: the options of its fields
    model: ModelSettings = Fields(),
    runtime: RuntimeSettings = Fields(),
    fast: Annotated[Optional[Path], typer.Option("--fast", help="A trained fast network (neuralpaint train): one forward pass instead of an optimisation.")] = None,
    progress: ProgressSettings = Fields(),
    keep_work: KeepWork = None,
    preview: Preview = False,
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
    if fast is None:
        check_init_image(ctx, painting.init_image)
    out = output if output is not None else content.with_name(f"{content.stem}_stylized.png")
    check_image_suffix(out)
    check_output(out, [content, *styles], folder_ok=False)
    say_if_replacing(out)
    from .. import guard

    with guard.reading((content, "content image"), *[(s, "style image") for s in styles],
                       (painting.init_image, "init image"), (fast, "fast model"), (model.weights, "weights file")):
        guard.check_write(out)
        if fast is not None:
            refuse_with_fast(ctx)
            existing_file(fast, "fast model")
            from ..device import resolve_device
            from ..fast.infer import stylize_image_file

            stylize_image_file(fast, content, out, size=fast_size(painting, content),
                               device=resolve_device(runtime.device))
            done(f"{out}  (fast network {fast.name})")
            return
        _paint(content, styles, out, painting, model, with_progress(runtime, progress), progress, quiet,
               keep_work, preview)


def _paint(content: Path, styles: list[Path], out: Path, painting: ImageSettings, model: ModelSettings,
           runtime: RuntimeSettings, shown: ProgressSettings, quiet: bool, keep_work: Optional[bool],
           preview: bool) -> None:
    options = as_options(painting, model, runtime)
    from .. import guard, media
    from ..api import stylize_image_full
    from ..atomic import remove_stale_temps
    from ..errors import InterruptedRun
    from ..optimize import STOP_NONFINITE
    from ..runstate import ImageRun
    from ..video import default_work_dir

    run = ImageRun(default_work_dir(out), _identity(content, styles, options))
    resume = run.load()
    with contextlib.ExitStack() as stack:
        progress = stack.enter_context(ProgressRenderer(quiet=quiet, print_every=shown.print_every,
                                                        save_every=shown.save_every, save_path=run.current_path))
        live = None
        if preview:
            live = stack.enter_context(open_preview(out, options, [("content", content), (
                "styles", ", ".join(map(str, styles)))], progress))
        if resume is not None:
            progress.notice(f"continuing from the result saved after {resume[1]} iterations "
                            f"in {str(run.path)!r}")
        try:
            res = stylize_image_full(content, styles, callback=progress if live is None else live.tee(progress),
                                     resume=resume, **options)
        except InterruptedRun as stop:
            run.save(stop.scale, stop.iterations, _hwc(stop.raw), media.tensor_to_image(stop.image))
            message = (f"interrupted after {stop.iterations} iterations; the result so far is "
                       f"{str(run.current_path)!r}; re-run the same command to continue from it")
            if live is not None:
                live.finish(message, image=media.tensor_to_image(stop.image), caption="the result so far",
                            state="stopped")
            interrupted_with(message)
            raise
        if res.result.stop_reason != STOP_NONFINITE:
            guard.check_result([res.image], [media.load_image(content)], "the result",
                               "check the style and --weights (a damaged weights file gives this)")
        remove_stale_temps(out)  # a previous run killed (kill -9) while saving this output
        media.save_image(out, res.image)
        if not (keep_work if keep_work is not None else d(ProgressSettings, "keep_image_work")):
            run.remove()
        r = res.result
        if r.stop_reason == STOP_NONFINITE:  # (the preview says so too)
            raise NonFiniteLossError(
                f"the loss became NaN or infinite after {r.iterations} iterations; the last finite image "
                f"was saved to {str(out)!r}; lower --style-weight ({painting.style_weight:g}), --tv-weight "
                f"({painting.tv_weight:g}) or --lr ({'default' if painting.lr is None else format(painting.lr, 'g')})")
        if live is not None:
            live.finish(f"wrote {str(out)!r} ({r.iterations} iterations, {r.stop_reason}, loss {r.loss:.4g}, "
                        f"{r.seconds:.1f}s)", image=res.image, caption=str(out))
    done(f"{out}  ({r.iterations} iterations, {r.stop_reason}, loss {r.loss:.4g}, {r.seconds:.1f}s)")


#: Options that do not change the pixels: a run interrupted with other values is continued.
_NOT_IDENTITY = ("device", "compile", "progress_every")


def _identity(content: Path, styles: list[Path], options: dict[str, Any]) -> dict[str, Any]:
    from ..runstate import file_identity
    ident = {"content": file_identity(content), "styles": [file_identity(s) for s in styles],
             "options": {k: (list(v) if isinstance(v, tuple) else v) for k, v in sorted(options.items())
                         if k not in _NOT_IDENTITY}}
    if options.get("init_image") is not None:
        ident["init_image"] = file_identity(Path(options["init_image"]))
    return ident


def _hwc(raw: Any) -> Any:
    """(1,3,H,W) tensor -> HxWx3 float32 array."""
    return raw.detach()[0].permute(1, 2, 0).float().cpu().numpy()
