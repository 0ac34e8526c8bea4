"""Inference with a trained fast network: images, frame lists, and ``--fast-blend`` video.

``--fast-blend`` is the flow-guided composition of Chen et al. 2017 ("Coherent Online Video
Style Transfer") with classical optical flow instead of their flow sub-network: for frame t,

    backward = flows.estimate(frame_t, frame_{t−1}),  forward = flows.estimate(frame_{t−1}, frame_t)
    c        = strength · flows.reliability(backward, forward)          (≈1 where trackable)
    result_t = c · warp(result_{t−1}, backward) + (1 − c) · new_t

either on the network's output images (``blend_at="output"``) or on its middle feature maps
(``blend_at="features"``: after the residual blocks, 128 channels at 1/4 resolution; the flow is
averaged over 4×4 cells and divided by 4, c averaged likewise; the composed features are then
decoded) — the latter is Chen et al.'s own choice. ``result_{t−1}`` is the previous composed
result, kept in float (never re-read from 8 bits). Flows are computed on the source frames in a
worker thread, a few frames ahead of the network.

Measured (``make_clip(n_frames=10, height=96, width=128, seed=1)``; masked warping error =
mean over t of Σ M·(warp(O_{t−1}, ground-truth backward) − O_t)² / (3 Σ M), O in [0,1], M the
ground-truth valid mask; a network trained 100 steps with the random VGG; DIS flow):

    motion    per-frame   blend_at="output"   blend_at="features"
    pan       0.00390     0.00004             0.00171
    objects   0.00540     0.00172             0.00293
    mixed     0.00525     0.00203             0.00235

(bicubic warp as shipped; with bilinear warps: pan 0.00001 / 0.00422, objects 0.00170 / 0.00248,
mixed 0.00199 / 0.00260). ``output`` is therefore the default
(:class:`~neuralpaint.settings.FastSettings`). ``features`` is Chen et al.'s own choice, but
their decoder was trained on composed features; ours is not, and over 30+ frames the warped
1/4-resolution features drift (on a 30-frame clip it ended above per-frame inference).
The output composition is a recursive filter: the warped previous result dominates wherever
the flow is reliable, so textures stay glued to the scene (and keep the first frame's scale under
a zoom); ``strength`` < 1 lets the new frame in everywhere.
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F

import flows

from .. import guard, media
from ..device import autocast, is_oom, resolve_device
from ..errors import InputError, OutOfMemoryError
from ..events import Callback, StageEvent, emit
from ..settings import FAST_BLEND_AT, FastSettings
from .checkpoint import load_checkpoint, network_from_checkpoint
from .network import STRIDE, TransformNet, feature_size
from .regularizers import warp

ModelLike = Union[TransformNet, str, os.PathLike]
_DEFAULTS = FastSettings()
#: How many frames ahead the flow worker may run (bounds the memory held by pending flows).
_FLOW_AHEAD = 8
#: Resampling of the warp in the composition. Repeated bilinear warps blur a little more every
#: frame (sharpness of the 30th frame fell to ~45 % of per-frame inference's on a synthetic clip);
#: bicubic keeps it (~100 %) at about the same warping error.
_WARP_MODE = "bicubic"


def load_model(path: Union[str, os.PathLike], device: Union[str, torch.device] = "cpu") -> TransformNet:
    """Load a fast model file (validated, ``weights_only=True``) onto ``device`` in eval mode.

    ``device`` may be ``"auto"``/``"cuda:N"``/... (resolved like ``--device``) or a torch device.
    """
    dev = resolve_device(device) if isinstance(device, str) else torch.device(device)
    return network_from_checkpoint(load_checkpoint(path), dev)


def _model(model: ModelLike, device: Union[str, torch.device, None]) -> tuple[TransformNet, torch.device]:
    if isinstance(model, TransformNet):
        dev = next(model.parameters()).device if device is None else (
            resolve_device(device) if isinstance(device, str) else torch.device(device))
        return model.to(dev).eval(), dev
    net = load_model(model, "auto" if device is None else device)
    return net, next(net.parameters()).device


def _what(model: ModelLike) -> str:
    name = f"fast model {os.fspath(model)!r}" if isinstance(model, (str, os.PathLike)) else "the fast network"
    return f"the output of {name}"


#: What to do about a network whose output is NaN or one flat colour.
_BROKEN = "the network is broken (a diverged training run?); retrain it or use another model"


def _check_frames(frames: Sequence[np.ndarray]) -> None:
    for i, f in enumerate(frames):
        if not isinstance(f, np.ndarray) or f.dtype != np.uint8 or f.ndim != 3 or f.shape[2] != 3:
            desc = f"{f.dtype} {f.shape}" if isinstance(f, np.ndarray) else type(f).__name__
            raise InputError(f"frame {i} must be a uint8 HxWx3 RGB array, got {desc}")


def _batches(frames: Sequence[np.ndarray], batch: int) -> Iterator[tuple[int, int]]:
    """(start, end) of runs of at most ``batch`` consecutive frames of the same size."""
    i, n = 0, len(frames)
    while i < n:
        j = i + 1
        while j < n and j - i < batch and frames[j].shape == frames[i].shape:
            j += 1
        yield i, j
        i = j


def _oom(exc: RuntimeError, batch: int, device: torch.device) -> OutOfMemoryError:
    return OutOfMemoryError(f"out of memory on {device} with --batch {batch}; lower --batch or --size")


@torch.no_grad()
def stylize_frames(model: ModelLike, frames: Sequence[np.ndarray], batch: int = _DEFAULTS.batch,
                   device: Union[str, torch.device, None] = None, callback: Callback = None,
                   precision: str = "fp32") -> list[np.ndarray]:
    """Stylise each frame independently (uint8 HxWx3 in, uint8 HxWx3 out, same sizes, same count)."""
    _check_frames(frames)
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise InputError(f"batch must be an integer >= 1, got {batch!r}")
    net, dev = _model(model, device)
    out: list[np.ndarray] = []
    total = len(frames)
    try:
        for i, j in _batches(frames, batch):
            x = torch.cat([media.image_to_tensor(f, dev) for f in frames[i:j]], dim=0)
            with autocast(precision, dev):
                y = net(x).float()
            guard.check_finite(y, _what(model), _BROKEN)
            out.extend(media.tensor_to_image(y[k:k + 1]) for k in range(y.shape[0]))
            emit(callback, StageEvent("stylizing", len(out), total))
    except RuntimeError as exc:
        if is_oom(exc):
            raise _oom(exc, batch, dev) from None
        raise
    guard.check_result(out, frames, _what(model), _BROKEN)
    return out


def _flow_pair(a_prev: np.ndarray, b_cur: np.ndarray, method: str,
               params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(backward t→t−1, reliability) for frames (t−1, t)."""
    backward = flows.estimate(b_cur, a_prev, method=method, **params)
    forward = flows.estimate(a_prev, b_cur, method=method, **params)
    return backward, flows.reliability(backward, forward)


