"""Temporally coherent video stylisation (Ruder, Dosovitskiy & Brox).

The frame loop: style Grams once per run (:class:`~neuralpaint.optimize.StyleBank`), content
targets per frame; frame t starts from the previous *float* result warped with the backward
flow, disoccluded pixels filled from the current content frame; the temporal term holds frame t
to the warped earlier results (offset 1, or the long-term offsets J combined "closest first");
the stopping rule ends each frame; multi-pass alternates direction with a blended init.
Flows are computed in worker threads ahead of the optimiser and cached in the run folder.

Departures from the reference (manuelruder/artistic-videos), each deliberate:
- The first pass of multi-pass uses the single-pass initialisation (warped previous result when
  ``temporal_init``), not independent frames: it converges in fewer iterations and the later,
  alternating passes remove the directional bias all the same.
- The init of frame t takes each pixel from the closest earlier result that saw it (the offsets
  of ``--offsets`` and 1, combined closest first), and fills the pixels none of them saw from
  the painted pixels around them, never from the photograph (:mod:`neuralpaint.temporal` says
  why, with numbers). The reference warps the previous result everywhere.
- Warped results are resampled bicubically (:func:`flows.warp`), not bilinearly: repeated
  warping otherwise blurs the video frame after frame.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence, Union

import numpy as np
import torch

import flows

from . import guard, media, settings, temporal
from .api import ImageLike, style_tensors
from .device import resolve_device
from .errors import InputError, NonFiniteLossError
from .events import Callback, FrameDone, FrameStarted, StageEvent, emit
from .losses import TemporalTerm
from .optimize import STOP_NONFINITE, Stylizer
from .runstate import FrameRecord, RunFolder
from .settings import ImageSettings, ModelSettings, RuntimeSettings, VideoSettings
from .vgg import resolve_model


# Settings that do not change the pixels and may differ between a run and its resumption.
# (upscale: the frame size is in the identity anyway)
_NOT_IDENTITY = {"device", "progress_every", "compile", "audio", "upscale",
                 "crf", "fps"}  # encoding only: a re-run re-encodes the finished frames


def inside_only(c: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Reliability ``c`` with every pixel whose source lies outside the frame set to 0.

    Ruder's check zeroes those pixels *before* its Gaussian smoothing, which then gives them
    0.2–0.6 again from their neighbours. Warped images hold the fill value (black) there, so
    without this the init and the temporal target drag a dark band in from the edge that grows
    frame after frame in a pan.
    """
    return np.where(flows.out_of_frame(flow), np.float32(0), c).astype(np.float32, copy=False)


@dataclass
class PairFlows:
    """Both flows between frames t−j and t, and the reliability of warping in each direction."""

    backward: np.ndarray  #: t → t−j (warps frame t−j into t)
    forward: np.ndarray  #: t−j → t (warps frame t into t−j)
    #: reliability of warping t−j into t: the flow check, 0 where the source is outside, times
    #: the photometric gate of the warped source frame (:func:`temporal.photometric_gate`)
    c_backward: np.ndarray
    #: how well frame t−j *unmoved* matches frame t (the gate of a still candidate of the init)
    c_still: np.ndarray
    _c_forward: Optional[np.ndarray] = None

    @property
    def c_forward(self) -> np.ndarray:
        """Reliability of warping t into t−j (only multi-pass's backward passes need it)."""
        if self._c_forward is None:
            self._c_forward = inside_only(flows.reliability(self.forward, self.backward), self.forward)
        return self._c_forward


