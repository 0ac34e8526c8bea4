"""Stylise a clip (Ruder, Dosovitskiy & Brox): read it, check everything, open the run folder,
run the frame loop (:mod:`neuralpaint.frameloop`), encode the result.

Style Grams are computed once per run (:class:`~neuralpaint.objective.StyleBank`); the flows come
from one store (:class:`~neuralpaint.flowstore.FlowSource`, cached in the run folder); every
finished frame is kept in the run folder, so re-running the same command resumes. Warped results
are resampled bicubically (:func:`flows.warp`), not bilinearly as in the reference
(manuelruder/artistic-videos): repeated warping otherwise blurs the video frame after frame.
The frame loop's own departures from the reference are listed in :mod:`neuralpaint.frameloop`.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence, Union

import numpy as np
import torch


from . import frameloop, guard, media, settings
from .api import ImageLike, style_tensors
from .device import resolve_device
from .errors import InputError
from .events import Callback, StageEvent, emit
from .flowstore import FlowSource
from .optimize import Stylizer
from .runstate import FrameRecord, RunFolder
from .settings import ImageSettings, ModelSettings, RuntimeSettings, VideoSettings
from .vgg import resolve_model


# Settings that do not change the pixels and may differ between a run and its resumption.
# (upscale: the frame size is in the identity anyway)
_NOT_IDENTITY = {"device", "progress_every", "compile", "audio", "upscale",
                 "crf", "fps"}  # encoding only: a re-run re-encodes the finished frames


@dataclass
class VideoResult:
    output: Path
    work_dir: Path
    frames: int
    records: list[FrameRecord]
    seconds: float


def default_output(input_path: Path) -> Path:
    """``<stem>_stylized.<ext>``: GIF stays GIF, a frame folder stays a folder, video becomes MP4."""
    if input_path.is_dir():
        return input_path.with_name(f"{input_path.name}_stylized")
    ext = ".gif" if input_path.suffix.lower() == ".gif" else ".mp4"
    return input_path.with_name(f"{input_path.stem}_stylized{ext}")


def default_work_dir(output: Path) -> Path:
    name = output.name.rstrip("/") or "output"
    return output.parent / f".{name}.neuralpaint"


def resolve_io(input: Union[str, Path], output: Union[str, Path, None],
               styles: Sequence[ImageLike]) -> tuple[Path, str, Path, list[ImageLike]]:
    """Check the input, choose the output (text and path) and the styles, before any work.

    The output is kept as text too: a trailing "/" asks for a folder of frames, and Path()
    would drop it. An output kind we cannot write, or an output equal to the input, fails here.
    """
    input_path = Path(input)
    guard.must_exist(input_path, "input")
    out_text = os.fspath(output) if output is not None else os.fspath(default_output(input_path))
    out_path = Path(out_text)
    media.output_kind(out_text)
    if out_path.exists() and out_path.resolve() == input_path.resolve():
        raise InputError(f"output {str(out_path)!r} is the input; choose another -o")
    return input_path, out_text, out_path, list(styles) or [media.default_style_path()]


def _hash_style(style: ImageLike) -> str:
    if isinstance(style, np.ndarray):
        return "array:" + hashlib.sha256(np.ascontiguousarray(style).tobytes()).hexdigest()[:16]
    return "file:" + hashlib.sha256(Path(style).read_bytes()).hexdigest()[:16]


def stylize_video(input: Union[str, Path], styles: Sequence[ImageLike] = (), output: Union[str, Path, None] = None, *,
                  work_dir: Union[str, Path, None] = None, restart: bool = False, callback: Callback = None,
                  **options: Any) -> VideoResult:
    """Stylise a clip (GIF, video file or frame folder) and write ``output``.

    Options are the fields of :class:`ImageSettings`, :class:`VideoSettings`,
    :class:`ModelSettings` and :class:`RuntimeSettings`. Re-running with the same arguments
    resumes from ``work_dir`` (default: a hidden folder next to the output).
    """
    t_run = time.perf_counter()
    settings.refuse_image_cap(options)
    image_s, video_s, model_s, runtime_s = settings.split(
        options, ImageSettings, VideoSettings, ModelSettings, RuntimeSettings)
    input_path, out_text, out_path, style_list = resolve_io(input, output, styles)
    device = resolve_device(runtime_s.device)
    # before the run's identity: a resumed run must use the same concrete features
    model_s = resolve_model(model_s, callback)
    with guard.reading(*input_roles(input_path, style_list, model_s)):
        return _stylize(input_path, out_text, out_path, style_list, work_dir, restart, callback, device,
                        image_s, video_s, model_s, runtime_s, t_run)


def input_roles(input_path: Optional[Path], styles: Sequence[ImageLike], model: ModelSettings
                ) -> list[tuple[Any, str]]:
    """What a video render reads, for :func:`guard.reading` (arrays and named weights are no files)."""
    roles: list[tuple[Any, str]] = [(input_path, "input")]
    roles += [(s, "style image") for s in styles if not isinstance(s, np.ndarray)]
    roles.append((model.weights, "weights file"))
    return roles


def _stylize(input_path: Path, out_text: str, out_path: Path, style_list: list[ImageLike],
             work_dir: Union[str, Path, None], restart: bool, callback: Callback, device: torch.device,
             image_s: ImageSettings, video_s: VideoSettings, model_s: ModelSettings,
             runtime_s: RuntimeSettings, t_run: float) -> VideoResult:
    emit(callback, StageEvent("reading", 0, 1, str(input_path)))
    clip = media.read_clip(input_path, size=image_s.size, start=video_s.start, end=video_s.end,
                           upscale=image_s.upscale)
    frames = clip.frames
    n = len(frames)
    if n == 0:
        raise InputError(f"input {str(input_path)!r} has no frames")
    emit(callback, StageEvent("reading", 1, 1, f"{n} frames {frames[0].shape[1]}x{frames[0].shape[0]}"))
    media.check_encoding(out_text, crf=video_s.crf, fps=video_s.fps, source=clip, audio=video_s.audio)
    first_init = None
    if image_s.init_image is not None:  # --init-image: the first frame's init (in the optimised space)
        from .api import init_tensor
        first_init = init_tensor(image_s.init_image, frames[0].shape[:2], image_s.preserve_colors).to(device)
    if video_s.flow_dir is not None:
        from .flowdir import check_flow_dir, needed_offsets
        check_flow_dir(Path(video_s.flow_dir), n, clip.first, needed_offsets(video_s), frames[0].shape[:2])

    # Every input (styles, weights) is read and checked before the run folder exists: a run folder
    # left by a bad style would otherwise refuse the repaired command ("use --restart").
    style_ts = style_tensors(style_list, image_s.size, image_s.style_scale)
    first = media.image_to_tensor(frames[0]).to(device)
    stylizer = Stylizer.create(style_ts, image_s, model_s, runtime_s, device, color_reference=first)

    chosen: dict[str, Any] = {k: v for k, v in settings.as_dict(image_s, video_s, model_s, runtime_s).items()
                              if k not in _NOT_IDENTITY}
    if image_s.init_image is not None:  # its content, not its name
        chosen["init_image"] = _hash_style(image_s.init_image)
    identity = {
        "input": media.file_identity(input_path),
        "styles": [_hash_style(s) for s in style_list],
        "frames": [n, int(frames[0].shape[0]), int(frames[0].shape[1])],
        "settings": chosen,
    }
    wd = Path(work_dir) if work_dir is not None else default_work_dir(out_path)
    guard.check_writes([(p, "-o") for p in media.planned_files(out_text, n, clip.first)] + [(wd, "--work-dir")])
    run = RunFolder(wd, identity, n, source=str(input_path.resolve()),
                    style_paths=[None if isinstance(s, np.ndarray) else str(Path(s).resolve()) for s in style_list])
    run.open(restart=restart)

    clip_key = hashlib.sha256(repr((identity["input"], identity["frames"])).encode()).hexdigest()[:16]
    if video_s.flow_dir is not None:
        from .flowdir import FlowDirSource
        source: FlowSource = FlowDirSource(frames, Path(video_s.flow_dir), clip.first, run.flows_dir, clip_key)
    else:
        source = FlowSource(frames, video_s.flow, run.flows_dir, clip_key)
    try:
        frameloop.render(run, frames, stylizer, source, image_s, video_s, device, callback, first_init=first_init)
    finally:
        source.close()

    emit(callback, StageEvent("encoding", 0, 1, str(out_path)))
    t_io = time.perf_counter()
    out_frames = [run.read_frame(t, frames[0].shape) for t in range(n)]
    guard.check_result(out_frames, frames, f"the render in {str(run.path)!r}",
                       "check the style and --weights, then re-run with --restart")
    media.write_clip(out_text, out_frames, clip, audio=video_s.audio, crf=video_s.crf, fps=video_s.fps)
    run.complete = True
    run.save()
    emit(callback, StageEvent("encoding", 1, 1, f"{time.perf_counter() - t_io:.1f}s"))
    return VideoResult(output=out_path, work_dir=wd, frames=n, records=run.records,
                       seconds=time.perf_counter() - t_run)
