"""Colour preservation by luminance-only transfer (Gatys et al. 2016, "Preserving color").

The optimisation runs on luminance images (Y replicated to 3 channels); the style's
luminance is first matched to the content's mean and standard deviation; the result's Y is
then recombined with the content's chroma (Cb, Cr). Because it only needs each frame's own
content, the same recombination works frame by frame in a video. YCbCr is BT.601 full range
(JPEG's). Shapes: (B,3,H,W) RGB in [0,1].
"""

from __future__ import annotations

import torch

_KR, _KB = 0.299, 0.114
_KG = 1.0 - _KR - _KB


def luminance(rgb: torch.Tensor) -> torch.Tensor:
    """(B,3,H,W) RGB -> (B,1,H,W) Y."""
    r, g, b = rgb[:, 0:1], rgb[:, 1:2], rgb[:, 2:3]
    return _KR * r + _KG * g + _KB * b


def rgb_to_ycbcr(rgb: torch.Tensor) -> torch.Tensor:
    y = luminance(rgb)
    cb = (rgb[:, 2:3] - y) / (2 * (1 - _KB)) + 0.5
    cr = (rgb[:, 0:1] - y) / (2 * (1 - _KR)) + 0.5
    return torch.cat([y, cb, cr], dim=1)


def ycbcr_to_rgb(ycc: torch.Tensor) -> torch.Tensor:
    y, cb, cr = ycc[:, 0:1], ycc[:, 1:2] - 0.5, ycc[:, 2:3] - 0.5
    r = y + 2 * (1 - _KR) * cr
    b = y + 2 * (1 - _KB) * cb
    g = (y - _KR * r - _KB * b) / _KG
    return torch.cat([r, g, b], dim=1)


def gray3(rgb: torch.Tensor) -> torch.Tensor:
    """Luminance replicated to 3 channels (what the VGG sees in luminance-only transfer)."""
    return luminance(rgb).expand(-1, 3, -1, -1).contiguous()


def luminance_stats(rgb: torch.Tensor) -> tuple[float, float]:
    y = luminance(rgb)
    return float(y.mean()), float(y.std())


def matched_gray3(style_rgb: torch.Tensor, stats: tuple[float, float]) -> torch.Tensor:
    """The style's luminance shifted and scaled to the content's mean and std, as 3 channels."""
    y = luminance(style_rgb)
    mean, std = stats
    y = (y - y.mean()) / (y.std() + 1e-8) * std + mean
    return y.clamp(0, 1).expand(-1, 3, -1, -1).contiguous()


def recombine(result_gray: torch.Tensor, content_rgb: torch.Tensor) -> torch.Tensor:
    """Y of the optimised (luminance) result with Cb, Cr of the content, back to RGB in [0,1]."""
    y = luminance(result_gray)
    chroma = rgb_to_ycbcr(content_rgb)[:, 1:3]
    return ycbcr_to_rgb(torch.cat([y, chroma], dim=1)).clamp(0, 1)
