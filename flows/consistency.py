"""Reliability weights of a flow: forward-backward consistency and motion boundaries.

This follows Ruder, Dosovitskiy & Brox's ``consistencyChecker.cpp`` (artistic-videos), which
applies the forward-backward test of Sundaram, Brox & Keutzer (2010). For ``f1`` the flow being
checked (the backward flow t→t−j) and ``f2`` the opposite flow (the forward flow t−j→t):

1. ``b = x + f1(x)``. If the 2×2 bilinear neighbourhood of b is not inside the image
   (``floor(bx) < 0 or floor(bx) + 1 >= W``, same for y), r = ``outside_value`` (0).
2. ``f2b`` = bilinear sample of f2 at b. Disoccluded if
   ``|f1 + f2b|² >= occlusion_ratio·(|f1|² + |f2b|²) + occlusion_offset`` (0.01, 0.5):
   r = ``occluded_value`` (−255; negative so that the smoothing spreads it outwards).
3. Otherwise a motion boundary if ``|∇u|² + |∇v|² > boundary_ratio·|f1|² + boundary_offset``
   (0.01, 0.002), with central differences ``[-0.5, 0, 0.5]`` of f1 and mirrored borders:
   r = ``boundary_value`` (0).
4. Otherwise r = ``reliable_value`` (255).
5. r is smoothed with a separable Gaussian (σ = ``sigma`` 0.8, ``2·ceil(precision·σ)+1`` = 5
   taps, weights normalised to sum 1, mirrored borders), clipped to [0, 255] and c = r / 255.

Departures from the reference, all deliberate:

- The result is kept as float32 in [0, 1]; the reference writes an 8-bit PGM (truncating).
- The comparisons are evaluated in float64 (the reference mixes float and double).
- Smoothing uses OpenCV's ``sepFilter2D`` with ``BORDER_REFLECT``, which is exactly the
  reference's mirror rule (index −1 → 0, W → W−1). On images narrower than the kernel radius
  (1–2 pixels) the reference reads out of bounds; we keep reflecting.
- Non-finite flow vectors count as "outside" (r = 0) instead of undefined behaviour.
- ``boundaries=False`` (skip step 3) and every constant are keyword parameters; the reference
  hard-codes them (``MOTION_BOUNDARIE_VALUE`` 0 in artistic-videos, 255 in a later version).
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Optional, Sequence, Union, overload

import cv2
import numpy as np

from .errors import FlowError

#: The reference's constants, each overridable by keyword.
OCCLUSION_RATIO = 0.01
OCCLUSION_OFFSET = 0.5
BOUNDARY_RATIO = 0.01
BOUNDARY_OFFSET = 0.002
RELIABLE_VALUE = 255.0
OCCLUDED_VALUE = -255.0
BOUNDARY_VALUE = 0.0
OUTSIDE_VALUE = 0.0
SIGMA = 0.8
PRECISION = 2.0


def check_flow(flow: np.ndarray, name: str = "flow") -> np.ndarray:
    """Validate an HxWx2 flow and return it as float32 (a copy only if needed)."""
    if not isinstance(flow, np.ndarray):
        raise FlowError(f"{name} must be a numpy array, got {type(flow).__name__}")
    if flow.ndim != 3 or flow.shape[2] != 2 or flow.shape[0] < 1 or flow.shape[1] < 1:
        raise FlowError(f"{name} must have shape HxWx2, got {flow.shape}")
    if not (np.issubdtype(flow.dtype, np.floating) or np.issubdtype(flow.dtype, np.integer)):
        raise FlowError(f"{name} must be a float array, got dtype {flow.dtype}")
    return np.asarray(flow, dtype=np.float32)


def _check_pair(backward: np.ndarray, forward: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    backward = check_flow(backward, "backward")
    forward = check_flow(forward, "forward")
    if backward.shape != forward.shape:
        raise FlowError(f"backward and forward flows differ in shape: {backward.shape} and {forward.shape}")
    return backward, forward


def raw_reliability(
    backward: np.ndarray,
    forward: np.ndarray,
    *,
    occlusion_ratio: float = OCCLUSION_RATIO,
    occlusion_offset: float = OCCLUSION_OFFSET,
    boundary_ratio: float = BOUNDARY_RATIO,
    boundary_offset: float = BOUNDARY_OFFSET,
    reliable_value: float = RELIABLE_VALUE,
    occluded_value: float = OCCLUDED_VALUE,
    boundary_value: float = BOUNDARY_VALUE,
    outside_value: float = OUTSIDE_VALUE,
    boundaries: bool = True,
) -> np.ndarray:
    """The reference's unsmoothed map r (float32 HxW): steps 1–4 of the module docstring.

    ``boundaries=False`` skips the motion-boundary test (step 3).
    """
    f1, f2 = _check_pair(backward, forward)
    h, w = f1.shape[:2]
    u1 = f1[..., 0].astype(np.float64)
    v1 = f1[..., 1].astype(np.float64)
    # float32 positions as in the reference (``float bx = ax + flow1(ax, ay, 0)``).
    bx = (np.arange(w, dtype=np.float32)[None, :] + f1[..., 0]).astype(np.float64)
    by = (np.arange(h, dtype=np.float32)[:, None] + f1[..., 1]).astype(np.float64)
    with np.errstate(invalid="ignore"):
        x1 = np.floor(bx)
        y1 = np.floor(by)
        inside = (x1 >= 0) & (x1 + 1 < w) & (y1 >= 0) & (y1 + 1 < h)  # NaN compares False
    ax = np.where(inside, bx - x1, 0.0)
    ay = np.where(inside, by - y1, 0.0)
    # Flat indices of the 2x2 neighbourhood; outside pixels read pixel 0 (their r is overwritten).
    i00 = np.zeros((h, w), dtype=np.intp)
    i00[inside] = y1[inside].astype(np.intp) * w + x1[inside].astype(np.intp)
    last = h * w - 1
    i01 = np.minimum(i00 + 1, last)
    i10 = np.minimum(i00 + w, last)
    i11 = np.minimum(i00 + w + 1, last)

    def sample(c: int) -> np.ndarray:
        # Same arithmetic as the reference: (1-α)·a + α·b along x, then along y.
        ch = np.ascontiguousarray(f2[..., c], dtype=np.float64).ravel()
        top = (1.0 - ax) * ch.take(i00) + ax * ch.take(i01)
        bottom = (1.0 - ax) * ch.take(i10) + ax * ch.take(i11)
        return (1.0 - ay) * top + ay * bottom

    u2 = sample(0)
    v2 = sample(1)
    norm1 = u1 * u1 + v1 * v1
    err = (u1 + u2) ** 2 + (v1 + v2) ** 2
    with np.errstate(invalid="ignore"):
        occluded = err >= occlusion_ratio * (norm1 + u2 * u2 + v2 * v2) + occlusion_offset
    r = np.full((h, w), float(reliable_value), dtype=np.float64)
    if boundaries:
        with np.errstate(invalid="ignore"):
            boundary = motion_edge(f1) > boundary_ratio * norm1 + boundary_offset
        r[boundary] = boundary_value
    r[occluded] = occluded_value  # the occlusion test comes first in the reference
    r[~inside] = outside_value
    return r.astype(np.float32)


def motion_edge(flow: np.ndarray) -> np.ndarray:
    """|∇u|² + |∇v|² of ``flow`` (float64 HxW): central differences ``[-0.5, 0, 0.5]`` with the
    reference's mirrored borders (index −1 reads 0, W reads W−1)."""
    f = check_flow(flow)
    h, w = f.shape[:2]
    edge = np.zeros((h, w), dtype=np.float64)
    d = np.empty((h, w), dtype=np.float64)
    for c in range(2):
        g = f[..., c].astype(np.float64)
        for axis, n in ((1, w), (0, h)):
            if n == 1:
                continue  # mirrored neighbours of a single pixel are itself: derivative 0
            lo = [slice(None)] * 2
            hi = [slice(None)] * 2
            out = [slice(None)] * 2
            out[axis], hi[axis], lo[axis] = slice(1, -1), slice(2, None), slice(None, -2)
            d[tuple(out)] = g[tuple(hi)] - g[tuple(lo)]
            first: list[Any] = [slice(None)] * 2
            first[axis] = 0
            d[tuple(first)] = np.take(g, 1, axis=axis) - np.take(g, 0, axis=axis)
            first[axis] = n - 1
            d[tuple(first)] = np.take(g, n - 1, axis=axis) - np.take(g, n - 2, axis=axis)
            d *= 0.5
            edge += d * d
    return edge


