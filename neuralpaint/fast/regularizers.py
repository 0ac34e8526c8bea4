"""Stability terms for training the fast network, and the differentiable warp they use.

- :func:`noise_stability_loss` (Rainy & de Berker, "Stabilizing neural style-transfer for
  video", Element AI 2018): a few pixels of the input get Gaussian noise; the output should not
  change: mean (F(x + n) − F(x))².
- :func:`compound_loss` (Wang, Chen, Wang & Liu, "Consistent video style transfer via compound
  regularization", AAAI 2020): with a random smooth flow W and small Gaussian noise Δ,
  mean over valid pixels of (W(F(X)) − F(W(X) + Δ))². The paper writes a squared L2 norm;
  we average it over the pixels whose warp source lies inside the image (pixels that would be
  filled from the border carry no information about stability).
- :func:`warp` is the torch twin of ``flows.warp`` (same convention, bilinear):
  ``out(y, x) = image(y + dy, x + dx)``; differentiable through ``grid_sample``.

Flows here are (B,H,W,2) float tensors in pixels, channels (dx, dy), OpenCV's convention.
"""

from __future__ import annotations

import math
from typing import Callable, Optional

import torch
import torch.nn.functional as F

Net = Callable[[torch.Tensor], torch.Tensor]


def _grid(flow: torch.Tensor) -> torch.Tensor:
    """Pixel flow (B,H,W,2) -> grid_sample grid (B,H,W,2) in [-1,1] (align_corners=True)."""
    b, h, w, _ = flow.shape
    ys = torch.arange(h, device=flow.device, dtype=flow.dtype)
    xs = torch.arange(w, device=flow.device, dtype=flow.dtype)
    gx = xs.view(1, 1, w) + flow[..., 0]
    gy = ys.view(1, h, 1) + flow[..., 1]
    nx = 2.0 * gx / max(w - 1, 1) - 1.0
    ny = 2.0 * gy / max(h - 1, 1) - 1.0
    return torch.stack((nx, ny), dim=-1)


def warp(image: torch.Tensor, flow: torch.Tensor, padding_mode: str = "border",
         mode: str = "bilinear") -> torch.Tensor:
    """Backward-warp (B,C,H,W) by a pixel flow (B,H,W,2) (or (H,W,2), broadcast).

    ``mode``: ``bilinear`` (as ``flows.warp``) or ``bicubic`` (sharper; may overshoot slightly).
    """
    if flow.dim() == 3:
        flow = flow.unsqueeze(0)
    flow = flow.to(device=image.device, dtype=torch.float32)
    if flow.shape[0] == 1 and image.shape[0] > 1:
        flow = flow.expand(image.shape[0], -1, -1, -1)
    grid = _grid(flow)
    out = F.grid_sample(image.float(), grid, mode=mode, padding_mode=padding_mode,
                        align_corners=True)
    return out.to(image.dtype)


def inside_mask(flow: torch.Tensor) -> torch.Tensor:
    """(B,1,H,W) float: 1 where x + dx, y + dy lie inside [0,W−1]×[0,H−1], else 0."""
    if flow.dim() == 3:
        flow = flow.unsqueeze(0)
    b, h, w, _ = flow.shape
    xs = torch.arange(w, device=flow.device, dtype=flow.dtype).view(1, 1, w) + flow[..., 0]
    ys = torch.arange(h, device=flow.device, dtype=flow.dtype).view(1, h, 1) + flow[..., 1]
    ok = (xs >= 0) & (xs <= w - 1) & (ys >= 0) & (ys <= h - 1)
    return ok.unsqueeze(1).float()


def random_smooth_flow(batch: int, h: int, w: int, max_shift: float, generator: torch.Generator,
                       device: torch.device | str = "cpu") -> torch.Tensor:
    """A random smooth flow per batch item, (B,H,W,2) in pixels, |flow| ≲ ``max_shift``.

    Half of the budget is a random similarity transform about the centre (translation, small
    rotation and zoom), the other half a low-frequency field (4×4 random vectors upsampled
    bicubically). Generated on the CPU with ``generator`` (reproducible), then moved.
    """
    s = float(max_shift)
    if s == 0:
        return torch.zeros(batch, h, w, 2, device=device)
    g = generator
    u = lambda *shape: torch.rand(*shape, generator=g) * 2 - 1  # noqa: E731  U(-1, 1)
    t = u(batch, 2) * (0.25 * s)                               # translation
    half = 0.5 * math.hypot(h, w)
    ang = u(batch) * (0.125 * s / max(half, 1.0))               # rotation (rad): ≤ s/8 px at corners
    zoom = u(batch) * (0.125 * s / max(half, 1.0))              # relative scale change
    ys = torch.arange(h, dtype=torch.float32) - (h - 1) / 2
    xs = torch.arange(w, dtype=torch.float32) - (w - 1) / 2
    yy, xx = torch.meshgrid(ys, xs, indexing="ij")
    cos, sin = torch.cos(ang).view(-1, 1, 1), torch.sin(ang).view(-1, 1, 1)
    k = (1 + zoom).view(-1, 1, 1)
    dx = k * (cos * xx - sin * yy) - xx + t[:, 0].view(-1, 1, 1)
    dy = k * (sin * xx + cos * yy) - yy + t[:, 1].view(-1, 1, 1)
    field = F.interpolate(u(batch, 2, 4, 4) * (0.5 * s / math.sqrt(2)), size=(h, w),
                          mode="bicubic", align_corners=True)
    flow = torch.stack((dx, dy), dim=-1) + field.permute(0, 2, 3, 1)
    return flow.to(device)


def sparse_noise(x: torch.Tensor, fraction: float, std: float, generator: torch.Generator) -> torch.Tensor:
    """``x`` with Gaussian noise (σ = ``std``) on a random ``fraction`` of its pixels, clamped to [0,1]."""
    b, c, h, w = x.shape
    pick = (torch.rand(b, 1, h, w, generator=generator) < fraction).float()
    noise = torch.randn(b, c, h, w, generator=generator) * std * pick
    return (x + noise.to(x.device, x.dtype)).clamp(0, 1)


def noise_stability_loss(net: Net, x: torch.Tensor, out: torch.Tensor, fraction: float, std: float,
                         generator: torch.Generator) -> torch.Tensor:
    """mean (F(x + n) − F(x))² with ``out = F(x)`` already computed (gradient through both)."""
    noisy = sparse_noise(x, fraction, std, generator)
    return (net(noisy) - out).pow(2).mean()


def compound_loss(net: Net, x: torch.Tensor, out: torch.Tensor, max_shift: float, noise_std: float,
                  generator: torch.Generator, flow: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Masked mean of (W(F(X)) − F(W(X) + Δ))², ``out = F(X)``; W random (or ``flow``)."""
    b, c, h, w = x.shape
    if flow is None:
        flow = random_smooth_flow(b, h, w, max_shift, generator, device=x.device)
    flow = flow.to(x.device)
    delta = torch.randn(x.shape, generator=generator).to(x.device, x.dtype) * noise_std
    moved = net(warp(x, flow) + delta)
    target = warp(out, flow)
    mask = inside_mask(flow)
    diff = (target - moved).pow(2) * mask
    return diff.sum() / (mask.sum() * c).clamp_min(1.0)
