"""The one objective: weighted content + style + TV (+ extra image terms), batched.

Every user of the Gatys et al. objective goes through this module, so a term is written once
and measured the same way everywhere:

- :mod:`neuralpaint.optimize` minimises it for one image (plus the temporal term of a video);
- :mod:`neuralpaint.fast.train` trains the feed-forward network with it (plus its noise and
  compound terms, which need the network and stay there);
- :class:`neuralpaint.metrics.LossMeter` reports the weighted style and content parts of
  finished frames with it.

Pieces:

- :func:`style_grams`: the (blended) style Gram targets of one or more style images.
- :class:`StyleBank`: those targets per working size, computed once and cached (a video run
  computes them once, not once per frame).
- :class:`LossWeights`: the weights and layers of the terms, read from ``ImageSettings`` or
  ``TrainSettings``.
- :class:`Objective`: the content target (from a content image), one truncated VGG pass, and
  the weighted parts ``{"content", "style", "tv", <extra term names>}``.

Shapes: images (B,3,H,W) in [0,1]; a content target has the batch size of the images it is
compared with; style targets are (1,C,C) per layer and are compared with every batch item.
Each part is the batch mean (the losses of :mod:`neuralpaint.losses` are means); a per-item
value is the objective of that item's slice (``LossMeter`` does that).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional, Protocol, Sequence

import torch
import torch.nn.functional as F

from . import color
from .device import autocast
from .errors import InputError
from .losses import blend_grams, content_loss, gram, style_loss, tv_loss
from .settings import ImageSettings
from .vgg import VGGFeatures

Features = Mapping[str, torch.Tensor]


class ImageTerm(Protocol):
    """An extra loss term on the image (the temporal loss is one)."""

    name: str

    def loss(self, x: torch.Tensor) -> torch.Tensor: ...

    def at_size(self, size: tuple[int, int]) -> "ImageTerm": ...


def resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize with antialiasing when shrinking; identity when the size matches."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)


def long_side_size(h: int, w: int, long_side: int) -> tuple[int, int]:
    scale = long_side / max(h, w)
    return max(1, round(h * scale)), max(1, round(w * scale))


def style_grams(vgg: VGGFeatures, styles: Sequence[torch.Tensor], layers: Sequence[str],
                blend: Optional[Sequence[float]] = None, precision: str = "fp32") -> dict[str, torch.Tensor]:
    """Σ_s b_s G_s(style_s) per layer of ``layers`` (blend weights normalised to sum 1; equal
    weights when ``blend`` is None). ``styles``: (1,3,h,w) tensors on the VGG's device, each at
    the size its Grams are taken at."""
    per_style = []
    for s in styles:
        with torch.no_grad(), autocast(precision, s.device):
            feats = vgg(s)
        per_style.append({n: gram(feats[n]).detach() for n in layers})
    return blend_grams(per_style, blend if blend is not None else (1.0,) * len(per_style))


class StyleBank:
    """Blended style Gram targets per working size, computed once and cached.

    ``styles`` are (1,3,h,w) tensors in [0,1] at their own resolution. At a working size whose
    long side is L, each style is resized to long side ``L · style_scale`` before its Grams are
    taken. With colour preservation the styles are luminance images matched to ``color_stats``
    (the content's luminance mean and std).
    """

    def __init__(self, vgg: VGGFeatures, styles: Sequence[torch.Tensor], settings: ImageSettings,
                 precision: str = "fp32", color_stats: Optional[tuple[float, float]] = None):
        if not styles:
            raise InputError("at least one style image is needed")
        blend = settings.style_blend if settings.style_blend is not None else (1.0,) * len(styles)
        if len(blend) != len(styles):
            raise InputError(f"--style-blend has {len(blend)} weights for {len(styles)} style images: "
                             f"{','.join(f'{b:g}' for b in blend)}")
        self.vgg = vgg
        self.settings = settings
        self.blend = tuple(float(b) for b in blend)
        self.precision = precision
        self.styles = [s.detach() for s in styles]
        self.color_stats = color_stats
        self.layer_weights = LossWeights.of(settings).layer_weights
        self._cache: dict[int, dict[str, torch.Tensor]] = {}

    def targets(self, long_side: int) -> dict[str, torch.Tensor]:
        key = int(round(long_side * self.settings.style_scale))
        if key not in self._cache:
            dev = next(self.vgg.parameters()).device
            sized = []
            for style in self.styles:
                s = style.to(dev)
                s = resize(s, long_side_size(s.shape[-2], s.shape[-1], max(16, key)))
                if self.color_stats is not None:
                    s = color.matched_gray3(s, self.color_stats)
                sized.append(s)
            self._cache[key] = style_grams(self.vgg, sized, self.settings.style_layers, self.blend, self.precision)
        return self._cache[key]


@dataclass(frozen=True)
class LossWeights:
    """Weights and layers of the content, style and TV terms (a weight of 0 skips the term)."""

    content: float
    style: float
    tv: float
    content_layer: str
    style_layers: tuple[str, ...]
    #: per style layer (None: 1 each)
    layer_weights: Optional[dict[str, float]] = None

    @classmethod
    def of(cls, settings: Any) -> "LossWeights":
        """From ``ImageSettings`` or ``TrainSettings`` (anything with those field names)."""
        per_layer = getattr(settings, "style_layer_weights", None)
        return cls(content=settings.content_weight, style=settings.style_weight, tv=settings.tv_weight,
                   content_layer=settings.content_layer, style_layers=tuple(settings.style_layers),
                   layer_weights=(dict(zip(settings.style_layers, per_layer)) if per_layer is not None else None))


class Objective:
    """content + style + TV + Σ extra terms from one VGG pass. ``objective(x)`` -> (total, parts).

    ``content``: the content image(s) whose features at ``weights.content_layer`` are the
    content target (computed once, here; ``content_target`` does it for a batch that changes,
    as in training). ``content_vgg``: a VGG truncated at the content layer for those targets
    (same numbers, fewer layers), default ``vgg``. ``extra_terms``: (term, weight) pairs on the
    image, e.g. the temporal term.
    """

    def __init__(self, vgg: VGGFeatures, weights: LossWeights, style_targets: Mapping[str, torch.Tensor],
                 content: Optional[torch.Tensor] = None, *, extra_terms: Sequence[tuple[ImageTerm, float]] = (),
                 precision: str = "fp32", content_vgg: Optional[VGGFeatures] = None):
        self.vgg = vgg
        self.content_vgg = content_vgg if content_vgg is not None else vgg
        self.weights = weights
        self.style_targets = style_targets
        self.extra = list(extra_terms)
        self.precision = precision
        self.use_content = weights.content > 0
        self.use_style = weights.style > 0
        self.content = self.content_target(content) if content is not None else None

    def content_target(self, content: torch.Tensor) -> Optional[torch.Tensor]:
        """Features of ``content`` at the content layer (fp32, no gradient); None when unused."""
        if not self.use_content:
            return None
        with torch.no_grad(), autocast(self.precision, content.device):
            return self.content_vgg(content)[self.weights.content_layer].float()

    def features(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """The VGG pass the objective needs ({} when neither content nor style is weighted)."""
        if not (self.use_content or self.use_style):
            return {}
        with autocast(self.precision, x.device):
            return self.vgg(x)

    def feature_parts(self, feats: Features, content_target: Optional[torch.Tensor] = None
                      ) -> dict[str, torch.Tensor]:
        """The weighted VGG terms: ``content`` (against ``content_target``, default the one given
        at construction) and ``style``."""
        w = self.weights
        parts: dict[str, torch.Tensor] = {}
        if self.use_content:
            target = content_target if content_target is not None else self.content
            assert target is not None, "no content target"
            parts["content"] = w.content * content_loss(feats[w.content_layer], target)
        if self.use_style:
            grams = {n: gram(feats[n]) for n in self.style_targets}
            parts["style"] = w.style * style_loss(grams, self.style_targets, w.layer_weights)
        return parts

    def parts(self, x: torch.Tensor, feats: Optional[Features] = None,
              content_target: Optional[torch.Tensor] = None) -> dict[str, torch.Tensor]:
        """Every weighted part for the image(s) ``x`` (``feats``: its VGG features, if at hand)."""
        parts = self.feature_parts(self.features(x) if feats is None else feats, content_target)
        if self.weights.tv > 0:
            parts["tv"] = self.weights.tv * tv_loss(x)
        for term, weight in self.extra:
            if weight > 0:
                parts[term.name] = weight * term.loss(x)
        return parts

    def __call__(self, x: torch.Tensor, content_target: Optional[torch.Tensor] = None
                 ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        parts = self.parts(x, content_target=content_target)
        total = sum(parts.values(), x.sum() * 0.0)  # depends on x even when every weight is 0
        return total, parts


__all__ = ["Features", "ImageTerm", "LossWeights", "Objective", "StyleBank", "long_side_size", "resize",
           "style_grams"]