def gaussian_taps(sigma: float = SIGMA, precision: float = PRECISION) -> np.ndarray:
    """The reference's ``CSmooth(sigma, precision)`` kernel: 2·ceil(precision·σ)+1 taps, sum 1."""
    if not (math.isfinite(sigma) and sigma > 0 and math.isfinite(precision) and precision > 0):
        raise FlowError(f"sigma and precision must be positive, got sigma={sigma!r}, precision={precision!r}")
    radius = int(math.ceil(precision * sigma))
    i = np.arange(-radius, radius + 1, dtype=np.float64)
    taps = np.exp(-(i * i) / (2.0 * sigma * sigma))
    return taps / taps.sum()


def reliability(
    backward: np.ndarray,
    forward: np.ndarray,
    *,
    occlusion_ratio: float = OCCLUSION_RATIO,
    occlusion_offset: float = OCCLUSION_OFFSET,
    boundary_ratio: float = BOUNDARY_RATIO,
    boundary_offset: float = BOUNDARY_OFFSET,
    reliable_value: float = RELIABLE_VALUE,
    occluded_value: float = OCCLUDED_VALUE,
    boundary_value: float = BOUNDARY_VALUE,
    outside_value: float = OUTSIDE_VALUE,
    sigma: float = SIGMA,
    precision: float = PRECISION,
    boundaries: bool = True,
) -> np.ndarray:
    """Reliability weights c in [0, 1] (float32 HxW) of ``backward`` checked against ``forward``.

    ``backward``: HxWx2 flow t→t−j (the flow used to warp frame t−j into frame t);
    ``forward``: HxWx2 flow t−j→t. c ≈ 0 where a pixel of frame t was disoccluded (not visible
    in frame t−j), on motion boundaries and where the flow leaves the image; c ≈ 1 elsewhere.
    ``sigma=0`` disables the smoothing (as ``SMOOTH_STRENGH 0`` does in the reference).
    See the module docstring for the exact rule.
    """
    if not math.isfinite(reliable_value) or reliable_value <= 0:
        raise FlowError(f"reliable_value must be positive, got {reliable_value!r}")
    r = raw_reliability(
        backward,
        forward,
        occlusion_ratio=occlusion_ratio,
        occlusion_offset=occlusion_offset,
        boundary_ratio=boundary_ratio,
        boundary_offset=boundary_offset,
        reliable_value=reliable_value,
        occluded_value=occluded_value,
        boundary_value=boundary_value,
        outside_value=outside_value,
        boundaries=boundaries,
    )
    if sigma:
        taps = gaussian_taps(sigma, precision).astype(np.float32)
        r = cv2.sepFilter2D(r, cv2.CV_32F, taps, taps, borderType=cv2.BORDER_REFLECT)
    c = np.clip(r, 0.0, reliable_value) / np.float32(reliable_value)
    return np.ascontiguousarray(c, dtype=np.float32)


