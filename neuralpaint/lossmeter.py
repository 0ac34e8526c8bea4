"""Loss measuring: the style and content losses of finished frames, through the run's own
objective (:mod:`neuralpaint.objective`), so every method is measured the same way (see the
"Losses" paragraph of :mod:`neuralpaint.metrics`)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Optional, Sequence, Union

import numpy as np
import torch

from . import media
from .errors import InputError
from .settings import ImageSettings, ModelSettings


def _num(v: Optional[float]) -> Optional[float]:
    return None if v is None or not math.isfinite(v) else float(v)



@dataclass
class FrameLosses:
    """Mean weighted style and content losses of a clip's frames (and the per-frame values)."""

    style: float
    content: float
    per_frame_style: list[float]
    per_frame_content: list[float]
    style_weight: float
    content_weight: float

    def to_json(self) -> dict[str, Any]:
        return {"style": _num(self.style), "content": _num(self.content),
                "per_frame_style": [_num(v) for v in self.per_frame_style],
                "per_frame_content": [_num(v) for v in self.per_frame_content],
                "style_weight": self.style_weight, "content_weight": self.content_weight}


class LossMeter:
    """A loaded VGG-19 and the style Grams, to measure the losses of many frames/clips."""

    def __init__(self, style: Union[Sequence[Any], Any], model_settings: ModelSettings,
                 image_settings: ImageSettings, device: Union[str, torch.device] = "cpu"):
        from .api import style_tensors
        from .device import resolve_device
        from .objective import LossWeights, Objective, StyleBank
        from .vgg import load_vgg

        self.device = resolve_device(device) if isinstance(device, str) else torch.device(device)
        self.image_settings = image_settings
        styles = list(style) if isinstance(style, (list, tuple)) else [style]
        style_ts = style_tensors(styles, image_settings.size, image_settings.style_scale)
        layers = list(image_settings.style_layers) + [image_settings.content_layer]
        self.vgg = load_vgg(model_settings, layers, device=self.device)
        self.bank = StyleBank(self.vgg, style_ts, image_settings)
        # The objective's terms and layers, unweighted: the settings' weights multiply the
        # reported values in double precision (and a weight of 0 reports 0, not nothing).
        self.terms = dataclasses.replace(LossWeights.of(image_settings), content=1.0, style=1.0, tv=0.0)
        self._targets = Objective(self.vgg, self.terms, {})  # content targets (no style at hand)
        self.batch = 8  #: frames per VGG call
        self._content_cache: dict[str, torch.Tensor] = {}

    def warm_up(self, frame: np.ndarray) -> None:
        """One forward and backward pass at ``frame``'s size (timings that follow are steadier)."""
        x = media.image_to_tensor(frame, self.device).requires_grad_(True)
        feats = self.vgg(x)
        sum(f.float().mean() for f in feats.values()).backward()

    @torch.no_grad()
    def measure(self, frames: Sequence[np.ndarray], content_frames: Sequence[np.ndarray]) -> FrameLosses:
        """Weighted style and content loss of each frame; ``content_frames`` are its contents.

        Frames go through the VGG in batches of :attr:`batch`; the content features are kept
        (by the frames' pixels), so measuring several versions of one clip computes them once.
        """
        from .objective import Objective

        s = self.image_settings
        if len(frames) != len(content_frames):
            raise InputError(f"{len(frames)} frames but {len(content_frames)} content frames; they must match")
        if not frames:
            raise InputError("no frames to measure")
        for i, (f, c) in enumerate(zip(frames, content_frames)):
            if f.shape != c.shape:
                raise InputError(f"frame {i + 1} is {f.shape[1]}x{f.shape[0]}, its content "
                                 f"{c.shape[1]}x{c.shape[0]}")
        ps: list[float] = []
        pc: list[float] = []
        for start in range(0, len(frames), self.batch):
            chunk = list(range(start, min(len(frames), start + self.batch)))
            shapes = {frames[i].shape for i in chunk}
            groups = [chunk] if len(shapes) == 1 else [[i] for i in chunk]
            for group in groups:
                x = torch.cat([media.image_to_tensor(frames[i], self.device) for i in group])
                objective = Objective(self.vgg, self.terms, self.bank.targets(max(frames[group[0]].shape[:2])))
                feats = objective.features(x)
                for j, i in enumerate(group):
                    parts = objective.feature_parts({n: f[j:j + 1] for n, f in feats.items()},
                                                    self._content(content_frames[i]))
                    ps.append(s.style_weight * float(parts["style"]))
                    pc.append(s.content_weight * float(parts["content"]))
        return FrameLosses(style=float(np.mean(ps)), content=float(np.mean(pc)), per_frame_style=ps,
                           per_frame_content=pc, style_weight=s.style_weight, content_weight=s.content_weight)

    def _content(self, frame: np.ndarray) -> torch.Tensor:
        import hashlib

        a = np.ascontiguousarray(frame)
        key = hashlib.blake2b(a.tobytes(), digest_size=16).hexdigest() + str(a.shape)
        hit = self._content_cache.get(key)
        if hit is None:
            hit = self._targets.content_target(media.image_to_tensor(a, self.device))
            assert hit is not None
            self._content_cache[key] = hit
        return hit


def frame_losses(frames: Sequence[np.ndarray], style: Any, content_frames: Sequence[np.ndarray],
                 model_settings: Optional[ModelSettings] = None, image_settings: Optional[ImageSettings] = None,
                 device: Union[str, torch.device] = "cpu") -> FrameLosses:
    """Mean weighted style and content losses of ``frames`` (uint8 HxWx3) against ``style``
    (an image path or array, or a list of them, blended as in a run) and ``content_frames``,
    with the VGG and weights of ``model_settings`` and the layers/weights of ``image_settings``."""
    meter = LossMeter(style, model_settings or ModelSettings(), image_settings or ImageSettings(), device)
    return meter.measure(frames, content_frames)