def _pad_map(m: torch.Tensor, ph: int, pw: int) -> torch.Tensor:
    """Pad a (1,C,H,W) map at the bottom/right like the network pads its input (edge values)."""
    if ph == 0 and pw == 0:
        return m
    return F.pad(m, (0, pw, 0, ph), mode="replicate")


def _to_feature_grid(backward: np.ndarray, c: np.ndarray, device: torch.device
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """Image-resolution flow / reliability -> feature resolution (4×4 means, flow / 4)."""
    h, w = c.shape
    ph, pw = TransformNet.padding(h, w)
    fl = torch.from_numpy(np.ascontiguousarray(backward)).to(device).permute(2, 0, 1)[None]
    cc = torch.from_numpy(np.ascontiguousarray(c)).to(device)[None, None]
    fl = F.avg_pool2d(_pad_map(fl, ph, pw), STRIDE) / STRIDE
    cc = F.avg_pool2d(_pad_map(cc, ph, pw), STRIDE)
    assert tuple(cc.shape[-2:]) == feature_size(h, w)
    return fl[0].permute(1, 2, 0), cc


@torch.no_grad()
def stylize_clip_blend(model: ModelLike, frames: Sequence[np.ndarray], method: str = _DEFAULTS.flow,
                       blend_at: str = _DEFAULTS.blend_at, strength: float = _DEFAULTS.blend_strength,
                       batch: int = _DEFAULTS.batch, device: Union[str, torch.device, None] = None,
                       flow_params: Optional[dict[str, Any]] = None, callback: Callback = None,
                       precision: str = "fp32") -> list[np.ndarray]:
    """``--fast-blend``: flow-guided composition of consecutive results (module docstring).

    ``frames``: uint8 HxWx3, all one size. Returns as many uint8 frames of that size.
    """
    _check_frames(frames)
    FastSettings(batch=batch, blend=True, blend_at=blend_at, flow=method, blend_strength=strength)
    if frames and any(f.shape != frames[0].shape for f in frames):
        raise InputError("--fast-blend needs frames of one size, got "
                         + ", ".join(sorted({f"{f.shape[1]}x{f.shape[0]}" for f in frames})))
    net, dev = _model(model, device)
    params = dict(flow_params or {})
    n = len(frames)
    if n == 0:
        return []
    h, w = frames[0].shape[:2]
    out: list[np.ndarray] = []
    prev: Optional[torch.Tensor] = None
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fast-blend-flow")
    pending: dict[int, Future] = {}

    def want(t: int) -> None:
        if 1 <= t < n and t not in pending:
            pending[t] = pool.submit(_flow_pair, frames[t - 1], frames[t], method, params)

    try:
        for t in range(1, min(n, 1 + _FLOW_AHEAD)):
            want(t)
        for i, j in _batches(frames, batch):
            x = torch.cat([media.image_to_tensor(f, dev) for f in frames[i:j]], dim=0)
            with autocast(precision, dev):
                enc = net.encode(x).float()
                if blend_at == "output":
                    enc = net.decode(enc, (h, w)).float()
            for k in range(j - i):
                t = i + k
                cur = enc[k:k + 1]
                if prev is not None:
                    backward, c = pending.pop(t).result()
                    want(t + _FLOW_AHEAD)
                    if blend_at == "features":
                        fl, cc = _to_feature_grid(backward, c, dev)
                    else:
                        fl = torch.from_numpy(backward).to(dev)
                        cc = torch.from_numpy(c).to(dev)[None, None]
                    cc = cc * float(strength)
                    cur = cc * warp(prev, fl, mode=_WARP_MODE) + (1 - cc) * cur
                    if blend_at == "output":
                        cur = cur.clamp(0, 1)  # bicubic overshoot must not accumulate
                prev = cur
                if blend_at == "features":
                    with autocast(precision, dev):
                        img = net.decode(cur, (h, w)).float()
                else:
                    img = cur
                guard.check_finite(img, _what(model), _BROKEN)
                out.append(media.tensor_to_image(img))
                emit(callback, StageEvent("stylizing", len(out), n))
    except RuntimeError as exc:
        if is_oom(exc):
            raise _oom(exc, batch, dev) from None
        raise
    finally:
        for fut in pending.values():
            fut.cancel()
        pool.shutdown(wait=True)
    guard.check_result(out, frames, _what(model), _BROKEN)
    return out


def stylize_video_frames(model: ModelLike, frames: Sequence[np.ndarray], blend: bool = _DEFAULTS.blend,
                         blend_at: str = _DEFAULTS.blend_at, method: str = _DEFAULTS.flow,
                         strength: float = _DEFAULTS.blend_strength, batch: int = _DEFAULTS.batch,
                         device: Union[str, torch.device, None] = None, callback: Callback = None,
                         precision: str = "fp32", mask_dir: Union[str, os.PathLike, None] = None
                         ) -> list[np.ndarray]:
    """Frames of a clip -> stylised frames: per frame, or with ``--fast-blend`` when ``blend``;
    online (:mod:`.online`, masks written to ``mask_dir`` when given) for a coherent model."""
    from .online import is_coherent_model, stylize_clip_online
    if is_coherent_model(model):
        if blend:
            raise InputError("--fast-blend is for per-frame models; a coherent model composes the previous "
                             "frame itself (drop --fast-blend)")
        assert not isinstance(model, TransformNet)
        return stylize_clip_online(model, frames, method=method, device=device, callback=callback,
                                   mask_dir=mask_dir)[0]
    if blend:
        return stylize_clip_blend(model, frames, method=method, blend_at=blend_at, strength=strength,
                                  batch=batch, device=device, callback=callback, precision=precision)
    return stylize_frames(model, frames, batch=batch, device=device, callback=callback,
                          precision=precision)


def stylize_image_file(model: ModelLike, content: Union[str, os.PathLike, np.ndarray],
                       output: Union[str, os.PathLike, None] = None, size: Optional[int] = None,
                       device: Union[str, torch.device, None] = None) -> np.ndarray:
    """One image (path or uint8 array), resized to long side ``size`` when given; saved
    atomically to ``output`` when given. Returns the uint8 result."""
    with guard.reading((None if isinstance(content, np.ndarray) else content, "content image"),
                       (None if isinstance(model, TransformNet) else model, "fast model")):
        if isinstance(content, np.ndarray):
            img = content
        else:
            p = Path(content)
            guard.must_exist(p, "content image")
            img = media.load_image(p)
        if size is not None:
            img = media.resize_long_side(img, size)
        result = stylize_frames(model, [img], batch=1, device=device)[0]
        if output is not None:
            media.save_image(output, result)
    return result


def stylize_video_file(model: ModelLike, source: Union[str, os.PathLike], output: Union[str, os.PathLike],
                       size: Optional[int] = None, start: Optional[int] = None, end: Optional[int] = None,
                       settings: Optional[FastSettings] = None, audio: bool = True,
                       device: Union[str, torch.device, None] = None, callback: Callback = None,
                       crf: Optional[int] = None, fps: Any = None) -> Path:
    """Read a clip, stylise it (``settings.blend`` for ``--fast-blend``), write it with the
    source's timing (GIF durations, fps, audio; ``fps``/``crf`` as :func:`media.write_clip`).
    A coherent model runs online and writes its masks to ``<run folder>/masks/`` (the run folder
    a video render of ``output`` would use). Returns the output path."""
    s = settings if settings is not None else FastSettings()
    from ..video import default_work_dir
    mask_dir = default_work_dir(Path(output)) / "masks"
    with guard.reading((source, "input"), (None if isinstance(model, TransformNet) else model, "fast model")):
        clip = media.read_clip(source, size=size, start=start, end=end)
        media.check_encoding(output, crf=crf, fps=fps, source=clip, audio=audio)
        guard.check_writes((p, "-o") for p in media.planned_files(output, len(clip.frames), clip.first))
        frames = stylize_video_frames(model, clip.frames, blend=s.blend, blend_at=s.blend_at, method=s.flow,
                                      strength=s.blend_strength, batch=s.batch, device=device,
                                      callback=callback, mask_dir=mask_dir)
        return media.write_clip(output, frames, clip, audio=audio, crf=crf, fps=fps)


__all__ = ["load_model", "stylize_frames", "stylize_clip_blend", "stylize_video_frames",
           "stylize_image_file", "stylize_video_file", "FAST_BLEND_AT"]
