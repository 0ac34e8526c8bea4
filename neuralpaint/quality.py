"""Measures of a stylised clip that the warping error E_k cannot see (frozen, blurred, unpainted).

E_k (:mod:`neuralpaint.metrics`) rewards a video that does not change: a frozen, blurred or
unpainted output is "steadier" than a painted one. These measures, computed together by
:func:`quality_report` (one pass over the source flows), expose those failures. Definitions
(``O_t`` the output frame t, ``S_t`` the source frame t, float RGB in [0, 1], t = 1..n; the
docs' page ``docs/metrics.md`` has the same text with examples):

**Error inside disoccluded pixels**, for offset k::

    D_k(t) = Σ U ⊙ (warp(O_{t−k}, b) − O_t)² / (3 · Σ U),   U = ¬M ∧ inside(b)

the same warped squared difference as E_k(t) (same warp :func:`flows.warp`, same backward flow
``b`` t→t−k of the source) but over the pixels the source's reliability check rejects (``M``
False: disoccluded, motion boundary) whose flow stays inside the frame. ``D_k`` is the mean over
the frames with a non-empty ``U``. Inside a disocclusion the warped frame shows whatever covered
the pixel before, so ``D_k`` is not 0 even for a perfect output: it is a *relative* measure,
for comparing outputs of one clip (and against the source's own ``D_k``). An output that leaves
photographic cut-outs, or smears the occluder's paint over the revealed region, is high here
while E_k does not see it (Lai et al. and Wang et al. measure only inside ``M``; this is our
addition). The error inside the reliable pixels is E_k itself.

**Unstylised share**, per frame and for each δ of :data:`UNSTYLISED_DELTAS` (0..255 units)::

    u_δ(t) = fraction of pixels x with max_c |O_t(x, c) − S_t(x, c)| ≤ δ / 255

the part of the frame left photographic. Output and source at the same size.

**Sharpness drift**, per frame::

    h(t) = mean_x |∇² Y_t(x)|,   drift(t) = h(t) / h(1)

``Y`` the BT.601 luminance of ``O_t`` (as :mod:`neuralpaint.color`), ``∇²`` the 4-neighbour
Laplacian (``cv2.Laplacian``, ksize 1, reflected borders). Blur from repeated warping shows up
as drift < 1; seams or noise as > 1. The last frame's value is the headline.

**Style-loss drift**, per frame, with a :class:`~neuralpaint.metrics.LossMeter` (the run's VGG,
layers and weights)::

    s(t) = style loss of O_t,   drift(t) = s(t) / s(1),   mean drift = mean of drift(t), t ≥ 2

**The source's own E_k**: E_k of the source frames evaluated as if they were the output, with
the same flows and masks, and the ratio E_k(output) / E_k(source). A steady video's warping
error is bounded below by roughly the source's own (flow errors, noise, lighting); an output
far below it (ratio < :data:`SOURCE_RATIO_FLOOR`) is frozen or blurred and is flagged.

Frames missing from the output (``None``) have no value (``None``) in every per-frame list and
the pairs that need them are skipped, as in :func:`~neuralpaint.metrics.warping_errors`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence

import cv2
import numpy as np

import flows

from .color import _KB, _KR
from .errors import InputError
from .events import Callback, StageEvent, emit
from .metrics import (OFFSETS, FrameLosses, LossMeter, SourceFlows, WarpingError, as_float, check_int_list,
                      check_offsets, check_version)

#: δ of the unstylised share, in 0..255 units; the first is the headline.
UNSTYLISED_DELTAS: tuple[int, ...] = (25, 10)
#: An output whose E_k is below this fraction of the source's own is flagged as frozen/blurred.
SOURCE_RATIO_FLOOR = 0.3
#: An output whose last frame keeps less than this fraction of frame 1's sharpness is flagged.
SHARPNESS_FLOOR = 0.9

Frame = Optional[np.ndarray]
PerFrame = list[Optional[float]]

_LUMA = np.array([_KR, 1.0 - _KR - _KB, _KB], np.float32)


# ---------------------------------------------------------------------------------------------
# the single measures


def check_deltas(deltas: Sequence[int], option: str = "deltas") -> tuple[int, ...]:
    """δ values of the unstylised share: distinct integers in 0..255 (order kept)."""
    return check_int_list(deltas, option, minimum=0, maximum=255, what="integers in 0..255", example="25,10")


def unstylised_share(output: np.ndarray, source: np.ndarray, delta: int = UNSTYLISED_DELTAS[0]) -> float:
    """Fraction of the pixels of ``output`` within ``delta``/255 of ``source`` in every channel."""
    o, s = as_float(output, "output frame"), as_float(source, "source frame")
    if o.shape != s.shape:
        raise InputError(f"output frame is {o.shape[1]}x{o.shape[0]}, the source {s.shape[1]}x{s.shape[0]}; "
                         f"resize one to the other")
    # the small slack keeps a uint8 difference of exactly δ inside after the division by 255
    close = np.abs(o - s).max(axis=2) <= delta / 255.0 + 1e-6
    return float(close.mean())


def sharpness(frame: np.ndarray) -> float:
    """High-frequency energy: mean |4-neighbour Laplacian| of the BT.601 luminance in [0, 1]."""
    y = np.ascontiguousarray(as_float(frame) @ _LUMA)
    return float(np.abs(cv2.Laplacian(y, cv2.CV_32F, ksize=1, borderType=cv2.BORDER_REFLECT_101)).mean())


def drift(values: Sequence[Optional[float]]) -> PerFrame:
    """Each value divided by the first one (None where a value or the first is absent or 0)."""
    first = values[0] if values else None
    if first is None or not first > 0:
        return [None] * len(values)
    return [None if v is None else float(v) / first for v in values]


def pair_errors(o_t: np.ndarray, o_prev: np.ndarray, backward: np.ndarray, reliable: np.ndarray,
                unreliable: np.ndarray) -> tuple[Optional[float], Optional[float]]:
    """(E, D) of one pair: mean squared difference (over pixels and channels) of frame t and
    frame t−k warped into t, over the ``reliable`` and the ``unreliable`` pixels (None when
    empty). One warp for both; E is :func:`neuralpaint.metrics.pair_error`."""
    warped = flows.warp(as_float(o_prev), backward)
    o_t = as_float(o_t)
    out: list[Optional[float]] = []
    for mask in (reliable, unreliable):
        count = int(np.count_nonzero(mask))
        if count == 0:
            out.append(None)
            continue
        diff = warped[mask] - o_t[mask]
        out.append(float(np.einsum("ij,ij->", diff, diff, dtype=np.float64) / (3.0 * count)))
    return out[0], out[1]


def unreliable_inside(backward: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """U = ¬M ∧ inside: pixels the reliability check rejects whose flow stays in the frame."""
    return ~mask & ~flows.out_of_frame(backward)


# ---------------------------------------------------------------------------------------------
# the report


@dataclass
class QualityReport:
    """Every measure of one output clip (see the module docstring). Per-frame lists have one
    entry per frame (0-based), None where there is no value; dicts by offset k hold None for an
    offset with no pair at all."""

    frames: int
    offsets: tuple[int, ...]
    deltas: tuple[int, ...]
    warping: WarpingError  #: E_k of the output (inside the reliable pixels)
    source_warping: WarpingError  #: E_k of the source frames as if they were the output
    disoccluded: dict[int, Optional[PerFrame]]  #: D_k(t)
    source_disoccluded: dict[int, Optional[PerFrame]]
    disoccluded_coverage: dict[int, Optional[PerFrame]]  #: fraction of frame t inside U
    unstylised: dict[int, PerFrame]  #: δ -> u_δ(t)
    sharpness: PerFrame  #: h(t) of the output
    source_sharpness: PerFrame
    losses: Optional[FrameLosses] = None  #: the meter's losses (present frames only)
    style: PerFrame = field(default_factory=list)  #: s(t), None without a meter
    flow: str = ""

    # -- derived ------------------------------------------------------------------------------

    @property
    def E(self) -> dict[int, Optional[float]]:
        return self.warping.E

    @property
    def source_E(self) -> dict[int, Optional[float]]:
        return self.source_warping.E

    def ratio(self, k: int) -> Optional[float]:
        """E_k(output) / E_k(source); None when either is absent or the source's is 0."""
        return _ratio(self.E.get(k), self.source_E.get(k))

    @property
    def disoccluded_E(self) -> dict[int, Optional[float]]:
        """D_k: mean of D_k(t) over the frames that have a value."""
        return {k: _mean(v) for k, v in self.disoccluded.items()}

    @property
    def source_disoccluded_E(self) -> dict[int, Optional[float]]:
        return {k: _mean(v) for k, v in self.source_disoccluded.items()}

    def unstylised_mean(self, delta: int) -> Optional[float]:
        return _mean(self.unstylised[delta])

    def unstylised_last(self, delta: int) -> Optional[float]:
        return self.unstylised[delta][-1] if self.unstylised[delta] else None

    @property
    def sharpness_drift(self) -> PerFrame:
        return drift(self.sharpness)

    @property
    def sharpness_last(self) -> Optional[float]:
        """h(n) / h(1): the headline of the sharpness drift."""
        d = self.sharpness_drift
        return d[-1] if d else None

    @property
    def style_drift(self) -> PerFrame:
        return drift(self.style) if self.style else []

    @property
    def style_drift_mean(self) -> Optional[float]:
        """Mean of s(t)/s(1) over frames 2..n (None without a meter or with one frame)."""
        return _mean(self.style_drift[1:])

    def flags(self) -> list[str]:
        """Warnings, one line each: an output far steadier than its source (frozen or blurred),
        a last frame much blurrier than the first."""
        out = []
        k = self.offsets[0]
        r = self.ratio(k)
        if r is not None and r < SOURCE_RATIO_FLOOR:
            out.append(f"frozen or blurred: E_{k} is {r:.3g}x the source's own (below {SOURCE_RATIO_FLOOR:g})")
        s = self.sharpness_last
        if s is not None and s < SHARPNESS_FLOOR:
            out.append(f"blurring: the last frame keeps {s:.3g}x frame 1's sharpness (below {SHARPNESS_FLOOR:g})")
        return out

    def to_json(self) -> dict[str, Any]:
        """``E``, ``per_frame``, ``frames`` exactly as :meth:`WarpingError.to_json` (the stable
        keys of ``evaluate --json``), plus::

            "source":      {"E": {"<k>": float|null}, "per_frame": {"<k>": [...]|null}},
            "ratio":       {"<k>": float|null},                  # E_k / source's E_k
            "disoccluded": {"E": {"<k>"}, "per_frame": {"<k>"}, "coverage": {"<k>"},
                            "source_E": {"<k>"}},
            "unstylised":  {"<δ>": {"per_frame": [...], "mean": float, "last": float}},
            "sharpness":   {"per_frame": [h], "drift": [h/h1], "last": float|null,
                            "source_drift": [...], "source_last": float|null},
            "style":       null | {"per_frame": [s], "drift": [s/s1], "mean_drift": float|null},
            "flags":       [str]
        """
        ks = self.offsets
        src = self.source_warping.to_json()
        sdrift = drift(self.source_sharpness)
        data = self.warping.to_json()
        data.update({
            "source": {"E": src["E"], "per_frame": src["per_frame"]},
            "ratio": {str(k): _num(self.ratio(k)) for k in ks},
            "disoccluded": {
                "E": {str(k): _num(self.disoccluded_E.get(k)) for k in ks},
                "per_frame": {str(k): _nums(self.disoccluded.get(k)) for k in ks},
                "coverage": {str(k): _nums(self.disoccluded_coverage.get(k)) for k in ks},
                "source_E": {str(k): _num(self.source_disoccluded_E.get(k)) for k in ks},
            },
            "unstylised": {str(d): {"per_frame": _nums(self.unstylised[d]), "mean": _num(self.unstylised_mean(d)),
                                    "last": _num(self.unstylised_last(d))} for d in self.deltas},
            "sharpness": {"per_frame": _nums(self.sharpness), "drift": _nums(self.sharpness_drift),
                          "last": _num(self.sharpness_last), "source_drift": _nums(sdrift),
                          "source_last": _num(sdrift[-1] if sdrift else None)},
            "style": None if not self.style else {
                "per_frame": _nums(self.style), "drift": _nums(self.style_drift),
                "mean_drift": _num(self.style_drift_mean)},
            "flags": self.flags(),
        })
        return data


