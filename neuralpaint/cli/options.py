"""What the rendering commands (``image``, ``video``, ``compare``) share beyond their settings
options (those are generated from the settings fields: :mod:`neuralpaint.cli.spine`)."""

from __future__ import annotations

import dataclasses
from typing import Any, Optional

import typer
from typing_extensions import Annotated

from ..errors import InputError
from ..settings import ProgressSettings, RuntimeSettings
from ..settings.text import parse_size  # noqa: F401  (the rule of --size, tested from here)
from .spine import NOT_WITH_FAST as _GENERATED_NOT_WITH_FAST

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")]
Preview = Annotated[bool, typer.Option("--preview", help="Write a self-refreshing page OUTPUT.preview.html beside the output: the latest image, the loss curve, progress and settings; open it in a browser.")]
KeepWork = Annotated[Optional[bool], typer.Option("--keep-work/--no-keep-work", help="Keep the run folder after a finished render \\[default: video keeps it, image removes it].", show_default=False)]

#: Command options (not settings fields) that a trained fast network (``--fast``) does not use;
#: every settings option without ``fast=True`` is refused too.
NOT_WITH_FAST = ("keep_work", "work_dir", "restart", "preview")


def refuse_with_fast(ctx: Any) -> None:
    """``--fast`` with an option it would ignore (``--iters``, ``--style-weight``, ...) is an error:
    the network was trained with its own settings, and silently ignoring them misleads."""
    given = []
    refused = _GENERATED_NOT_WITH_FAST.get(ctx.info_name, set()).union(NOT_WITH_FAST)
    for param in ctx.command.params:
        if param.name in refused and ctx.get_parameter_source(param.name).name == "COMMANDLINE":
            given.append(max(param.opts, key=len))
    if given:
        raise InputError(f"{', '.join(given)} {'does' if len(given) == 1 else 'do'} not apply to --fast (the "
                         f"network paints with what it was trained with; see `neuralpaint train`); drop "
                         f"{'it' if len(given) == 1 else 'them'}")


def fast_size(image: Any, source: Any) -> int:
    """The long side for the fast network: ``--size`` (``image.size``, ``image.upscale``) applied
    to ``source``'s size."""
    from .. import media
    return media.working_long_side(image.size, *media.probe_clip(source).size, upscale=image.upscale)


def with_progress(runtime: RuntimeSettings, progress: ProgressSettings) -> RuntimeSettings:
    """The core's event interval that serves ``--print-every``/``--save-every``."""
    from .progress import progress_every
    every = progress_every(progress.print_every, progress.save_every, runtime.progress_every)
    return dataclasses.replace(runtime, progress_every=every)


def check_init_image(ctx: Any, init_image: Optional[str]) -> None:
    """``--init-image`` exists and is a file; with ``--init`` too it is an error (one of them would
    be ignored)."""
    if init_image is None:
        return
    from pathlib import Path

    from .common import existing_file
    existing_file(Path(init_image), "init image")
    if ctx.get_parameter_source("init").name == "COMMANDLINE":
        raise InputError(f"--init-image {init_image!r} replaces --init; give one of them")


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
