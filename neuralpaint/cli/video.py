"""``neuralpaint video``: Ruder et al.'s temporally coherent video stylisation, resumable."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import List, Optional

import typer
from typing_extensions import Annotated

from ..errors import InputError
from ..settings import H264_CRF, VP9_CRF, FastSettings
from ..settings import FastSettings as F
from ..settings import VideoSettings as V
from ..settings import default as d
from . import app
from .common import (ProgressRenderer, check_output, done, existing_file, existing_path, parse_offsets,
                     say_if_replacing)
from .options import (DEFAULTS, LineSearch, Compile, ContentLayer, ContentWeight, Device, Init, InitImage, Iters,
                      Lr, Optimizer, Pooling, StyleLayers, check_init_image,
                      Precision, PreserveColors, Quiet, Scales, Seed, Size, StyleBlend, StyleScale,
                      StyleWeight, Tol, TvWeight, Weights, PrintEvery, SaveEvery, image_options,
                      KeepWork, Preview, fast_size, open_preview, progress_options, refuse_with_fast)


@app.command("video", no_args_is_help=True)
def video(
    ctx: typer.Context,
    input: Annotated[Path, typer.Argument(help="A GIF, a video file (mp4, mov, webm, avi, mkv) or a folder of frames.", show_default=False)],
    styles: Annotated[Optional[List[Path]], typer.Argument(help="Style image(s) \\[default: the bundled style].", show_default=False)] = None,
    output: Annotated[Optional[str], typer.Option("-o", "--output", help="Output: .gif, .mp4/.mov/.mkv/.webm, or a folder (ends with / or has no suffix) \\[default: <input>_stylized.gif|mp4].")] = None,
    temporal_init: Annotated[bool, typer.Option("--temporal-init/--no-temporal-init", help="Start each frame from the previous result warped by optical flow.")] = d(V, "temporal_init"),
    init_fill: Annotated[str, typer.Option("--init-fill", help="Pixels of a frame's init that no earlier frame saw: inpaint (from the painted pixels around), warped (Ruder's) or content (the photograph).")] = d(V, "init_fill"),
    short_term: Annotated[bool, typer.Option("--short-term/--no-short-term", help="Temporal loss against the previous frame.")] = d(V, "short_term"),
    long_term: Annotated[bool, typer.Option("--long-term/--no-long-term", help="Temporal loss against the frames at --offsets.")] = d(V, "long_term"),
    offsets: Annotated[str, typer.Option("--offsets", help="Frame offsets of the long-term loss.")] = ",".join(map(str, d(V, "offsets"))),
    temporal_weight: Annotated[float, typer.Option("--temporal-weight")] = d(V, "temporal_weight"),
    flow: Annotated[str, typer.Option("--flow", help="Optical flow: dis, farneback, deepflow or tvl1.")] = d(V, "flow"),
    flow_dir: Annotated[Optional[Path], typer.Option("--flow-dir", help="Read the flows from this folder's .flo files instead: backward_{t:05d}_{j}.flo and forward_{t:05d}_{j}.flo, t the 1-based frame (what `neuralpaint flow` writes).", show_default=False)] = None,
    passes: Annotated[int, typer.Option("--passes", help="Multi-pass: passes over all frames, alternating direction.")] = d(V, "passes"),
    first_iters: Annotated[int, typer.Option("--first-iters", help="Iteration cap of the first frame.")] = d(V, "first_iters"),
    iters: Iters = DEFAULTS["iters"],
    work_dir: Annotated[Optional[Path], typer.Option("--work-dir", help="Run folder (frames, float state, flows, manifest) \\[default: next to the output].")] = None,
    restart: Annotated[bool, typer.Option("--restart", help="Discard the run folder's frames and flows and start over (asks first on a terminal).")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask: with --restart, discard finished frames without a prompt (needed when not on a terminal).")] = False,
    audio: Annotated[bool, typer.Option("--audio/--no-audio", help="Copy the source's audio into an MP4 output.")] = d(V, "audio"),
    crf: Annotated[Optional[int], typer.Option("--crf", help=f"Video quality, lower is better and bigger \\[default: {H264_CRF} for H.264 (mp4, mov, mkv, avi), {VP9_CRF} for WebM].", show_default=False)] = d(V, "crf"),
    fps: Annotated[Optional[str], typer.Option("--fps", help="Frame rate of the output, e.g. 24 or 30000/1001 \\[default: the source's]; another rate than the source's needs --no-audio.", show_default=False)] = None,
    start: Annotated[Optional[int], typer.Option("--start", help="First frame to render (1-based).")] = None,
    end: Annotated[Optional[int], typer.Option("--end", help="Last frame to render (1-based, inclusive).")] = None,
    size: Size = None,
    optimizer: Optimizer = DEFAULTS["optimizer"],
    lr: Lr = None,
    init: Init = DEFAULTS["init"],
    init_image: InitImage = None,
    line_search: LineSearch = DEFAULTS["line_search"],
    content_weight: ContentWeight = DEFAULTS["content_weight"],
    style_weight: StyleWeight = DEFAULTS["style_weight"],
    tv_weight: TvWeight = DEFAULTS["tv_weight"],
    content_layer: ContentLayer = DEFAULTS["content_layer"],
    style_layers: StyleLayers = DEFAULTS["style_layers"],
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
    chunks: Annotated[int, typer.Option("--chunks", help="Render in N chunks in parallel (one per GPU / Ray task); see docs/sweeps.md.")] = 1,
    overlap: Annotated[Optional[int], typer.Option("--overlap", help="With --chunks: frames two chains run past their meeting point (cross-faded over twice this) \\[default: 8].")] = None,
    executor: Annotated[str, typer.Option("--executor", help="With --chunks: local or ray.")] = "local",
    address: Annotated[Optional[str], typer.Option("--address", help="With --executor ray: the cluster's address \\[default: RAY_ADDRESS, else a local Ray].")] = None,
    max_parallel: Annotated[Optional[int], typer.Option("--max-parallel", help="With --chunks: chunks at once \\[default: one per GPU, else 1].")] = None,
    fast: Annotated[Optional[Path], typer.Option("--fast", help="A trained fast network (neuralpaint train): frame-by-frame inference instead of optimisation.")] = None,
    fast_blend: Annotated[bool, typer.Option("--fast-blend/--no-fast-blend", help="With --fast: keep the warped previous output where the flow is reliable (Chen et al. 2017).")] = d(F, "blend"),
    fast_blend_at: Annotated[str, typer.Option("--fast-blend-at", help="With --fast-blend: compose the output images or the network's middle features.")] = d(F, "blend_at"),
    print_every: PrintEvery = DEFAULTS["print_every"],
    save_every: SaveEvery = DEFAULTS["save_every"],
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
    fps_value = parse_fps(fps)
    if crf is not None or fps_value is not None:  # before any work: the source's rate and audio
        from .. import media
        from ..video import default_output
        media.check_encoding(output if output is not None else default_output(input), crf=crf, fps=fps_value,
                             source=media.probe_clip(input), audio=audio)
    if fast is not None:
        refuse_with_fast(ctx)
        _fast_video(input, style_list, output, fast, fast_size(size, input), start, end, audio, device,
                    FastSettings(blend=fast_blend, blend_at=fast_blend_at, flow=flow), quiet, crf, fps_value)
        return
    check_init_image(ctx, init_image)
    if flow_dir is not None:
        existing_path(flow_dir, "--flow-dir")
    options = image_options(locals())
    options.update(progress_options(locals()))
    options.update(temporal_init=temporal_init, init_fill=init_fill, short_term=short_term, long_term=long_term,
                   offsets=parse_offsets(offsets), temporal_weight=temporal_weight, flow=flow,
                   passes=passes, first_iters=first_iters, audio=audio, start=start, end=end, crf=crf,
                   fps=fps_value, flow_dir=str(flow_dir) if flow_dir is not None else None)
    if chunks < 1:
        raise InputError(f"--chunks must be >= 1, got {chunks}")
    from ..video import default_output, default_work_dir
    wd = work_dir if work_dir is not None else default_work_dir(Path(output) if output is not None else default_output(input))
    if restart and chunks == 1:
        confirm_restart(wd, yes)
    say_if_replacing(Path(output) if output is not None else default_output(input))
    if chunks > 1:
        if preview:
            raise InputError(f"--preview needs a single chain of frames: --chunks {chunks} renders in other "
                             f"processes whose images do not come back; drop one of them")
        from ..chunks import stylize_video_chunked

        with ProgressRenderer(quiet=quiet, label="frame") as progress:
            cres = stylize_video_chunked(input, style_list, output, chunks=chunks, overlap=overlap,
                                         executor=executor, address=address, max_parallel=max_parallel,
                                         work_dir=work_dir, restart=restart, callback=progress, **options)
        done(f"{cres.output}  ({cres.frames} frames in {len(cres.chunks)} chunks, {cres.seconds:.1f}s; "
             f"{_run_folder_text(Path(cres.work_dir), keep_work)})")
        return
    if executor != "local" or address is not None or max_parallel is not None:
        raise InputError("--executor, --address and --max-parallel need --chunks 2 or more")
    from ..video import stylize_video
    out_path = Path(output) if output is not None else default_output(input)
    with contextlib.ExitStack() as stack:
        progress = stack.enter_context(ProgressRenderer(quiet=quiet, label="frame", print_every=print_every,
                                                        save_every=save_every, save_path=wd / "current.png"))
        live = None
        if preview:
            live = stack.enter_context(open_preview(out_path, options, [("input", input), (
                "styles", ", ".join(map(str, style_list)) or "the bundled style")], progress))
        res = stylize_video(input, style_list, output, work_dir=wd, restart=restart,
                            callback=progress if live is None else live.tee(progress), **options)
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
                start: Optional[int], end: Optional[int], audio: bool, device: str,
                settings: FastSettings, quiet: bool, crf: Optional[int] = None, fps: Optional[float] = None) -> None:
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
        path = stylize_video_file(model, input, out, size=size, start=start, end=end, settings=settings,
                                  audio=audio, device=resolve_device(device), callback=progress, crf=crf, fps=fps)
    done(f"{path}  (fast network {model.name}{', flow-blended' if settings.blend else ''})")


def parse_fps(text: Optional[str]) -> Optional[float]:
    """``--fps``: ``24``, ``29.97`` or ``30000/1001`` -> float (the writer recovers 30000/1001)."""
    if text is None:
        return None
    from fractions import Fraction
    try:
        rate = Fraction(str(text).strip())
    except (ValueError, ZeroDivisionError):
        raise InputError(f"--fps needs a frame rate such as 24, 29.97 or 30000/1001, got {text!r}") from None
    from ..settings import MAX_FPS
    if not 0 < rate <= MAX_FPS:
        raise InputError(f"--fps must be above 0 and at most {MAX_FPS}, got {text!r}")
    return float(rate)