def _num(v: Optional[float]) -> Optional[float]:
    return None if v is None or not math.isfinite(v) else float(v)


def _nums(values: Optional[Sequence[Optional[float]]]) -> Optional[list[Optional[float]]]:
    return None if values is None else [_num(v) for v in values]


def _mean(values: Optional[Sequence[Optional[float]]]) -> Optional[float]:
    present = [v for v in (values or []) if v is not None]
    return float(np.mean(present)) if present else None


def _ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return None if a is None or b is None or not b > 0 else float(a) / float(b)


# ---------------------------------------------------------------------------------------------
# one pass over a clip


SOURCE = "source"  #: the name the source frames go by inside the pass


def quality_reports(versions: Mapping[str, Sequence[Frame]], source_frames: Sequence[np.ndarray],
                    flows: Optional[SourceFlows] = None, meter: Optional[LossMeter] = None, *,
                    offsets: Sequence[int] = OFFSETS, deltas: Sequence[int] = UNSTYLISED_DELTAS,
                    method: str = "dis", callback: Callback = None) -> dict[str, QualityReport]:
    """Every measure of several outputs of one source clip, with one pass over the flows.

    ``versions``: name -> output frames (uint8 HxWx3 or float in [0, 1]; None for a missing
    frame), each with the source's frame count and size. ``source_frames``: uint8 HxWx3.
    ``flows``: the source's :class:`SourceFlows` (ground truth, or estimated and cached); when
    None they are estimated from ``source_frames`` with ``method``. ``meter``: a
    :class:`LossMeter` for the style-loss drift (skipped when None). Progress:
    ``StageEvent("quality", done, total)`` per frame pair, then ``StageEvent("style loss", ...)``.
    """
    offsets = check_offsets(offsets)
    deltas = check_deltas(deltas)
    src = list(source_frames)
    if not src:
        raise InputError("the source clip has no frames")
    sf = flows if flows is not None else SourceFlows.estimated(src, method)
    n = sf.n_frames
    if len(src) != n:
        raise InputError(f"the source has {len(src)} frames, its flows {n}; they must match")
    if SOURCE in versions:
        raise InputError(f"{SOURCE!r} names the source frames; call the output something else")
    checked = {name: check_version(name, frames, sf) for name, frames in versions.items()}
    everything: dict[str, list[Frame]] = {**checked, SOURCE: list(src)}

    # temporal measures: one flow lookup and one warp per (t, k, version)
    pairs = [(t, k) for t in range(n) for k in offsets if k <= t]
    present = [k for k in offsets if k < n]
    E = {name: {k: [None] * n for k in present} for name in everything}
    D = {name: {k: [None] * n for k in present} for name in everything}
    cover: dict[int, PerFrame] = {k: [None] * n for k in present}
    ucover: dict[int, PerFrame] = {k: [None] * n for k in present}
    emit(callback, StageEvent("quality", 0, len(pairs)))
    for i, (t, k) in enumerate(pairs):
        backward, mask = sf.get(t, k)
        unreliable = unreliable_inside(backward, mask)
        cover[k][t] = float(mask.mean())
        ucover[k][t] = float(unreliable.mean())
        for name, fr in everything.items():
            if fr[t] is not None and fr[t - k] is not None:
                E[name][k][t], D[name][k][t] = pair_errors(fr[t], fr[t - k], backward, mask, unreliable)
        emit(callback, StageEvent("quality", i + 1, len(pairs)))

    def warping(name: str) -> WarpingError:
        return WarpingError(
            offsets=offsets, frames=n,
            E={k: (_mean(E[name][k]) if k in present else None) for k in offsets},
            per_frame={k: (E[name][k] if k in present else None) for k in offsets},
            coverage={k: (list(cover[k]) if k in present else None) for k in offsets}, flow=sf.label)

    def by_offset(table: Mapping[int, PerFrame]) -> dict[int, Optional[PerFrame]]:
        return {k: (list(table[k]) if k in present else None) for k in offsets}

    src_warping = warping(SOURCE)
    src_sharp: PerFrame = [sharpness(f) for f in src]
    reports: dict[str, QualityReport] = {}
    for name, fr in checked.items():
        reports[name] = QualityReport(
            frames=n, offsets=offsets, deltas=deltas, warping=warping(name), source_warping=src_warping,
            disoccluded=by_offset(D[name]), source_disoccluded=by_offset(D[SOURCE]),
            disoccluded_coverage=by_offset(ucover),
            unstylised={d: [None if f is None else unstylised_share(f, s, d) for f, s in zip(fr, src)]
                        for d in deltas},
            sharpness=[None if f is None else sharpness(f) for f in fr], source_sharpness=list(src_sharp),
            flow=sf.label)

    if meter is not None:
        emit(callback, StageEvent("style loss", 0, len(checked)))
        for i, (name, fr) in enumerate(checked.items()):
            idx = [t for t, f in enumerate(fr) if f is not None]
            if idx:
                losses = meter.measure([_as_uint8(fr[t]) for t in idx], [src[t] for t in idx])
                per: PerFrame = [None] * n
                for t, v in zip(idx, losses.per_frame_style):
                    per[t] = v
                reports[name].losses, reports[name].style = losses, per
            emit(callback, StageEvent("style loss", i + 1, len(checked), name))
    return reports


def quality_report(output_frames: Sequence[Frame], source_frames: Sequence[np.ndarray],
                   flows: Optional[SourceFlows] = None, meter: Optional[LossMeter] = None, *,
                   offsets: Sequence[int] = OFFSETS, deltas: Sequence[int] = UNSTYLISED_DELTAS,
                   method: str = "dis", callback: Callback = None) -> QualityReport:
    """Every measure of one output clip against its source (see :func:`quality_reports`)."""
    return quality_reports({"output": output_frames}, source_frames, flows, meter, offsets=offsets,
                           deltas=deltas, method=method, callback=callback)["output"]


def _as_uint8(frame: np.ndarray) -> np.ndarray:
    """The meter reads uint8 frames; float frames in [0, 1] are rounded."""
    a = np.asarray(frame)
    if a.dtype == np.uint8:
        return a
    return np.rint(np.clip(as_float(a), 0.0, 1.0) * 255.0).astype(np.uint8)


__all__ = ["UNSTYLISED_DELTAS", "SOURCE_RATIO_FLOOR", "SHARPNESS_FLOOR", "QualityReport", "quality_report",
           "quality_reports", "unstylised_share", "sharpness", "drift", "pair_errors", "unreliable_inside",
           "check_deltas"]
