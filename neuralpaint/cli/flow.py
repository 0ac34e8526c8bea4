"""``neuralpaint flow``: optical flow of a clip, written as files (:func:`flows.export_clip`).

For every frame t (1-based, as the frames of a clip folder) and offset j < t, OUTPUT/ receives
``backward_{t:05d}_{j}.flo`` (t→t−j, the flow that warps frame t−j into frame t),
``forward_{t:05d}_{j}.flo`` (t−j→t), ``reliable_{t:05d}_{j}.png`` (reliability weights, 8-bit
gray) and ``color_{t:05d}_{j}.png`` (the backward flow on the Middlebury colour wheel, one scale
for the whole clip).
"""

from __future__ import annotations

import time
from pathlib import Path
import typer
from typing_extensions import Annotated

from ..errors import InputError
from ..events import StageEvent
from ..settings import FlowExportSettings
from .common import ProgressRenderer, done, elapsed_since, existing_path
from .options import Quiet
from .spine import Fields, command


@command("flow", no_args_is_help=True, help="Compute the optical flow of a clip: .flo files, reliability and colour PNGs.")
def flow(
    input: Annotated[Path, typer.Argument(help="A GIF, a video file or a folder of frames.", show_default=False)],
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for the .flo and .png files.", show_default=False)],
    export: FlowExportSettings = Fields(),
    quiet: Quiet = False,
) -> None:
    """Optical flow of a clip, for inspection or for other tools."""
    import flows
    from flows.estimate import check_method

    from .. import guard, media

    method, js = export.method, export.offsets
    check_method(method)
    existing_path(input, "input clip")
    if output.exists() and not output.is_dir():
        raise InputError(f"output {str(output)!r} is a file; -o needs a folder")
    # (only the folder needs checking: a clip with two or more frames cannot itself be named
    # like one of the .flo/.png files written, which only an image sequence would be)
    t0 = time.perf_counter()
    with guard.reading((input, "input")), ProgressRenderer(quiet=quiet, label="flow") as progress:
        guard.check_write(output)
        progress(StageEvent("reading", 0, 1))
        clip = media.read_clip(input, size=export.size)
        progress(StageEvent("reading", 1, 1, f"{len(clip.frames)} frames"))

        def report(done: int, total: int) -> None:
            progress(StageEvent("flows", done, total))

        written = flows.export_clip(clip.frames, output, method=method, offsets=js, progress=report)
    pairs = sum(1 for p in written if p.name.startswith("backward_"))
    done(f"wrote {len(written)} files ({pairs} frame pairs, {method}) to {str(output)!r} in {elapsed_since(t0)}")
