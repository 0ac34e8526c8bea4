"""Train the fast network for one style (Johnson et al. 2016, with video stability terms).

Per step, on a batch X of random crops (``size``×``size``) of the training data:

    L = α·content(F(X), X) + β·style(F(X)) + γ·TV(F(X))
      + λ_n·mean (F(X + n) − F(X))²                     noise stability (Rainy & de Berker)
      + λ_c·masked mean (W(F(X)) − F(W(X) + Δ))²         compound regularisation (Wang et al.)

with the project's VGG-19 and losses (:mod:`neuralpaint.losses`): content = mean squared
feature difference at ``content_layer`` (Johnson: relu2_2), style = Σ_l mean (G_l − A_l)² over
``style_layers`` with G = F Fᵀ/(C·H·W), the style targets A computed once. Adam, seeded.

Data: a folder of images (read lazily; subfolders included), a single image, or a video / GIF /
animated image whose frames are used (so a user can train on their own clip without a dataset).
Each sample: resize so the short side is ``size``·U(1, 1.5), random ``size``² crop, random
horizontal flip. The sampling of step s depends only on (seed, s), so a resumed run sees
exactly the batches an uninterrupted run would have seen.

Checkpoints: the output file itself (see :mod:`.checkpoint`), written atomically every
``checkpoint_every`` steps and at the end. An existing output with the same settings (except
``steps``, ``checkpoint_every``, ``sample_every``), VGG weights and style image is resumed;
different ones raise :class:`~neuralpaint.errors.ResumeError` unless ``resume=False``.
A stylised sample (``<output stem>_sample.png``) is written every ``sample_every`` steps.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Optional, Union

import numpy as np
import torch

from .. import media
from ..device import configure_precision, effective_precision, is_oom, resolve_device
from ..errors import (InputError, NonFiniteLossError, OutOfMemoryError, ResumeError, WeightsError)
from ..events import Callback, Notice, StageEvent, emit
from ..objective import LossWeights, Objective, style_grams
from ..runstate.identity import file_identity
from ..settings import ModelSettings, RuntimeSettings, TrainSettings, as_dict
from ..vgg import VGGFeatures, load_vgg, resolve_model
from .checkpoint import is_coherent, load_checkpoint, save_checkpoint
from .data import DataLike, TrainingData
from .network import TransformNet
from .regularizers import compound_loss, noise_stability_loss



# --------------------------------------------------------------------------------------------
# events


@dataclass(frozen=True)
class TrainStep:
    """One optimiser step finished."""

    step: int  #: 1-based, counting from the start of training (not of this session)
    steps: int  #: the target number of steps
    loss: float  #: total weighted loss
    losses: dict[str, float]  #: weighted parts: content, style, tv, noise, compound
    elapsed: float  #: seconds since this session started
    start_step: int = 0  #: the step this session resumed from (0 = fresh)


@dataclass(frozen=True)
class CheckpointSaved:
    step: int
    path: Path


@dataclass(frozen=True)
class SampleSaved:
    step: int
    path: Path


@dataclass
class TrainResult:
    path: Path  #: the model file
    step: int  #: steps done in total
    start_step: int  #: where this session started (0 = fresh; == step when nothing was left)
    losses: dict[str, float] = field(default_factory=dict)  #: last step's weighted parts
    seconds: float = 0.0
    sample: Optional[Path] = None


def fingerprint(train_s: TrainSettings, model_s: ModelSettings, style_sha: str) -> dict[str, Any]:
    """The plain dict stored as the checkpoint's ``settings``."""
    return {"train": as_dict(train_s), "model": as_dict(model_s), "style_sha256": style_sha}


def _resume_conflict(stored: dict[str, Any], current: dict[str, Any]) -> Optional[str]:
    """A message naming the first setting that differs (ignoring resumable ones), else None."""
    ignore = set(TrainSettings.RESUMABLE_CHANGES)
    for group in ("train", "model"):
        a, b = stored.get(group, {}), current.get(group, {})
        for key in sorted(set(a) | set(b)):
            if group == "train" and key in ignore:
                continue
            if _norm(a.get(key)) != _norm(b.get(key)):
                return f"{key} was {a.get(key)!r}, now {b.get(key)!r}"
    if stored.get("style_sha256") != current.get("style_sha256"):
        return "the style image differs"
    return None


def _norm(v: Any) -> Any:
    return list(v) if isinstance(v, tuple) else v