class FlowSource:
    """Flows of a clip by (t, j), computed ahead in threads, cached in memory and on disk.

    Unlike :class:`flows.FlowPrefetcher`, which walks forward through a clip, this serves any
    (t, j) in any order: multi-pass runs backward passes too. The computation and the disk cache
    are :meth:`flows.FlowCache.get_or_compute`. OpenCV releases the GIL in its flow code, so the
    threads overlap with the optimiser in the main thread.
    """

    def __init__(self, frames: Sequence[np.ndarray], method: str, cache_dir: Path,
                 clip_key: str, workers: int = 2, memory: int = 64):
        self.frames = frames
        self.method = method
        self.cache = flows.FlowCache(cache_dir, clip_id=clip_key)
        self.pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="flow")
        self.futures: dict[tuple[int, int], Future] = {}
        self.memory: OrderedDict[tuple[int, int], PairFlows] = OrderedDict()
        self.capacity = memory
        self.lock = threading.Lock()
        self.wait_seconds = 0.0

    def _compute(self, t: int, j: int) -> PairFlows:
        res = self.cache.get_or_compute(self.frames, t, j, method=self.method)
        return self.pair(t, j, res.backward, res.forward, res.reliability)

    def pair(self, t: int, j: int, backward: np.ndarray, forward: np.ndarray,
             reliability: np.ndarray) -> PairFlows:
        """The :class:`PairFlows` of frames t−j → t from their flows and flow-check reliability:
        zeroed outside the frame and gated by how well the warp reproduces the source frame."""
        cur, prev = self.frames[t].astype(np.float32) / 255, self.frames[t - j].astype(np.float32) / 255
        moved = np.abs(flows.warp(prev, backward) - cur).mean(axis=2)
        still = np.abs(prev - cur).mean(axis=2)
        c = inside_only(reliability, backward) * temporal.photometric_gate(moved)
        return PairFlows(backward, forward, c, temporal.photometric_gate(still))

    def prefetch(self, keys: Sequence[tuple[int, int]]) -> None:
        with self.lock:
            for key in keys:
                t, j = key
                if t - j < 0 or t >= len(self.frames) or key in self.memory or key in self.futures:
                    continue
                self.futures[key] = self.pool.submit(self._compute, t, j)

    def get(self, t: int, j: int) -> PairFlows:
        key = (t, j)
        with self.lock:
            if key in self.memory:
                self.memory.move_to_end(key)
                return self.memory[key]
            fut = self.futures.pop(key, None)
        t0 = time.perf_counter()
        pf = fut.result() if fut is not None else self._compute(t, j)
        self.wait_seconds += time.perf_counter() - t0
        with self.lock:
            self.memory[key] = pf
            while len(self.memory) > self.capacity:
                self.memory.popitem(last=False)
        return pf

    def warp_into(self, t: int, s: int, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Warp ``image`` (a result of frame s) into frame t; returns (warped, reliability)."""
        if s < t:
            pf = self.get(t, t - s)
            return _clip01(flows.warp(image, pf.backward)), pf.c_backward
        pf = self.get(s, s - t)
        return _clip01(flows.warp(image, pf.forward)), pf.c_forward

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


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


def _clip01(image: np.ndarray) -> np.ndarray:
    """Warped results stay in [0,1] (bicubic resampling overshoots a little at edges, and the
    overshoot would otherwise grow frame after frame)."""
    return np.clip(image, 0.0, 1.0, out=image)


def _to_np(x: torch.Tensor) -> np.ndarray:
    return x.detach()[0].permute(1, 2, 0).float().cpu().numpy()


def _to_torch(a: np.ndarray, device: torch.device) -> torch.Tensor:
    arr = a if a.ndim == 3 else a[..., None]
    return torch.from_numpy(np.ascontiguousarray(arr)).permute(2, 0, 1).unsqueeze(0).contiguous().to(device)


def stylize_video(input: Union[str, Path], styles: Sequence[ImageLike] = (), output: Union[str, Path, None] = None, *,
                  work_dir: Union[str, Path, None] = None, restart: bool = False, callback: Callback = None,
                  **options: Any) -> VideoResult:
    """Stylise a clip (GIF, video file or frame folder) and write ``output``.

    Options are the fields of :class:`ImageSettings`, :class:`VideoSettings`,
    :class:`ModelSettings` and :class:`RuntimeSettings`. Re-running with the same arguments
    resumes from ``work_dir`` (default: a hidden folder next to the output).
    """
    t_run = time.perf_counter()
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

    identity = {
        "input": media.file_identity(input_path),
        "styles": [_hash_style(s) for s in style_list],
        "frames": [n, int(frames[0].shape[0]), int(frames[0].shape[1])],
        "settings": {k: v for k, v in settings.as_dict(image_s, video_s, model_s, runtime_s).items()
                     if k not in _NOT_IDENTITY},
    }
    if image_s.init_image is not None:  # its content, not its name
        identity["settings"]["init_image"] = _hash_style(image_s.init_image)
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
        _render(run, frames, stylizer, source, image_s, video_s, device, callback, first_init=first_init)
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


def _render(run: RunFolder, frames: Sequence[np.ndarray], stylizer: Stylizer, source: FlowSource,
            image_s: ImageSettings, video_s: VideoSettings, device: torch.device, callback: Callback,
            first_init: Optional[torch.Tensor] = None) -> None:
    n = len(frames)
    offsets = video_s.temporal_offsets
    lookahead = 3
    raws: dict[int, np.ndarray] = {}  # float results (optimised space) of frames, HxWx3

    def raw(t: int) -> np.ndarray:
        if t not in raws:
            raws[t] = run.read_state(t)
        return raws[t]

    def content(t: int) -> torch.Tensor:
        c = media.image_to_tensor(frames[t]).to(device)
        return c

    def optimised_space(c: torch.Tensor) -> torch.Tensor:
        from .color import gray3
        return gray3(c) if image_s.preserve_colors else c

    for p in range(video_s.passes):
        forward = p % 2 == 0
        order = list(range(n)) if forward else list(range(n - 1, -1, -1))
        d = 1 if forward else -1
        temporal_on = p + 1 >= (video_s.first_temporal_pass if video_s.passes > 1 else 1)
        t_weight = video_s.temporal_weight * (video_s.multipass_temporal_scale if video_s.passes > 1 else 1.0)
        # the offsets whose flows this pass needs, for the look-ahead
        init_offsets = video_s.init_offsets
        need = video_s.flow_offsets
        for i, t in enumerate(order):
            if run.is_done(t, p):
                emit(callback, FrameDone(frame=i, frames=n, pass_index=p, passes=video_s.passes,
                                         iterations=run.records[t].iterations, loss=run.records[t].loss or 0.0,
                                         stop_reason=run.records[t].stop_reason or "", seconds=0.0, resumed=True))
                continue
            # flows of the next frames, computed while this one optimises
            ahead = order[i + 1: i + 1 + lookahead]
            source.prefetch([(u, j) if forward else (u + j, j) for u in ahead for j in need])
            if p == 0:
                cap = video_s.first_iters if i == 0 else image_s.iters
            else:
                cap = video_s.multipass_iters
            emit(callback, FrameStarted(frame=i, frames=n, pass_index=p, passes=video_s.passes, max_iters=cap))
            w0 = source.wait_seconds
            c_t = content(t)
            target_t = optimised_space(c_t)
            warps: dict[int, tuple[np.ndarray, np.ndarray]] = {}

            def warped_from(s: int, t: int = t, warps: dict = warps) -> tuple[np.ndarray, np.ndarray]:
                # the init and the temporal term both need frame t−1 warped: warp it once
                if s not in warps:
                    warps[s] = source.warp_into(t, s, raw(s))
                return warps[s]

            init: Optional[torch.Tensor] = None
            if p == 0:
                if i == 0:
                    init = first_init  # --init-image (None: ImageSettings.init)
                elif video_s.temporal_init:
                    # each pixel from the closest earlier result that saw it (temporal.initial_image)
                    js = [j for j in init_offsets if i - j >= 0]
                    pairs = [warped_from(t - j) for j in js]
                    still = [(raw(t - j), source.get(t, j).c_still) for j in js]
                    painted = None
                    if video_s.init_fill == "pass":
                        painted = _paint_unseen(stylizer, c_t, temporal.coverage([c for _, c in pairs], still),
                                                min(video_s.fill_iters, cap))
                    init = _to_torch(temporal.initial_image(
                        [w for w, _ in pairs], [c for _, c in pairs], _to_np(target_t), video_s.init_fill,
                        still=still, painted=painted), device)
            else:
                neighbours = [warped_from(s) for s in (t - 1, t + 1) if 0 <= s < n]
                init = _to_torch(temporal.multipass_init(raw(t), neighbours, video_s.blend_delta), device)
            terms = []
            if temporal_on and offsets and t_weight > 0:
                pairs = [warped_from(t - d * j) for j in offsets
                         if 0 <= t - d * j < n and not (p == 0 and i - j < 0)]
                if pairs:
                    targets, weights = temporal.temporal_targets(pairs)
                    terms.append((TemporalTerm([_to_torch(x, device) for x in targets],
                                               [_to_torch(c, device) for c in weights]), t_weight))
            flow_s = source.wait_seconds - w0
            result = stylizer.run(c_t, init=init, extra_terms=terms, max_iters=cap, callback=callback)
            if result.stop_reason == STOP_NONFINITE:
                # Nothing of this frame is written: the finished frames stay, and a re-run with a
                # saner setting resumes here.
                kept = (f"the {sum(1 for u in range(n) if run.is_done(u, p))} finished frames stay in "
                        f"{str(run.path)!r}" if i > 0 or p > 0 else "no frame was finished")
                raise NonFiniteLossError(
                    f"the loss became NaN or infinite on frame {t + 1} (pass {p + 1}); {kept}; lower "
                    f"--style-weight ({image_s.style_weight:g}), --temporal-weight "
                    f"({video_s.temporal_weight:g}) or --lr and re-run with --restart (other settings "
                    f"make a different render, which starts over)")
            t_io = time.perf_counter()
            raw_np = _to_np(result.raw)
            run.write_state(t, raw_np)
            media.save_image(run.frame_path(t), media.tensor_to_image(result.image))
            raws[t] = raw_np
            _forget(raws, t, d, max([*offsets, *init_offsets], default=1) + 1, keep_all=video_s.passes > 1 and n <= 64)
            rec = run.records[t]
            rec.passes_done = p + 1
            rec.iterations += result.iterations
            rec.iterations_per_pass.append(result.iterations)
            rec.loss, rec.losses, rec.stop_reason = result.loss, result.losses, result.stop_reason
            rec.seconds += result.seconds
            rec.flow_seconds += flow_s
            rec.history = [[float(a), float(b)] for a, b in result.history]
            rec.io_seconds += time.perf_counter() - t_io
            run.save()
            emit(callback, FrameDone(frame=i, frames=n, pass_index=p, passes=video_s.passes,
                                     iterations=result.iterations, loss=result.loss,
                                     stop_reason=result.stop_reason, seconds=result.seconds))


def _paint_unseen(stylizer: Stylizer, content: torch.Tensor, covered: np.ndarray, iters: int) -> Optional[np.ndarray]:
    """The regions of frame t that no earlier result covers, each painted by a short independent
    pass from the photograph on a crop around it (the style Grams of the whole frame's size, no
    temporal term): HxWx3 in the optimised space, NaN outside the regions; None when none.

    Our addition to Ruder et al. (their init fills them with the warped result, ours first with
    the photograph): new content, a person walking in, keeps its shape and is painted, instead
    of starting photographic (held so by the temporal term at small budgets) or as a smear of
    the surrounding paint."""
    boxes = temporal.unseen_regions(covered)
    if not boxes:
        return None
    h, w = covered.shape
    out = np.full((h, w, 3), np.nan, np.float32)
    for y0, y1, x0, x1 in boxes:
        crop = content[..., y0:y1, x0:x1]
        res = stylizer.run(crop, max_iters=iters, style_long_side=max(h, w))
        out[y0:y1, x0:x1] = _to_np(res.raw)
    return out


def _forget(raws: dict[int, np.ndarray], t: int, d: int, keep: int, keep_all: bool) -> None:
    """Drop float results that the coming frames of this pass no longer need (long clips)."""
    if keep_all:
        return
    for k in [k for k in raws if (k - t) * d < -keep]:
        del raws[k]
