"""Train the coherent online network (``neuralpaint train --coherent``; :mod:`.coherent`).

Per step, on a batch of frame-pair crops (:mod:`.pairs`), with F = the encoder, D = the decoder:

    O_{t−1} = D(F(x_{t−1}))                         the per-frame output of the previous frame
    O_t     = D(M ⊙ W(F(x_{t−1})) + (1 − M) ⊙ F(x_t))  the composed output (M: the mask network)
    L = α·content(O_t, x_t) + β·style(O_t) + γ·TV(O_t)            the shared objective (objective.py)
      + λ_t · mean v ⊙ (O_t − W*(O_{t−1}))²                       Chen et al.'s temporal loss
      + λ_m · BCE(M, M*)                                           on synthetic pairs only

W warps with the estimated flow (what the online mode will have), W* with the exact flow on
synthetic pairs (the estimated one on real footage), v is the exact visibility (synthetic) or
the flow check's reliability (real), M* the ground-truth reuse mask (:mod:`.pairs`).

Departures from Chen et al. and why: the stylisation network comes from a per-frame model
(``base``) and is frozen by default while the mask network learns, as in their second stage,
but their flow sub-network is replaced by classical flow (nothing to train there); the mask
network is also supervised where exact occlusion is known (synthetic clips), which their
training data (no ground-truth flow for real video) did not allow; the previous frame's
features in training are its per-frame features (the online mode feeds the composed ones).
The noise and compound regularisers of per-frame training are not used here.

Resumable like :func:`.train.train`: the output file is the checkpoint; the same settings,
features, style and base model continue it.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np
import torch
import torch.nn.functional as F

from .. import media
from ..device import configure_precision, effective_precision, resolve_device
from ..errors import InputError, NonFiniteLossError
from ..events import Callback, StageEvent, emit
from ..losses import temporal_loss
from ..runstate.identity import file_identity
from ..settings import ModelSettings, RuntimeSettings, TrainSettings
from .checkpoint import load_checkpoint, save_checkpoint
from .coherent import CoherentNet, feature_map
from .pairs import PairBatch, PairData
from .regularizers import warp
from .train import (CheckpointSaved, LossNetwork, SampleSaved, TrainingInputs, TrainResult, TrainStep,
                    fingerprint, new_network, resumable_checkpoint, resume_optimizer, sample_path)


def train_coherent(style: Union[str, os.PathLike, np.ndarray], data: Union[str, os.PathLike],
                   output: Union[str, os.PathLike], settings: Optional[TrainSettings] = None,
                   callback: Callback = None, resume: bool = True, *, base: Union[str, os.PathLike, None] = None,
                   model: Optional[ModelSettings] = None, runtime: Optional[RuntimeSettings] = None) -> TrainResult:
    """Train (or resume) a coherent online network for ``style`` on the frame pairs of ``data``
    (a clip or a folder of consecutive frames), starting from the per-frame model ``base``."""
    s = settings if settings is not None else TrainSettings(coherent=True)
    job = TrainingInputs.of(style, output, model, runtime)
    model_s, runtime_s, output, notices = job.model, job.runtime, job.output, job.notices
    base_ckpt = _base(base)
    if s.freeze_base and base_ckpt is None:
        raise InputError("--coherent with a frozen stylisation network needs --base MODEL (a per-frame model "
                         "of `neuralpaint train`), or --no-freeze-base to train everything from scratch")
    style_img, style_sha = job.style, job.style_sha
    if base_ckpt is not None and base_ckpt["settings"].get("style_sha256") not in (None, style_sha):
        raise InputError(f"base model {str(base)!r} was trained on another style image; give the same style")
    meta = fingerprint(s, model_s, style_sha)
    meta["base"] = file_identity(Path(base)) if base is not None else None
    style_info = {"name": Path(style).name if isinstance(style, (str, os.PathLike)) else "<array>",
                  "sha256": style_sha}
    device = resolve_device(runtime_s.device)
    precision = effective_precision(runtime_s.precision, device)
    configure_precision(precision, device)

    ckpt = (resumable_checkpoint(output, meta, s.steps, callback, coherent=True, start="base",
                                 start_label="the base model")
            if resume and output.exists() else None)
    if ckpt is not None and ckpt["step"] >= s.steps:
        return TrainResult(path=output, step=ckpt["step"], start_step=ckpt["step"])
    for notice in notices:
        emit(callback, notice)

    emit(callback, StageEvent("computing flows", 0, 2))
    dataset = PairData.build(data, s.size, s.flow, s.synthetic_clips, s.seed,
                             progress=lambda i, n: emit(callback, StageEvent("computing flows", i, n)))
    emit(callback, StageEvent("computing flows", 2, 2, f"{len(dataset)} frame pairs"))
    lossnet = LossNetwork.create(style_img, s, model_s, device, runtime_s.channels_last, precision)

    net = new_network(s.seed)
    if base_ckpt is not None:
        net.load_state_dict(base_ckpt["state_dict"])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(s.seed + 1)
        cnet = CoherentNet(net=net).to(device)
    frozen = s.freeze_base and base_ckpt is not None
    cnet.net.requires_grad_(not frozen)
    params = list(cnet.mask.parameters()) + ([] if frozen else list(cnet.net.parameters()))
    opt = torch.optim.Adam(params, lr=s.lr)
    start = 0
    if ckpt is not None:
        cnet.net.load_state_dict(ckpt["state_dict"])
        cnet.mask.load_state_dict(ckpt["mask_state_dict"])
        start = resume_optimizer(opt, ckpt, output)

    parts_f: dict[str, float] = {}
    sample = None
    t0 = time.perf_counter()
    for step in range(start + 1, s.steps + 1):
        rng = np.random.default_rng([s.seed, step])
        batch = dataset.batch(rng, s.batch, device)
        total, parts = coherent_loss(cnet, lossnet, batch, s, frozen)
        opt.zero_grad(set_to_none=True)
        total.backward()
        loss_f = float(total.detach())
        if not math.isfinite(loss_f):
            raise NonFiniteLossError(f"the training loss became {loss_f} at step {step}; the last checkpoint "
                                     f"is kept in {str(output)!r}; lower --lr ({s.lr:g})")
        opt.step()
        parts_f = {k: float(v.detach()) for k, v in parts.items()}
        emit(callback, TrainStep(step, s.steps, loss_f, parts_f, time.perf_counter() - t0, start))
        if step % s.checkpoint_every == 0 or step == s.steps:
            save_checkpoint(output, cnet.net, meta, step, opt, style_info, mask=cnet.mask)
            emit(callback, CheckpointSaved(step, output))
        if s.sample_every and (step % s.sample_every == 0 or step == s.steps):
            sample = _save_sample(cnet, dataset, sample_path(output), device)
            emit(callback, SampleSaved(step, sample))
    return TrainResult(path=output, step=s.steps, start_step=start, losses=parts_f,
                       seconds=time.perf_counter() - t0, sample=sample)


def coherent_loss(cnet: CoherentNet, lossnet: LossNetwork, b: PairBatch, s: TrainSettings,
                  frozen: bool) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Total weighted loss and its weighted parts (module docstring) for one batch of pairs."""
    size = (int(b.cur.shape[-2]), int(b.cur.shape[-1]))
    with torch.no_grad():
        prev_feats = cnet.net.encode(b.prev)
        prev_out = cnet.net.decode(prev_feats, size)
    with torch.set_grad_enabled(not frozen):
        feats = cnet.net.encode(b.cur)
    out, _, m = cnet.step(b.cur, feats, b.prev, prev_feats, b.flow, b.c)
    assert m is not None
    objective = lossnet.objective
    parts = objective.parts(out, content_target=objective.content_target(b.cur))
    if s.temporal_weight > 0:
        parts["temporal"] = s.temporal_weight * temporal_loss(out, warp(prev_out, b.target_flow), b.valid)
    if s.mask_weight > 0 and float(b.has_mask.sum()) > 0:
        target = feature_map(b.mask_target)
        bce = F.binary_cross_entropy(m.clamp(1e-6, 1 - 1e-6), target, reduction="none") * b.has_mask
        parts["mask"] = s.mask_weight * bce.sum() / (b.has_mask.sum() * m[0].numel())
    total = sum(parts.values(), out.new_zeros(()))
    return total, parts


def _base(base: Union[str, os.PathLike, None]) -> Optional[dict[str, Any]]:
    if base is None:
        return None
    p = Path(base)
    if not p.is_file():
        raise InputError(f"base model {str(p)!r} does not exist")
    return load_checkpoint(p)


@torch.no_grad()
def _save_sample(cnet: CoherentNet, data: PairData, path: Path, device: torch.device) -> Path:
    """The composed output of the first pair, beside its mask (grey, upsampled)."""
    p = data.pairs[0]
    x = media.image_to_tensor(p.cur, device)
    prev = media.image_to_tensor(p.prev, device)
    flow = torch.from_numpy(p.flow).to(device)[None]
    c = torch.from_numpy(p.c).to(device)[None, None]
    out, _, m = cnet.step(x, None, prev, cnet.net.encode(prev), flow, c)
    assert m is not None
    mask = F.interpolate(m, scale_factor=4, mode="nearest")[..., : x.shape[-2], : x.shape[-1]].expand(-1, 3, -1, -1)
    media.save_image(path, media.tensor_to_image(torch.cat([out, mask], dim=-1)))
    return path


__all__ = ["train_coherent", "coherent_loss"]
