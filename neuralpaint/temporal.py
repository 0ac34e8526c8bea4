"""The temporal pieces of Ruder et al.'s method as small pure functions (numpy, HxWxC float32).

The frame loop (:mod:`neuralpaint.video`) gathers the earlier results warped into frame t and
their reliabilities; these functions turn them into the frame's initialisation, the multi-pass
blend and the temporal-loss targets.

Departure from the reference, and why (measured on real footage with trained features, see
``scripts/quality_video.py`` and docs/metrics.md): our first version initialised disoccluded
pixels from the photograph, ``init = c·warp + (1 − c)·content``. With DIS flow about 10% of a
static-camera frame has c < 0.5 (mostly the motion-boundary test firing on flow noise, ~4% real
disocclusions), so the init lost most of the previous frame's work: its loss was 70–540× the
previous frame's final loss, and at small budgets the photographic patches survived and were
then held by the temporal term. Ruder's reference starts from the warped result everywhere. We
go one step further ("closest first", as the long-term loss does): each pixel starts from the
closest earlier result in which it was visible, and only pixels visible in none of them are
filled, from the surrounding painted pixels (``fill="inpaint"``) or the warped previous result
regardless of reliability (``"warped"``, Ruder's init). ``"content"`` keeps the old behaviour for
comparison.
"""

from __future__ import annotations

from typing import Optional, Sequence

import cv2
import numpy as np

import flows

#: How pixels that no earlier result covers start (:func:`initial_image`); defined with the
#: settings so the default and the choices live in one place.
from .settings import INIT_FILLS

#: Pixels whose combined reliability is below this are filled (:func:`initial_image`).
FILL_BELOW = 0.5
#: Photometric gate (:func:`photometric_gate`): a transport (warp, or none) of an earlier frame is
#: trusted fully where it reproduces the current *source* frame within PHOTO_LOW (mean absolute
#: RGB difference in [0,1]), not at all beyond PHOTO_HIGH. 0.03/0.06 ≈ 8/15 of 255. Measured on
#: ../shared/data/clip-street at 192 px: frame-to-frame differences are < 0.0065 for 90% of the
#: pixels (noise); a white-shirted walker over light pavement differs by only ~0.04 in the median,
#: and with 0.06/0.12 the earlier pavement paint was kept over him and he vanished from the video.
#: Noisier footage (heavily compressed video) gets fewer trusted pixels: more is repainted.
PHOTO_LOW = 0.03
PHOTO_HIGH = 0.06
#: Radius (px) of OpenCV's Telea inpainting.
INPAINT_RADIUS = 3