def reliability_mask(
    backward: np.ndarray,
    forward: np.ndarray,
    *,
    occlusion_ratio: float = OCCLUSION_RATIO,
    occlusion_offset: float = OCCLUSION_OFFSET,
    boundary_ratio: float = BOUNDARY_RATIO,
    boundary_offset: float = BOUNDARY_OFFSET,
    boundaries: bool = True,
) -> np.ndarray:
    """Binary reliability (bool HxW): True where every test passes (no smoothing).

    The mask the temporal-consistency metric needs. ``boundaries=False`` ignores the
    motion-boundary test (keeps only the disocclusion and outside-image tests).
    """
    r = raw_reliability(
        backward,
        forward,
        occlusion_ratio=occlusion_ratio,
        occlusion_offset=occlusion_offset,
        boundary_ratio=boundary_ratio,
        boundary_offset=boundary_offset,
        reliable_value=1.0,
        occluded_value=-1.0,
        boundary_value=0.0,
        outside_value=0.0,
        boundaries=boundaries,
    )
    return r > 0


Weights = Union[Mapping[int, np.ndarray], Sequence[np.ndarray]]


@overload
def combine_long_term(weights_by_offset: Mapping[int, np.ndarray]) -> dict[int, np.ndarray]: ...


@overload
def combine_long_term(weights_by_offset: Sequence[np.ndarray]) -> list[np.ndarray]: ...


def combine_long_term(weights_by_offset: Weights) -> Union[dict[int, np.ndarray], list[np.ndarray]]:
    """Long-term weights, "closest first": ``c_j ← max(c_j − Σ_{k<j} c_k, 0)``.

    ``weights_by_offset``: a dict ``{offset: HxW weights}`` (any key order; processed by
    ascending offset) or a list of HxW weights already in ascending-offset order. The subtracted
    ``c_k`` are the already-combined weights of the closer offsets, so each pixel is held to the
    closest earlier frame in which it was visible and the combined weights sum to at most
    max(c). Returns the same kind: a dict with ascending keys, or a list. float32.
    """
    if isinstance(weights_by_offset, Mapping):
        keys = list(weights_by_offset)
        for k in keys:
            if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
                raise FlowError(f"offsets must be positive integers, got {k!r}")
        order = sorted(keys)
        combined = _combine([weights_by_offset[k] for k in order], [str(k) for k in order])
        return dict(zip(order, combined))
    if isinstance(weights_by_offset, (list, tuple)):
        return _combine(list(weights_by_offset), [f"#{i}" for i in range(len(weights_by_offset))])
    raise FlowError(
        f"weights_by_offset must be a dict {{offset: weights}} or a list, got {type(weights_by_offset).__name__}"
    )


def _combine(weights: list[np.ndarray], names: list[str]) -> list[np.ndarray]:
    out: list[np.ndarray] = []
    shape = None
    total: Optional[np.ndarray] = None
    for name, c in zip(names, weights):
        c = np.asarray(c)
        if c.ndim != 2 or not (np.issubdtype(c.dtype, np.floating) or c.dtype == np.bool_):
            raise FlowError(f"weights of offset {name} must be a float HxW array, got shape {c.shape} dtype {c.dtype}")
        c = c.astype(np.float32)
        if total is None:
            shape = c.shape
            total = np.zeros(shape, dtype=np.float32)
        elif c.shape != shape:
            raise FlowError(f"weights of offset {name} have shape {c.shape}, the others {shape}")
        cj = np.maximum(c - total, 0.0).astype(np.float32)
        total = total + cj
        out.append(cj)
    return out