def _sha256(img: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update(str(img.shape).encode())
    h.update(np.ascontiguousarray(img).tobytes())
    return h.hexdigest()


def sample_path(output: Path) -> Path:
    return output.with_name(f"{output.stem}_sample.png")


# --------------------------------------------------------------------------------------------
# training


@dataclass
class TrainingInputs:
    """What every training run checks and reads first (per-frame and coherent alike)."""

    model: ModelSettings  #: the concrete loss-network features (``auto`` resolved)
    notices: list[Any]  #: what resolving them said; shown after the resume checks, so that a
    #: refused resume prints its error first
    runtime: RuntimeSettings
    output: Path
    style: np.ndarray
    style_sha: str

    @classmethod
    def of(cls, style: Any, output: Union[str, os.PathLike], model: Optional[ModelSettings],
           runtime: Optional[RuntimeSettings]) -> "TrainingInputs":
        # resolved now: the checkpoint's fingerprint names the concrete features
        notices: list[Any] = []
        model_s = resolve_model(model if model is not None else ModelSettings(), notices.append)
        out = Path(output)
        if out.is_dir():
            raise InputError(f"output {str(out)!r} is a directory; give a model file like model.pt")
        style_img = _style_array(style)
        return cls(model_s, notices, runtime if runtime is not None else RuntimeSettings(), out, style_img,
                   _sha256(style_img))


def train(style: Union[str, os.PathLike, np.ndarray], data: DataLike, output: Union[str, os.PathLike],
          settings: Optional[TrainSettings] = None, callback: Callback = None, resume: bool = True, *,
          model: Optional[ModelSettings] = None, runtime: Optional[RuntimeSettings] = None,
          init: Union[str, os.PathLike, None] = None) -> TrainResult:
    """Train (or resume training) a fast network for ``style``; the model is written to ``output``.

    ``resume=True``: continue from ``output`` when it is a checkpoint of the same settings
    (a ``ResumeError`` naming the difference otherwise); ``resume=False``: start over and
    overwrite it. ``model``: the VGG loss network (default: ImageNet weights). ``init``: a model
    file whose network weights a fresh run starts from (a fresh optimiser; e.g. a short content-only
    run, so that the style term works on a network that already reproduces the content).
    """
    s = settings if settings is not None else TrainSettings()
    job = TrainingInputs.of(style, output, model, runtime)
    model_s, runtime_s, output, style_img, style_sha = job.model, job.runtime, job.output, job.style, job.style_sha
    weight_notices = job.notices
    meta = fingerprint(s, model_s, style_sha)
    init_ckpt = None
    if init is not None:
        if not Path(init).is_file():
            raise InputError(f"--init model {str(init)!r} does not exist")
        init_ckpt = load_checkpoint(init)
        meta["init"] = file_identity(Path(init))
    style_info = {"name": Path(style).name if isinstance(style, (str, os.PathLike)) else "<array>",
                  "sha256": style_sha}

    device = resolve_device(runtime_s.device)
    precision = effective_precision(runtime_s.precision, device)
    configure_precision(precision, device)

    # Resume decision before any expensive work.
    ckpt = None
    if resume and output.exists():
        ckpt = resumable_checkpoint(output, meta, s.steps, callback, coherent=False,
                                    start="init", start_label="the --init model")
        if ckpt["step"] >= s.steps:
            return TrainResult(path=output, step=ckpt["step"], start_step=ckpt["step"])

    for notice in weight_notices:
        emit(callback, notice)
    emit(callback, StageEvent("loading data", 0, 1))
    dataset = TrainingData.open(data, s.size)
    emit(callback, StageEvent("loading data", 1, 1, f"{len(dataset)} images"))

    lossnet = LossNetwork.create(style_img, s, model_s, device, runtime_s.channels_last, precision)
    net = new_network(s.seed).to(device)
    if init_ckpt is not None:
        net.load_state_dict(init_ckpt["state_dict"])
    opt = torch.optim.Adam(net.parameters(), lr=s.lr)
    start = 0
    if ckpt is not None:
        net.load_state_dict(ckpt["state_dict"])
        start = resume_optimizer(opt, ckpt, output)
    net.train()

    parts_f: dict[str, float] = {}
    t0 = time.perf_counter()
    sample = None
    step = start
    try:
        for step in range(start + 1, s.steps + 1):
            rng = np.random.default_rng([s.seed, step])
            gen = torch.Generator().manual_seed(s.seed * 1_000_003 + step)
            x = dataset.batch(rng, s.batch, device)
            total, parts = lossnet.loss(net, x, s, gen)
            opt.zero_grad(set_to_none=True)
            total.backward()
            parts_f = {k: float(v.detach()) for k, v in parts.items()}
            loss_f = float(total.detach())
            if not math.isfinite(loss_f):
                raise NonFiniteLossError(
                    f"the training loss became {loss_f} at step {step}; the last checkpoint "
                    f"is kept in {str(output)!r}; lower --lr ({s.lr:g}) or --style-weight "
                    f"({s.style_weight:g})")
            opt.step()
            emit(callback, TrainStep(step, s.steps, loss_f, parts_f, time.perf_counter() - t0, start))
            if step % s.checkpoint_every == 0 or step == s.steps:
                save_checkpoint(output, net, meta, step, opt, style_info)
                emit(callback, CheckpointSaved(step, output))
            if s.sample_every and (step % s.sample_every == 0 or step == s.steps):
                sample = _save_sample(net, dataset, sample_path(output), device)
                net.train()
                emit(callback, SampleSaved(step, sample))
    except RuntimeError as exc:
        if is_oom(exc):
            raise OutOfMemoryError(f"out of memory on {device} at --size {s.size} --batch {s.batch}; "
                                   f"lower --batch or --size (training resumes from step "
                                   f"{step - 1 - (step - 1) % s.checkpoint_every})") from None
        raise
    return TrainResult(path=output, step=s.steps, start_step=start, losses=parts_f,
                       seconds=time.perf_counter() - t0, sample=sample)


def resumable_checkpoint(output: Path, meta: Mapping[str, Any], steps: int, callback: Callback, *,
                         coherent: bool, start: str, start_label: str) -> dict[str, Any]:
    """The checkpoint at ``output`` that a training with fingerprint ``meta`` may continue: of
    the same kind (per-frame or ``coherent``), the same settings and the same model it started
    from (``meta[start]``, e.g. ``--init`` or ``--base``); a ``ResumeError`` naming the difference
    otherwise. Says so when it has done its ``steps`` already."""
    try:
        ckpt = load_checkpoint(output)
    except WeightsError as exc:
        raise ResumeError(f"{exc}; choose another -o, or --restart to overwrite it") from None
    if is_coherent(ckpt) != coherent:
        kinds = ("a per-frame model, not a coherent one", "a coherent model, not a per-frame one")
        raise ResumeError(f"{str(output)!r} is {kinds[is_coherent(ckpt)]}; choose another -o, "
                          f"or --restart to overwrite it")
    conflict = _resume_conflict(ckpt["settings"], dict(meta))
    if conflict is None and ckpt["settings"].get(start) != meta.get(start):
        conflict = f"{start_label} differs"
    if conflict is not None:
        raise ResumeError(f"{str(output)!r} was trained with other settings ({conflict}); "
                          f"use --restart to start over, or another -o")
    if ckpt["step"] >= steps:
        emit(callback, Notice(f"{output} has already done {ckpt['step']} of {steps} steps; "
                              f"nothing to do (raise --steps to train longer)", level="info"))
    return ckpt


def resume_optimizer(opt: torch.optim.Optimizer, ckpt: Mapping[str, Any], output: Path) -> int:
    """Restore the optimiser state of a checkpoint being resumed; returns its step."""
    if ckpt.get("optimizer") is not None:
        try:
            opt.load_state_dict(ckpt["optimizer"])
        except (ValueError, KeyError) as exc:
            raise ResumeError(f"{str(output)!r}: cannot restore the optimiser state ({exc}); "
                              f"use --restart") from None
    return int(ckpt["step"])


def new_network(seed: int) -> TransformNet:
    """A freshly initialised TransformNet, the same for the same seed (global RNG untouched)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return TransformNet()


@dataclass
class LossNetwork:
    """The VGG-19 loss network: the shared :class:`~neuralpaint.objective.Objective` (style Gram
    targets computed once) plus the terms that need the network (noise, compound)."""

    objective: Objective
    precision: str = "fp32"

    @property
    def vgg(self) -> VGGFeatures:
        return self.objective.vgg

    @property
    def style_targets(self) -> Mapping[str, torch.Tensor]:
        return self.objective.style_targets

    @classmethod
    def create(cls, style_img: np.ndarray, s: TrainSettings, model: ModelSettings,
               device: torch.device, channels_last: bool = True, precision: str = "fp32") -> "LossNetwork":
        vgg = load_vgg(model, [s.content_layer, *s.style_layers], device, channels_last=channels_last)
        #: shares ``vgg``'s modules, truncated at the content layer (the targets of each batch)
        vgg_content = vgg.truncated([s.content_layer])
        style_t = media.image_to_tensor(media.resize_long_side(style_img, s.style_size or s.size), device)
        targets = style_grams(vgg, [style_t], s.style_layers, precision=precision)
        weights = LossWeights.of(s)
        if s.normalize_losses:
            with torch.no_grad():
                content_ms = float(vgg_content(style_t)[s.content_layer].float().pow(2).mean())
            weights = normalized_weights(weights, targets, content_ms)
        return cls(Objective(vgg, weights, targets, precision=precision, content_vgg=vgg_content), precision)

    def loss(self, net: TransformNet, x: torch.Tensor, s: TrainSettings,
             gen: torch.Generator) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Total weighted loss and its weighted parts for the batch ``x`` (see module docstring).

        The content, style and TV weights and layers are those of the settings given to
        :meth:`create`; ``s`` gives the noise and compound terms'."""
        out = net(x)
        parts = self.objective.parts(out, content_target=self.objective.content_target(x))
        if s.noise_weight > 0:
            parts["noise"] = s.noise_weight * noise_stability_loss(net, x, out, s.noise_fraction,
                                                                   s.noise_std, gen)
        if s.compound_weight > 0:
            parts["compound"] = s.compound_weight * compound_loss(net, x, out, s.compound_shift,
                                                                  s.compound_noise_std, gen)
        total = sum(parts.values(), out.new_zeros(()))
        return total, parts

    @torch.no_grad()
    def evaluate(self, net: TransformNet, x: torch.Tensor, s: TrainSettings, seed: int = 0) -> dict[str, float]:
        """Weighted loss parts and ``total`` on a fixed batch with fixed noise (tests, diagnostics)."""
        total, parts = self.loss(net, x, s, torch.Generator().manual_seed(seed))
        out = {k: float(v) for k, v in parts.items()}
        out["total"] = float(total)
        return out


def normalized_weights(weights: LossWeights, targets: Mapping[str, torch.Tensor],
                       content_mean_square: float) -> LossWeights:
    """Scale-free weights: the style term divided by Σ_l mean(A_l²) over the style layers' target
    Grams, the content term by ``content_mean_square`` (the style image's mean squared feature at
    the content layer). The raw style term grows as feature⁴ and the content term as feature², so
    a raw content/style ratio holds for one VGG's scale only; these make it hold for any.

    One factor for every style layer keeps their natural balance (the shallow layers, colour and
    fine texture, dominate, as in Johnson et al.'s own runs on Caffe's VGG-16). Measured on the
    trained VGG-16 (HED) features (street clip, Starry Night, 128 px crops): with the raw terms and
    style weight 1e5 (tuned for torchvision's input scale; HED's features are on Caffe's ~58× larger
    scale) the network ignored the content (grey frames with yellow blobs); dividing each layer by
    its own target instead (equal layers) still gave blobs after 50–200 steps at style weights
    1–10, because it lifts relu4_3 by ~1e7 against relu1_2."""
    total = sum(float(a.float().pow(2).mean()) for a in targets.values())
    scale = 1.0 / max(total, 1e-30)
    per_layer = weights.layer_weights or {}
    layer_weights = {n: float(per_layer.get(n, 1.0)) * scale for n in targets}
    return replace(weights, content=weights.content / max(content_mean_square, 1e-30),
                   layer_weights=layer_weights)


@torch.no_grad()
def _save_sample(net: TransformNet, data: TrainingData, path: Path, device: torch.device) -> Path:
    net.eval()
    img = media.tensor_to_image(net(media.image_to_tensor(data.sample_image(), device)))
    media.save_image(path, img)
    return path


def _style_array(style: Union[str, os.PathLike, np.ndarray]) -> np.ndarray:
    if isinstance(style, np.ndarray):
        from ..api import as_array
        return as_array(style)
    p = Path(style)
    if not p.exists():
        raise InputError(f"style image {str(p)!r} does not exist")
    if p.is_dir():
        raise InputError(f"style image {str(p)!r} is a directory, expected an image file")
    return media.load_image(p)