def closest_first(reliabilities: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Long-term weights, closest offset first: ``c_j ← max(c_j − Σ_{k<j} c_k, 0)``.
    ``reliabilities`` in ascending-offset order (HxW float32)."""
    if len(reliabilities) == 1:
        return [np.asarray(reliabilities[0], dtype=np.float32)]
    return list(flows.combine_long_term(list(reliabilities)))


def photometric_gate(error: np.ndarray, low: float = PHOTO_LOW, high: float = PHOTO_HIGH) -> np.ndarray:
    """1 where ``error`` (HxW, mean absolute difference of source frames in [0,1]) ≤ ``low``, 0
    beyond ``high``, linear between.

    Departure from Ruder et al.: their reliability is the forward-backward flow check alone.
    When the flow misses a motion altogether (a small, low-texture walker that DIS tracks as
    background) both flows agree on ~0 and the check passes, so the temporal term holds the
    walker's old paint in place and it trails behind as a ghost. Checking that the same
    transport reproduces the *source* frame catches it (as ReCoNet and later work do)."""
    return np.clip((high - error) / max(high - low, 1e-6), 0.0, 1.0).astype(np.float32)


def coverage(reliabilities: Sequence[np.ndarray], still: Sequence[tuple[np.ndarray, np.ndarray]] = ()) -> np.ndarray:
    """Σ of the closest-first weights of every candidate (HxW in [0,1]): how much of each pixel
    of the init comes from an earlier result (:func:`initial_image`)."""
    weights = closest_first(list(reliabilities) + [w for _, w in still])
    return np.clip(np.sum(weights, axis=0), 0.0, 1.0).astype(np.float32)


def unseen_regions(covered: np.ndarray, *, below: float = FILL_BELOW, margin: int = 12, min_side: int = 32,
                   min_area: int = 4, most: int = 4) -> list[tuple[int, int, int, int]]:
    """Boxes (y0, y1, x0, x1) around the connected regions no earlier result covers
    (``covered < below``), grown by ``margin`` and to at least ``min_side`` px (VGG's deepest
    layer needs 16), merged where they overlap; the ``most`` largest; regions under
    ``min_area`` px are left to inpainting."""
    h, w = covered.shape
    mask = (covered < below).astype(np.uint8)
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    boxes = []
    for i in range(1, n):
        x, y, bw, bh, area = (int(v) for v in stats[i])
        if area < min_area:
            continue
        boxes.append(_grow((y - margin, y + bh + margin, x - margin, x + bw + margin), h, w, min_side))
    merged = True
    while merged:  # merge overlapping boxes until none overlap
        merged = False
        for a in range(len(boxes)):
            for b in range(a + 1, len(boxes)):
                A, B = boxes[a], boxes[b]
                if A[0] < B[1] and B[0] < A[1] and A[2] < B[3] and B[2] < A[3]:
                    union = (min(A[0], B[0]), max(A[1], B[1]), min(A[2], B[2]), max(A[3], B[3]))
                    boxes[a] = _grow(union, h, w, min_side)
                    del boxes[b]
                    merged = True
                    break
            if merged:
                break
    boxes.sort(key=lambda r: -(r[1] - r[0]) * (r[3] - r[2]))
    return boxes[:most]


def _grow(box: tuple[int, int, int, int], h: int, w: int, min_side: int) -> tuple[int, int, int, int]:
    y0, y1, x0, x1 = box

    def span(a: int, b: int, size: int) -> tuple[int, int]:
        need = min(min_side, size)
        if b - a < need:
            c = (a + b) // 2
            a, b = c - need // 2, c - need // 2 + need
        a, b = max(0, a), min(size, b)
        if b - a < need:  # pushed against an edge
            a, b = (0, need) if a == 0 else (size - need, size)
        return a, b
    y0, y1 = span(y0, y1, h)
    x0, x1 = span(x0, x1, w)
    return y0, y1, x0, x1


def initial_image(warped: Sequence[np.ndarray], reliabilities: Sequence[np.ndarray],
                  content: np.ndarray, fill: str = "inpaint",
                  still: Sequence[tuple[np.ndarray, np.ndarray]] = (),
                  painted: Optional[np.ndarray] = None) -> np.ndarray:
    """The initialisation of frame t from earlier results warped into it.

    ``warped[i]``: the result of frame t − j_i warped into frame t (HxWx3, [0,1]), offsets in
    ascending order, the first being offset 1; ``reliabilities[i]``: its reliability (HxW);
    ``content``: frame t in the optimised space (HxWx3); ``still``: (earlier result, weight)
    pairs *not* warped, closest first, each weighted by how well the unmoved earlier source frame
    matches frame t there (:func:`photometric_gate`). Returns HxWx3 float32 in [0,1]:

        composite = Σ_i w_i · candidate_i,  w = closest_first(reliabilities + still weights)
        init      = composite + (1 − Σ_i w_i) · fill_image

    The flow-warped candidates come first, then the still ones: where the flow is unreliable
    (the smeared flow around a moving person) but the background did not move, the earlier
    painting of that background is the right start. ``fill_image`` by ``fill``: ``inpaint``
    (the composite inpainted into the pixels with Σ w < 0.5 from the painted pixels around
    them), ``warped`` (the warped previous result, whatever its reliability: Ruder's init) or
    ``content`` (the photograph: our old init), ``pass`` (``painted``, HxWx3, NaN where it
    has nothing: the unseen regions painted by a short independent pass, see
    :func:`unseen_regions`; inpainting elsewhere).
    """
    if fill not in INIT_FILLS:
        raise ValueError(f"unknown init fill {fill!r}; choose one of {', '.join(INIT_FILLS)}")
    if not warped or len(warped) != len(reliabilities):
        raise ValueError(f"need one reliability per warped result, got {len(warped)} and {len(reliabilities)}")
    candidates = list(warped) + [img for img, _ in still]
    weights = closest_first(list(reliabilities) + [w for _, w in still])
    composite = np.zeros_like(warped[0], dtype=np.float32)
    covered = np.zeros(warped[0].shape[:2], np.float32)
    for w, img in zip(weights, candidates):
        composite += w[..., None] * img
        covered += w
    rest = np.clip(1.0 - covered, 0.0, 1.0)[..., None]
    if fill == "content":
        filler = content
    elif fill == "warped":
        filler = warped[0]
    else:
        filler = inpaint(np.where(rest > 0.999, warped[0], composite / np.maximum(covered[..., None], 1e-6)),
                         covered < FILL_BELOW)
        if fill == "pass" and painted is not None:
            filler = np.where(np.isfinite(painted), painted, filler)
    return np.clip(composite + rest * filler, 0.0, 1.0).astype(np.float32)


def inpaint(image: np.ndarray, mask: np.ndarray, radius: int = INPAINT_RADIUS) -> np.ndarray:
    """``image`` (HxWxC float in [0,1]) with the pixels of ``mask`` (HxW bool) filled from their
    surroundings by Telea's method (OpenCV), channel by channel in 16 bits (OpenCV 5.0's Telea
    returns garbage for float32 input; 1/65535 is far below what an 8-bit frame shows)."""
    if not mask.any() or mask.all():  # nothing to fill, or nothing to fill from
        return image.astype(np.float32, copy=False)
    m = mask.astype(np.uint8)
    out = np.empty(image.shape, np.float32)
    for ch in range(image.shape[2]):
        u16 = np.round(np.clip(image[..., ch], 0.0, 1.0) * 65535.0).astype(np.uint16)
        out[..., ch] = cv2.inpaint(u16, m, radius, cv2.INPAINT_TELEA).astype(np.float32) / 65535.0
    return out


def multipass_init(current: np.ndarray, neighbours: Sequence[tuple[np.ndarray, np.ndarray]],
                   delta: float) -> np.ndarray:
    """Ruder's multi-pass init: x' = (x + Σ δ c_s w(x_s)) / (1 + Σ δ c_s) over the neighbours
    (warped result, reliability) that exist."""
    num = current.astype(np.float32, copy=True)
    den = np.ones(current.shape[:2] + (1,), np.float32)
    for warped, c in neighbours:
        cc = (c * delta)[..., None].astype(np.float32)
        num += cc * warped
        den += cc
    return num / den


def temporal_targets(pairs: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(targets, weights) of the temporal term from (warped result, reliability) pairs in
    ascending-offset order: the weights combined closest first (one pair: unchanged)."""
    targets = [w for w, _ in pairs]
    weights = closest_first([c for _, c in pairs])
    return targets, weights


__all__ = ["INIT_FILLS", "PHOTO_LOW", "PHOTO_HIGH", "photometric_gate", "closest_first", "coverage",
           "unseen_regions", "initial_image", "inpaint", "multipass_init", "temporal_targets"]
