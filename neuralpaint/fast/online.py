"""Online inference with a coherent model (:mod:`.coherent`): ``video --fast MODEL`` for a model
of ``neuralpaint train --coherent``.

Frame by frame: the first frame is the per-frame output; frame t composes its features with the
flow-warped composed features of frame t−1 through the learned mask (the features, not an 8-bit
image, are carried). Flows (backward t→t−1 and its reliability, as in training) are computed
on the source frames in a worker thread, a few frames ahead. The masks can be written as
grey PNGs (white = the warped previous features reused) for inspection.
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F

from .. import guard, media
from ..device import resolve_device
from ..errors import InputError
from ..events import Callback, StageEvent, emit
from ..settings import FastSettings
from .checkpoint import coherent_from_checkpoint, is_coherent, load_checkpoint
from .coherent import CoherentNet
from .pairs import estimated_pair

#: How many frames ahead the flow worker may run.
_FLOW_AHEAD = 8
#: Resampling of the composed features' warp (bicubic keeps repeated warps from blurring them).
_WARP_MODE = "bicubic"
_BROKEN = "the coherent network is broken (a diverged training run?); retrain it or use another model"


def mask_name(t: int) -> str:
    """File name of frame t's mask (0-based t; the first frame has none)."""
    return f"mask_{t + 1:05d}.png"


def is_coherent_model(model: object) -> bool:
    """True for a CoherentNet or the path of a coherent model file."""
    if isinstance(model, CoherentNet):
        return True
    if isinstance(model, (str, os.PathLike)):
        return is_coherent(load_checkpoint(model))
    return False


@torch.no_grad()
def stylize_clip_online(model: Union[CoherentNet, str, os.PathLike], frames: Sequence[np.ndarray],
                        method: str = FastSettings().flow, device: Union[str, torch.device, None] = None,
                        callback: Callback = None, mask_dir: Union[str, os.PathLike, None] = None,
                        ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Stylise a clip online. Returns (frames, masks): uint8 HxWx3 frames and uint8 HxW masks at
    the frame size (one fewer than frames). ``mask_dir``: also write the masks there as PNGs."""
    if not frames:
        return [], []
    if any(not isinstance(f, np.ndarray) or f.dtype != np.uint8 or f.ndim != 3 for f in frames):
        raise InputError("frames must be uint8 HxWx3 RGB arrays")
    if any(f.shape != frames[0].shape for f in frames):
        raise InputError("a coherent model needs frames of one size, got "
                         + ", ".join(sorted({f"{f.shape[1]}x{f.shape[0]}" for f in frames})))
    dev = torch.device(device) if isinstance(device, torch.device) else resolve_device(device or "auto")
    if isinstance(model, CoherentNet):
        cnet = model.to(dev).eval()
    else:
        cnet = coherent_from_checkpoint(load_checkpoint(model), dev)
    out_dir = Path(mask_dir) if mask_dir is not None else None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    n = len(frames)
    h, w = frames[0].shape[:2]
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="coherent-flow")
    pending: dict[int, Future] = {}

    def want(t: int) -> None:
        if 1 <= t < n and t not in pending:
            pending[t] = pool.submit(estimated_pair, frames[t - 1], frames[t], method)

    out: list[np.ndarray] = []
    masks: list[np.ndarray] = []
    prev_x: Optional[torch.Tensor] = None
    prev_f: Optional[torch.Tensor] = None
    try:
        for t in range(1, min(n, 1 + _FLOW_AHEAD)):
            want(t)
        for t in range(n):
            x = media.image_to_tensor(frames[t], dev)
            if prev_f is None:
                img, feats, m = cnet.step(x)
            else:
                backward, c = pending.pop(t).result()
                want(t + _FLOW_AHEAD)
                flow = torch.from_numpy(backward).to(dev)[None]
                cc = torch.from_numpy(c).to(dev)[None, None]
                img, feats, m = cnet.step(x, None, prev_x, prev_f, flow, cc, warp_mode=_WARP_MODE)
            guard.check_finite(img, "the output of the coherent network", _BROKEN)
            out.append(media.tensor_to_image(img))
            if m is not None:
                up = F.interpolate(m, scale_factor=4, mode="bilinear", align_corners=False)[0, 0, :h, :w]
                mask = (up.clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()
                masks.append(mask)
                if out_dir is not None:
                    media.save_image(out_dir / mask_name(t), np.repeat(mask[..., None], 3, axis=2))
            prev_x, prev_f = x, feats
            emit(callback, StageEvent("stylizing", t + 1, n))
    finally:
        for fut in pending.values():
            fut.cancel()
        pool.shutdown(wait=True)
    guard.check_result(out, frames, "the output of the coherent network", _BROKEN)
    return out, masks


__all__ = ["is_coherent_model", "mask_name", "stylize_clip_online"]
