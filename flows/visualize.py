"""Flow → colour image with the Middlebury colour wheel (Baker et al., "A Database and
Evaluation Methodology for Optical Flow", IJCV 2011; ``colorcode.cpp`` of the flow-code).

The wheel has 55 colours in six ramps: red→yellow (15), yellow→green (6), green→cyan (4),
cyan→blue (11), blue→magenta (13), magenta→red (6). The hue is the direction of the flow
vector, the saturation its length relative to ``max_magnitude``: zero flow is white, a vector of
length ``max_magnitude`` is fully saturated, longer vectors are darkened (×0.75) as in the
reference. With image y pointing down: right → red, down → yellow/orange, left → cyan,
up → blue/violet.

For a clip, pass one ``max_magnitude`` to every frame (:func:`clip_max_magnitude`) so that the
same colour means the same motion in every image.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from .consistency import check_flow
from .errors import FlowError

RAMPS = (("RY", 15), ("YG", 6), ("GC", 4), ("CB", 11), ("BM", 13), ("MR", 6))
#: Flow components above this are "unknown" in Middlebury files; drawn black like non-finite ones.
UNKNOWN_FLOW = 1e9


def color_wheel() -> np.ndarray:
    """The 55×3 Middlebury wheel, float64 values 0..255 (integers), starting at red."""
    rows = []
    for name, n in RAMPS:
        ramp = np.floor(255.0 * np.arange(n) / n)
        full = np.full(n, 255.0)
        zero = np.zeros(n)
        rows.append(
            {
                "RY": (full, ramp, zero),  # red, green rises
                "YG": (255.0 - ramp, full, zero),  # red falls
                "GC": (zero, full, ramp),  # blue rises
                "CB": (zero, 255.0 - ramp, full),  # green falls
                "BM": (ramp, zero, full),  # red rises
                "MR": (full, zero, 255.0 - ramp),  # blue falls
            }[name]
        )
    return np.concatenate([np.stack(r, axis=1) for r in rows], axis=0)


_WHEEL = color_wheel()


def _known(flow: np.ndarray) -> np.ndarray:
    return np.isfinite(flow).all(axis=2) & (np.abs(flow) <= UNKNOWN_FLOW).all(axis=2)


def max_flow_magnitude(flow: np.ndarray) -> float:
    """Largest vector length of ``flow`` over its known (finite) pixels; 0.0 if none."""
    flow = check_flow(flow)
    known = _known(flow)
    if not known.any():
        return 0.0
    f = flow[known].astype(np.float64)
    return float(np.sqrt((f * f).sum(axis=1)).max())


def clip_max_magnitude(flows: Iterable[np.ndarray]) -> float:
    """The shared colour scale of a clip: the largest vector length over all ``flows``."""
    return max((max_flow_magnitude(f) for f in flows), default=0.0)


def to_color(flow: np.ndarray, max_magnitude: float | None = None) -> np.ndarray:
    """Colour-code ``flow`` (HxWx2) as uint8 HxWx3 RGB with the Middlebury wheel.

    ``max_magnitude``: the vector length drawn fully saturated; ``None`` = this flow's largest.
    Non-finite or "unknown" (> 1e9) vectors are black.
    """
    flow = check_flow(flow)
    if max_magnitude is None:
        max_magnitude = max_flow_magnitude(flow)
    try:
        scale = float(max_magnitude)
    except (TypeError, ValueError):
        raise FlowError(f"max_magnitude must be a non-negative number, got {max_magnitude!r}") from None
    if not np.isfinite(scale) or scale < 0:
        raise FlowError(f"max_magnitude must be a non-negative finite number, got {max_magnitude!r}")
    known = _known(flow)
    f = np.where(known[..., None], flow, 0.0).astype(np.float64)
    scale = max(scale, float(np.finfo(np.float32).eps))
    u = f[..., 0] / scale
    v = f[..., 1] / scale
    radius = np.sqrt(u * u + v * v)
    angle = np.arctan2(-v, -u) / np.pi  # in [-1, 1]
    ncols = len(_WHEEL)
    fk = (angle + 1.0) / 2.0 * (ncols - 1)  # 0 .. ncols-1
    k0 = np.floor(fk).astype(np.intp)
    k1 = (k0 + 1) % ncols
    frac = (fk - k0)[..., None]
    col = ((1.0 - frac) * _WHEEL[k0] + frac * _WHEEL[k1]) / 255.0
    inside = (radius <= 1.0)[..., None]
    col = np.where(inside, 1.0 - radius[..., None] * (1.0 - col), col * 0.75)
    col[~known] = 0.0
    return np.floor(255.0 * col).astype(np.uint8)
