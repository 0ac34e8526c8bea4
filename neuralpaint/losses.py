"""The terms of the objective: content, Gram style, total variation, temporal.

Shapes: images (B,3,H,W) in [0,1]; features (B,C,H,W) in any memory format; weights of the
temporal term (B,1,H,W) in [0,1]. Every loss is a 0-dim float32 tensor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import torch
import torch.nn.functional as F


class _Gram(torch.autograd.Function):
    """G = Fᵀ F / n for a flat (B, N, C) F, with a backward that uses G's symmetry.

    Autograd differentiates ``Fᵀ @ F`` as two products (one per operand) and adds them; since
    G is symmetric, ∂L/∂F = F (dG + dGᵀ) / n is one product of the same size as the forward:
    a third fewer Gram FLOPs per iteration (the Grams are ~10% of a CPU iteration at 256 px).
    """

    @staticmethod
    def forward(ctx: Any, flat: torch.Tensor, n: float) -> torch.Tensor:
        ctx.save_for_backward(flat)
        ctx.n = n
        return torch.bmm(flat.transpose(1, 2), flat).div_(n)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        (flat,) = ctx.saved_tensors
        sym = (grad + grad.transpose(1, 2)).div_(ctx.n)
        return torch.bmm(flat, sym), None


def gram(features: torch.Tensor) -> torch.Tensor:
    """G = F Fᵀ / (C·H·W) per batch item: (B,C,H,W) -> (B,C,C), computed in fp32 (or float64
    for float64 features).

    For channels-last activations the (B,H·W,C) view is free, so we multiply Fᵀ F in that
    layout instead of copying to (B,C,H·W).
    """
    b, c, h, w = features.shape
    f = features if features.dtype == torch.float64 else features.float()
    if f.is_contiguous(memory_format=torch.channels_last) and not f.is_contiguous():
        flat = f.permute(0, 2, 3, 1).reshape(b, h * w, c)
    else:
        flat = f.reshape(b, c, h * w).transpose(1, 2)
    return _Gram.apply(flat, float(c * h * w))


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """mean (F − P)² over all elements."""
    return F.mse_loss(features.float(), target.float())


def style_loss(grams: Mapping[str, torch.Tensor], targets: Mapping[str, torch.Tensor],
               layer_weights: Mapping[str, float] | None = None) -> torch.Tensor:
    """Σ_l w_l · mean over C×C of (G_l − A_l)²."""
    total = None
    for name, target in targets.items():
        w = 1.0 if layer_weights is None else float(layer_weights.get(name, 1.0))
        term = F.mse_loss(grams[name], target.expand_as(grams[name])) * w
        total = term if total is None else total + term
    assert total is not None, "no style layers"
    return total


def tv_loss(x: torch.Tensor) -> torch.Tensor:
    """Mean of squared neighbour differences, horizontal plus vertical.

    Squared rather than L1 (Johnson et al. and the Lua code use variants of both): the squared
    form is smooth, which suits L-BFGS.
    """
    dx = x[..., :, 1:] - x[..., :, :-1]
    dy = x[..., 1:, :] - x[..., :-1, :]
    return dx.pow(2).mean() + dy.pow(2).mean()


def temporal_loss(x: torch.Tensor, warped: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """(1/(3HW)) Σ c ⊙ (x − warped)², c broadcast over the 3 channels (Ruder et al. eq. 6)."""
    return (weights * (x - warped).pow(2)).mean()


def blend_grams(per_style: Sequence[Mapping[str, torch.Tensor]], blend: Sequence[float]) -> dict[str, torch.Tensor]:
    """Σ_s b_s G_s with the blend weights normalised to sum 1."""
    total = float(sum(blend))
    out: dict[str, torch.Tensor] = {}
    for grams, b in zip(per_style, blend):
        for name, g in grams.items():
            term = g * (float(b) / total)
            out[name] = term if name not in out else out[name] + term
    return out


@dataclass
class TemporalTerm:
    """Temporal consistency against warped earlier results, one pair per offset j.

    ``targets[j]`` is the earlier stylised frame warped into this frame, ``weights[j]`` its
    long-term-combined reliability c_j. The term is Σ_j temporal_loss(x, targets[j], weights[j]).
    """

    targets: Sequence[torch.Tensor]
    weights: Sequence[torch.Tensor]
    name: str = "temporal"

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        total = x.new_zeros(())
        for target, c in zip(self.targets, self.weights):
            total = total + temporal_loss(x, target, c)
        return total

    def at_size(self, size: tuple[int, int]) -> "TemporalTerm":
        """The same term for a coarser scale (targets and weights resampled, area-averaged)."""
        if tuple(self.targets[0].shape[-2:]) == tuple(size):
            return self
        return TemporalTerm(
            targets=[F.interpolate(t, size=size, mode="bilinear", align_corners=False, antialias=True)
                     for t in self.targets],
            weights=[F.interpolate(c, size=size, mode="area") for c in self.weights],
            name=self.name)
