"""``neuralpaint video``: Ruder et al.'s temporally coherent video stylisation, resumable."""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path
from typing import List, Optional

import typer
from typing_extensions import Annotated

from ..errors import InputError
from ..settings import (ChunkSettings, FastSettings, ImageSettings, ModelSettings, ProgressSettings, RuntimeSettings,
                        VideoSettings, as_options)
from ..settings import default as d
from .common import ProgressRenderer, check_output, done, existing_file, existing_path, say_if_replacing
from .options import (KeepWork, Preview, Quiet, check_init_image, fast_size, open_preview, refuse_with_fast,
                      with_progress)
from .spine import Fields, command


@command("video", no_args_is_help=True)
def video(
    ctx: typer.Context,
    input: Annotated[Path, typer.Argument(help="A GIF, a video file (mp4, mov, webm, avi, mkv) or a folder of frames.", show_default=False)],
    styles: Annotated[Optional[List[Path]], typer.Argument(help="Style image(s) \\[default: the bundled style].", show_default=False)] = None,
    output: Annotated[Optional[str], typer.Option("-o", "--output", help="Output: .gif, .mp4/.mov/.mkv/.webm, or a folder (ends with / or has no suffix) \\[default: <input>_stylized.gif|mp4].")] = None,
    clip: VideoSettings = Fields(),
    work_dir: Annotated[Optional[Path], typer.Option("--work-dir", help="Run folder (frames, float state, flows, manifest) \\[default: next to the output].")] = None,
    restart: Annotated[bool, typer.Option("--restart", help="Discard the run folder's frames and flows and start over (asks first on a terminal).")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask: with --restart, discard finished frames without a prompt (needed when not on a terminal).")] = False,
    painting: ImageSettings = Fields(exclude=("iters",)),  # a video's --iters: VideoSettings.later_iters
    model: ModelSettings = Fields(),
    runtime: RuntimeSettings = Fields(),
    chunking: ChunkSettings = Fields(),
    fast: Annotated[Optional[Path], typer.Option("--fast", help="A trained fast network (neuralpaint train): frame-by-frame inference instead of optimisation.")] = None,
    fast_net: FastSettings = Fields(),
    progress: ProgressSettings = Fields(),
    keep_work: KeepWork = None,
    preview: Preview = False,
    quiet: Quiet = False,
) -> None:
    """Paint a clip frame by frame, keeping it temporally coherent with optical flow.

    Re-running the same command resumes an interrupted render from its run folder.
    """
    existing_path(input, "input")
    style_list = list(styles or [])
    for s in style_list:
        existing_file(s, "style image")
    if output is not None:
        check_output(Path(output), [input, *style_list])
    if clip.crf is not None or clip.fps is not None:  # before any work: the source's rate and audio
        from .. import media
        from ..video import default_output
        media.check_encoding(output if output is not None else default_output(input), crf=clip.crf, fps=clip.fps,
                             source=media.probe_clip(input), audio=clip.audio)
    if fast is not None:
        refuse_with_fast(ctx)
        _fast_video(input, style_list, output, fast, fast_size(painting, input), clip, runtime.device,
                    dataclasses.replace(fast_net, flow=clip.flow), quiet)
        return
    check_init_image(ctx, painting.init_image)
    if clip.flow_dir is not None:
        existing_path(Path(clip.flow_dir), "--flow-dir")
    options = as_options(painting, clip, model, with_progress(runtime, progress))
    del options["iters"]  # an image's cap, off this command (its --iters is VideoSettings.later_iters)
    c = chunking
    from ..video import default_output, default_work_dir
    wd = work_dir if work_dir is not None else default_work_dir(Path(output) if output is not None else default_output(input))
    if restart and c.chunks == 1:
        confirm_restart(wd, yes)
    say_if_replacing(Path(output) if output is not None else default_output(input))
    if c.chunks > 1:
        if preview:
            raise InputError(f"--preview needs a single chain of frames: --chunks {c.chunks} renders in other "
                             f"processes whose images do not come back; drop one of them")
        from ..chunks import stylize_video_chunked

        with ProgressRenderer(quiet=quiet, label="frame") as shown:
            cres = stylize_video_chunked(input, style_list, output, chunks=c.chunks, overlap=c.overlap,
                                         executor=c.executor, address=c.address, max_parallel=c.max_parallel,
                                         work_dir=work_dir, restart=restart, callback=shown, **options)
        done(f"{cres.output}  ({cres.frames} frames in {len(cres.chunks)} chunks, {cres.seconds:.1f}s; "
             f"{_run_folder_text(Path(cres.work_dir), keep_work)})")
        return
    if c.executor != d(ChunkSettings, "executor") or c.address is not None or c.max_parallel is not None:
        raise InputError("--executor, --address and --max-parallel need --chunks 2 or more")
    from ..video import stylize_video
    out_path = Path(output) if output is not None else default_output(input)
    with contextlib.ExitStack() as stack:
        shown = stack.enter_context(ProgressRenderer(quiet=quiet, label="frame", print_every=progress.print_every,
                                                     save_every=progress.save_every, save_path=wd / "current.png"))
        live = None
        if preview:
            live = stack.enter_context(open_preview(out_path, options, [("input", input), (
                "styles", ", ".join(map(str, style_list)) or "the bundled style")], shown))
        res = stylize_video(input, style_list, output, work_dir=wd, restart=restart,
                            callback=shown if live is None else live.tee(shown), **options)
        its = sum(r.iterations for r in res.records)
        opt_s = sum(r.seconds for r in res.records)
        summary = (f"{res.frames} frames, {its} iterations, {opt_s / max(res.frames, 1):.2f}s/frame "
                   f"optimising, {res.seconds:.1f}s in all")
        if live is not None:
            from .. import media
            from ..runstate import frame_name
            last = Path(res.work_dir) / "frames" / frame_name(res.frames - 1)
            live.finish(f"wrote {str(res.output)!r} ({summary})",
                        image=media.load_image(last) if last.is_file() else None,
                        caption=f"frame {res.frames}/{res.frames}")
    done(f"{res.output}  ({summary}; {_run_folder_text(Path(res.work_dir), keep_work)})")


def _run_folder_text(work_dir: Path, keep_work: Optional[bool]) -> str:
    """Keep (and say where and how big) or remove the run folder of a finished render."""
    import shutil

    from ..runstate import folder_size, format_bytes
    from ..settings import ProgressSettings
    if keep_work if keep_work is not None else d(ProgressSettings, "keep_video_work"):
        return (f"run folder {work_dir}, {format_bytes(folder_size(work_dir))}; "
                f"--no-keep-work or `neuralpaint clean` removes it")
    shutil.rmtree(work_dir, ignore_errors=True)
    return "run folder removed (--no-keep-work)"


def confirm_restart(work_dir: Path, yes: bool) -> None:
    """``--restart`` discards finished frames: ask on a terminal, require ``--yes`` elsewhere."""
    import sys

    from ..runstate import finished_frames
    finished = finished_frames(work_dir)
    if finished == 0 or yes:
        return
    what = f"--restart discards the {finished} finished frame{'s' if finished != 1 else ''} in {str(work_dir)!r}"
    if not sys.stdin.isatty():
        raise InputError(f"{what}; add --yes to confirm (or drop --restart to resume)")
    if not typer.confirm(f"{what}. Continue?", default=False, err=True):
        raise InputError(f"nothing discarded: {finished} finished frames kept in {str(work_dir)!r}; "
                         f"re-run without --restart to resume")


def _fast_video(input: Path, styles: list[Path], output: Optional[str], model: Path, size: int,
                clip: VideoSettings, device: str, settings: FastSettings, quiet: bool) -> None:
    """``video --fast``: the feed-forward network on every frame (optionally flow-blended)."""
    from .. import media
    from ..device import resolve_device
    from ..fast.infer import stylize_video_file
    from ..video import default_output

    if styles:
        raise InputError(f"--fast uses the style the network was trained on; drop the STYLE argument(s) "
                         f"{', '.join(map(str, styles))}")
    existing_file(model, "fast model")
    out = output if output is not None else str(default_output(input))
    media.output_kind(out)
    with ProgressRenderer(quiet=quiet, label="frame") as progress:
        path = stylize_video_file(model, input, out, size=size, start=clip.start, end=clip.end, settings=settings,
                                  audio=clip.audio, device=resolve_device(device), callback=progress, crf=clip.crf,
                                  fps=clip.fps)
    done(f"{path}  (fast network {model.name}{', flow-blended' if settings.blend else ''})")
