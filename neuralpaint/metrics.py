"""Measurements of stylised clips: temporal warping error E_k and the style/content losses.

Warping error (Lai et al. 2018; the long-term version of Wang et al. 2020), for offset k::

    E_k(t) = Σ_x M(x) · |warp(O_{t−k}, b)(x) − O_t(x)|² / (3 · Σ_x M(x))
    E_k    = mean of E_k(t) over the frames t ≥ k whose mask is not empty

- ``O_t``: the stylised frame t as float RGB in [0, 1].
- ``b``: the BACKWARD flow t→t−k of the SOURCE frames (``flows.estimate(src[t], src[t−k])``,
  or a given ground truth); ``warp`` is :func:`flows.warp` (the resampling of the optimisation path).
- ``M``: the binary reliability mask of the source (:func:`flows.reliability_mask` of ``b``
  checked against the forward flow t−k→t): False where a pixel was disoccluded, on motion
  boundaries and where ``b`` leaves the image. With ground truth, the given validity mask.
- The squared difference is averaged over the three channels (the ``1/(3HW)`` normalisation of
  the temporal loss). Numbers that sum over RGB instead are 3× ours.

Lower is more stable. Offsets k ≥ the number of frames have no pair: they are reported as
absent (``None`` / JSON ``null``), never as 0. A frame whose mask is empty (everything moved
out or was revealed) has no value (``None``) and does not count in the mean.

Flows are the expensive part, so they are computed once per (t, k) by :class:`SourceFlows` and
shared by every stylised version of the same source: :func:`warping_errors` evaluates several
versions (e.g. the methods of ``neuralpaint compare``) in one pass over the pairs, and a
``cache_dir`` keeps them on disk (:class:`flows.FlowCache`) for the next call.

Losses: :class:`LossMeter` / :func:`frame_losses` measure output frames with the same VGG-19,
layers and weights as a run, through the run's own objective (:mod:`neuralpaint.objective`):
the mean weighted style loss ``style_weight · Σ_l mean (G_l − A_l)²`` against the (blended)
style Grams and the mean weighted content loss ``content_weight · mean (F − P)²`` at the
content layer against each frame's content — the numbers a run's ``losses`` report, measured
the same way for every method. (With ``preserve_colors`` a run optimises the luminance; here
the RGB output is measured against the colour style.)
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence, Union

import numpy as np

import flows

from . import media
from .errors import InputError
from .events import Callback, StageEvent, emit
from .lossmeter import FrameLosses, LossMeter, _num, frame_losses  # noqa: F401  (re-exported)

#: Offsets of the warping error reported by default (short and long term).
from .settings import EVAL_OFFSETS as OFFSETS  # noqa: E402  (the default lives in settings)

Frame = Optional[np.ndarray]
#: (t, k) -> array, as a mapping or a function
PairSource = Union[Mapping[tuple[int, int], np.ndarray], Callable[[int, int], np.ndarray]]


# ---------------------------------------------------------------------------------------------
# input checks


def check_int_list(values: Sequence[int], option: str, *, minimum: int, maximum: Optional[int],
                   what: str, example: str) -> tuple[int, ...]:
    """Distinct integers in [minimum, maximum] (order kept), or one :class:`InputError` that names
    ``option`` and the values. ``what``: the plural noun ("frame offsets"), ``example``: "1,2,4"."""
    try:
        items = tuple(values)
    except TypeError:
        raise InputError(f"{option} must be a list of {what}, got {values!r}") from None
    if not items:
        raise InputError(f"{option} must list at least one of its {what}, e.g. {example}")
    text = ",".join(map(str, items))
    for k in items:
        if (isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < minimum
                or (maximum is not None and k > maximum)):
            raise InputError(f"{option} must be {what}, got {k!r} in {text}")
    if len(set(items)) != len(items):
        raise InputError(f"{option} must not repeat a value, got {text}")
    return tuple(int(k) for k in items)


def check_offsets(offsets: Sequence[int], option: str = "offsets") -> tuple[int, ...]:
    """Positive, distinct integers (order kept). Raises :class:`InputError` naming the values."""
    return check_int_list(offsets, option, minimum=1, maximum=None, what="positive frame offsets",
                          example="1,2,4")


def as_float(frame: np.ndarray, name: str = "frame") -> np.ndarray:
    """uint8 HxWx3 (0..255) or float HxWx3 in [0, 1] -> float32 HxWx3 in [0, 1]."""
    a = np.asarray(frame)
    if a.ndim != 3 or a.shape[2] != 3:
        raise InputError(f"{name} must be an HxWx3 RGB array, got shape {a.shape}")
    if a.dtype == np.uint8:
        return a.astype(np.float32) / np.float32(255.0)
    if np.issubdtype(a.dtype, np.floating):
        return a.astype(np.float32, copy=False)
    raise InputError(f"{name} must be uint8 or float, got dtype {a.dtype}")


def resize_frames(frames: Sequence[np.ndarray], size: tuple[int, int]) -> list[np.ndarray]:
    """uint8 frames resized to exactly (H, W) (Pillow Lanczos; unchanged when they match)."""
    from PIL import Image

    h, w = size
    out = []
    for f in frames:
        if f.shape[:2] == (h, w):
            out.append(f)
        else:
            out.append(np.asarray(Image.fromarray(f).resize((w, h), Image.Resampling.LANCZOS)))
    return out


# ---------------------------------------------------------------------------------------------
# source flows


class SourceFlows:
    """Backward flows t→t−k and binary masks M of one source clip, computed once per (t, k).

    Build it with :meth:`estimated` (optical flow on the source frames), :meth:`given`
    (ground-truth flows and/or masks) or :meth:`from_synthetic` (a :mod:`flows.synthetic`
    clip). :meth:`get` returns ``(backward, mask)``; results are kept in memory (the last
    ``memory`` pairs) and, for estimated flows with a ``cache_dir``, on disk.
    """

    def __init__(self, n_frames: int, size: tuple[int, int],
                 provider: Callable[[int, int], tuple[np.ndarray, np.ndarray]], label: str,
                 memory: int = 256):
        self.n_frames = int(n_frames)
        self.size = (int(size[0]), int(size[1]))
        self.label = label
        self._provider = provider
        self._memory: OrderedDict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._capacity = max(0, int(memory))
        self.seconds = 0.0  #: time spent computing (or loading) flows and masks

    def __repr__(self) -> str:
        return f"SourceFlows({self.label!r}, n_frames={self.n_frames}, size={self.size})"

    # -- factories ----------------------------------------------------------------------------

    @classmethod
    def estimated(cls, frames: Sequence[np.ndarray], method: str = "dis", *,
                  cache_dir: Union[str, Path, None] = None, params: Optional[Mapping[str, Any]] = None,
                  mask_params: Optional[Mapping[str, Any]] = None, memory: int = 256) -> "SourceFlows":
        """Flows of ``frames`` (uint8 HxWx3) by ``method`` (a :data:`flows.METHODS` name).

        ``params``: the method's tunables; ``mask_params``: keywords of
        :func:`flows.reliability_mask` (thresholds, ``boundaries``). ``cache_dir``: keep the
        flows in a :class:`flows.FlowCache` there (keyed by the frames' pixels).
        """
        frames = list(frames)
        if not frames:
            raise InputError("the source clip has no frames")
        shape = frames[0].shape
        for i, f in enumerate(frames):
            if f.shape != shape:
                raise InputError(f"source frame {i + 1} has shape {f.shape}, frame 1 has {shape}")
        if method not in flows.METHODS:
            raise InputError(f"unknown flow method {method!r}; choose one of {', '.join(flows.METHODS)}")
        params = dict(params or {})
        mparams = dict(mask_params or {})
        cache = flows.FlowCache(cache_dir) if cache_dir is not None else None

        def provide(t: int, k: int) -> tuple[np.ndarray, np.ndarray]:
            if cache is not None:
                res = cache.get_or_compute(frames, t, k, method=method, params=params)
                backward, forward = res.backward, res.forward
            else:
                backward, forward = flows.pair(frames, t, k, method, **params)
            return backward, flows.reliability_mask(backward, forward, **mparams)

        return cls(len(frames), shape[:2], provide, f"estimated ({method})", memory)

    @classmethod
    def given(cls, n_frames: int, size: tuple[int, int], backward: PairSource,
              masks: Optional[PairSource] = None, forward: Optional[PairSource] = None,
              label: str = "given", memory: int = 256) -> "SourceFlows":
        """Known flows, e.g. ground truth. ``backward[(t, k)]`` (or ``backward(t, k)``) is the
        flow t→t−k. The mask is ``masks[(t, k)]`` when given, else the reliability mask of
        ``backward`` against ``forward[(t, k)]``, else the pixels whose flow stays inside the
        image."""

        def lookup(src: PairSource, t: int, k: int, what: str) -> np.ndarray:
            if callable(src):
                return np.asarray(src(t, k))
            try:
                return np.asarray(src[(t, k)])
            except KeyError:
                raise InputError(f"no {what} given for frame {t} and offset {k}") from None

        def provide(t: int, k: int) -> tuple[np.ndarray, np.ndarray]:
            b = lookup(backward, t, k, "backward flow").astype(np.float32, copy=False)
            if b.shape != (size[0], size[1], 2):
                raise InputError(f"backward flow of frame {t}, offset {k} has shape {b.shape}, "
                                 f"expected {(size[0], size[1], 2)}")
            if masks is not None:
                m = lookup(masks, t, k, "mask").astype(bool)
                if m.shape != tuple(size):
                    raise InputError(f"mask of frame {t}, offset {k} has shape {m.shape}, expected {tuple(size)}")
            elif forward is not None:
                m = flows.reliability_mask(b, lookup(forward, t, k, "forward flow").astype(np.float32, copy=False))
            else:
                m = ~flows.out_of_frame(b)
            return b, m

        return cls(n_frames, size, provide, label, memory)

    @classmethod
    def from_synthetic(cls, clip: Any, memory: int = 256) -> "SourceFlows":
        """Exact ground truth of a :func:`flows.synthetic.make_clip` clip: its backward flows
        and its validity masks (False where revealed or out of frame)."""
        return cls.given(clip.n_frames, (clip.height, clip.width), clip.backward_flow,
                         masks=clip.valid_mask, label="ground truth", memory=memory)

    # -- access -------------------------------------------------------------------------------

    def get(self, t: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(backward flow t→t−k float32 HxWx2, mask bool HxW)."""
        if not (1 <= k <= t < self.n_frames):
            raise InputError(f"no flow for frame {t} and offset {k}: need 1 <= k <= t < {self.n_frames}")
        key = (t, k)
        hit = self._memory.get(key)
        if hit is not None:
            self._memory.move_to_end(key)
            return hit
        t0 = time.perf_counter()
        b, m = self._provider(t, k)
        self.seconds += time.perf_counter() - t0
        value = (np.asarray(b, dtype=np.float32), np.asarray(m, dtype=bool))
        if self._capacity:
            self._memory[key] = value
            while len(self._memory) > self._capacity:
                self._memory.popitem(last=False)
        return value


# ---------------------------------------------------------------------------------------------
# warping error


@dataclass
class WarpingError:
    """E_k of one stylised clip. ``E[k]`` is None when k has no pair (k ≥ frames) or no
    frame had a non-empty mask; ``per_frame[k][t]`` is E_k(t) of frame t (0-based), None for
    t < k, for an empty mask or a missing frame (``per_frame[k]`` is None for an absent k);
    ``coverage[k][t]`` is the fraction of frame t inside the mask."""

    offsets: tuple[int, ...]
    frames: int
    E: dict[int, Optional[float]]
    per_frame: dict[int, Optional[list[Optional[float]]]]
    coverage: dict[int, Optional[list[Optional[float]]]] = field(default_factory=dict)
    flow: str = ""

    def present(self) -> tuple[int, ...]:
        """Offsets that have a value."""
        return tuple(k for k in self.offsets if self.E.get(k) is not None)

    def to_json(self) -> dict[str, Any]:
        """The stable JSON form: exactly ``{"E", "per_frame", "frames"}`` (see ``evaluate``).

        ``E``: ``{"<k>": float | null}`` for every requested offset; ``per_frame``:
        ``{"<k>": [float | null] * frames | null}``; ``frames``: the number of frames.
        """
        return {
            "E": {str(k): _num(self.E.get(k)) for k in self.offsets},
            "per_frame": {str(k): (None if self.per_frame.get(k) is None else [_num(v) for v in self.per_frame[k]])
                          for k in self.offsets},
            "frames": int(self.frames),
        }


def pair_error(stylized_t: np.ndarray, stylized_prev: np.ndarray, backward: np.ndarray,
               mask: np.ndarray) -> Optional[float]:
    """E of one pair: masked mean squared difference (over pixels and channels) of frame t and
    frame t−k warped into t with ``backward``; None for an empty mask."""
    count = int(np.count_nonzero(mask))
    if count == 0:
        return None
    o_t = as_float(stylized_t)
    warped = flows.warp(as_float(stylized_prev), backward)
    diff = warped[mask] - o_t[mask]
    return float(np.einsum("ij,ij->", diff, diff, dtype=np.float64) / (3.0 * count))


def check_version(name: str, frames: Sequence[Frame], sf: SourceFlows) -> list[Frame]:
    """The frames of one output version as a list, checked against the source's frame count and
    size (an :class:`InputError` naming the version and the frame otherwise)."""
    frames = list(frames)
    if len(frames) != sf.n_frames:
        raise InputError(f"{name} has {len(frames)} frames, the source {sf.n_frames}; they must match")
    for i, f in enumerate(frames):
        if f is not None and tuple(np.shape(f)[:2]) != sf.size:
            raise InputError(f"frame {i + 1} of {name} is {np.shape(f)[1]}x{np.shape(f)[0]}, "
                             f"the source {sf.size[1]}x{sf.size[0]}; resize one to the other")
    return frames


def warping_errors(versions: Mapping[str, Sequence[Frame]], source: Union[SourceFlows, Sequence[np.ndarray]],
                   offsets: Sequence[int] = OFFSETS, *, method: str = "dis",
                   callback: Callback = None) -> dict[str, WarpingError]:
    """E_k of several stylised versions of one source clip, with one pass over the flows.

    ``versions``: name -> frames (uint8 HxWx3 or float in [0,1]; ``None`` for a missing frame,
    whose pairs are skipped). ``source``: a :class:`SourceFlows`, or the source frames (uint8),
    whose flows are then estimated with ``method``. Every version must have the source's frame
    count and size (resize first, see :func:`resize_frames`). Progress:
    ``StageEvent("warping error", done, total)``.
    """
    offsets = check_offsets(offsets)
    sf = source if isinstance(source, SourceFlows) else SourceFlows.estimated(source, method)
    n = sf.n_frames
    checked = {name: check_version(name, frames, sf) for name, frames in versions.items()}
    pairs = [(t, k) for t in range(n) for k in offsets if k <= t]
    per: dict[str, dict[int, list[Optional[float]]]] = {
        name: {k: [None] * n for k in offsets if k < n} for name in checked}
    cover: dict[int, list[Optional[float]]] = {k: [None] * n for k in offsets if k < n}
    emit(callback, StageEvent("warping error", 0, len(pairs)))
    for i, (t, k) in enumerate(pairs):
        needed = [name for name, fr in checked.items() if fr[t] is not None and fr[t - k] is not None]
        if needed:
            backward, mask = sf.get(t, k)
            cover[k][t] = float(mask.mean())
            for name in needed:
                fr = checked[name]
                per[name][k][t] = pair_error(fr[t], fr[t - k], backward, mask)
        emit(callback, StageEvent("warping error", i + 1, len(pairs)))
    out: dict[str, WarpingError] = {}
    for name in checked:
        E: dict[int, Optional[float]] = {}
        pf: dict[int, Optional[list[Optional[float]]]] = {}
        cv: dict[int, Optional[list[Optional[float]]]] = {}
        for k in offsets:
            if k >= n:
                E[k], pf[k], cv[k] = None, None, None
                continue
            values = [v for v in per[name][k] if v is not None]
            E[k] = float(np.mean(values)) if values else None
            pf[k] = per[name][k]
            cv[k] = list(cover[k])
        out[name] = WarpingError(offsets=offsets, frames=n, E=E, per_frame=pf, coverage=cv, flow=sf.label)
    return out


def warping_error(stylized: Sequence[Frame], source: Union[SourceFlows, Sequence[np.ndarray]],
                  offsets: Sequence[int] = OFFSETS, *, method: str = "dis",
                  callback: Callback = None) -> WarpingError:
    """E_k of one stylised clip (see :func:`warping_errors` and the module docstring)."""
    return warping_errors({"stylized": stylized}, source, offsets, method=method, callback=callback)["stylized"]


def evaluate_files(stylized: Union[str, Path], source: Union[str, Path], offsets: Sequence[int] = OFFSETS,
                   method: str = "dis", callback: Callback = None) -> WarpingError:
    """E_k of a stylised clip file against its source clip file (any kind media reads).

    Different frame counts are an :class:`InputError`; when the sizes differ the SOURCE is
    resized (Lanczos) to the stylised size, so the flows are computed at the stylised size.
    """
    offsets = check_offsets(offsets)
    sty_frames, src_frames = read_pair(stylized, source, callback)
    return warping_error(sty_frames, SourceFlows.estimated(src_frames, method), offsets, callback=callback)


def read_pair(stylized: Union[str, Path], source: Union[str, Path],
              callback: Callback = None) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The frames of a stylised clip file and of its source clip file, the source resized
    (Lanczos) to the stylised size; different frame counts are an :class:`InputError`."""
    emit(callback, StageEvent("reading", 0, 2, str(stylized)))
    sty = media.read_clip(stylized)
    emit(callback, StageEvent("reading", 1, 2, str(source)))
    src = media.read_clip(source)
    emit(callback, StageEvent("reading", 2, 2))
    if len(sty.frames) != len(src.frames):
        raise InputError(f"{str(stylized)!r} has {len(sty.frames)} frames but the source {str(source)!r} has "
                         f"{len(src.frames)}; give the clip it was made from")
    return sty.frames, resize_frames(src.frames, sty.size)


# ---------------------------------------------------------------------------------------------
# losses


__all__ = ["OFFSETS", "SourceFlows", "WarpingError", "FrameLosses", "LossMeter", "check_offsets",
           "pair_error", "warping_error", "warping_errors", "evaluate_files", "frame_losses",
           "resize_frames", "as_float", "read_pair"]
