"""Dense optical flow behind one function: :func:`estimate` (and :func:`pair` for a clip).

Convention (OpenCV's): ``flow = estimate(a, b)`` is float32 HxWx2 with channels (dx, dy) such
that ``a(y, x) ≈ b(y + dy, x + dx)``. The *backward* flow of frame t for offset j is therefore
``estimate(frames[t], frames[t - j])``: it maps a pixel of frame t to where it was in frame t−j,
and ``warp(frames[t - j], backward) ≈ frames[t]``.

Backends and their tunables (keyword parameters; ``None`` keeps the backend's own default):

``dis`` (default; OpenCV's Dense Inverse Search, Kroeger et al. 2016)
    ``preset`` ("ultrafast" | "fast" | "medium", default "medium"), ``finest_scale``,
    ``patch_size``, ``patch_stride``, ``gradient_descent_iterations``,
    ``variational_refinement_iterations``, ``variational_refinement_alpha``,
    ``variational_refinement_delta``, ``variational_refinement_gamma``,
    ``use_mean_normalization``, ``use_spatial_propagation``.
``farneback`` (``cv2.calcOpticalFlowFarneback``)
    ``pyr_scale`` 0.5, ``levels`` 5, ``winsize`` 13, ``iterations`` 10, ``poly_n`` 5,
    ``poly_sigma`` 1.1, ``gaussian`` False (OpenCV's ``FarnebackOpticalFlow_create`` defaults).
``tvl1`` (``cv2.optflow.DualTVL1OpticalFlow_create``, Zach et al. / Wedel et al.)
    ``tau`` 0.25, ``lambda_`` 0.15, ``theta`` 0.3, ``nscales`` 5, ``warps`` 5,
    ``epsilon`` 0.01, ``inner_iterations`` 30, ``outer_iterations`` 10, ``scale_step`` 0.8,
    ``gamma`` 0.0, ``median_filtering`` 5.
``deepflow`` (``cv2.optflow.createOptFlow_DeepFlow``, Weinzaepfel et al. 2013)
    no tunables: OpenCV's Python binding returns a plain ``DenseOpticalFlow`` without setters
    and the object does not read its parameters from a FileStorage either, so there is
    nothing we could pass through honestly.

All backends work on 8-bit grayscale: RGB (or RGBA, alpha ignored) input is converted with
OpenCV's ITU-R 601 weights, float input in [0, 1] is scaled by 255, rounded and clipped.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Sequence

import cv2
import numpy as np

from .errors import FlowError

METHODS: tuple[str, ...] = ("dis", "farneback", "deepflow", "tvl1")
DIS_PRESETS: dict[str, int] = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}

# name -> (setter of the DIS object, type). ``None`` means "keep the preset's value".
_DIS_SETTERS: dict[str, tuple[str, type]] = {
    "finest_scale": ("setFinestScale", int),
    "patch_size": ("setPatchSize", int),
    "patch_stride": ("setPatchStride", int),
    "gradient_descent_iterations": ("setGradientDescentIterations", int),
    "variational_refinement_iterations": ("setVariationalRefinementIterations", int),
    "variational_refinement_alpha": ("setVariationalRefinementAlpha", float),
    "variational_refinement_delta": ("setVariationalRefinementDelta", float),
    "variational_refinement_gamma": ("setVariationalRefinementGamma", float),
    "use_mean_normalization": ("setUseMeanNormalization", bool),
    "use_spatial_propagation": ("setUseSpatialPropagation", bool),
}

#: Tunables of each backend and their defaults (``None``: the backend's own default).
DEFAULTS: dict[str, dict[str, Any]] = {
    "dis": {"preset": "medium", **{name: None for name in _DIS_SETTERS}},
    "farneback": {
        "pyr_scale": 0.5,
        "levels": 5,
        "winsize": 13,
        "iterations": 10,
        "poly_n": 5,
        "poly_sigma": 1.1,
        "gaussian": False,
    },
    "tvl1": {
        "tau": 0.25,
        "lambda_": 0.15,
        "theta": 0.3,
        "nscales": 5,
        "warps": 5,
        "epsilon": 0.01,
        "inner_iterations": 30,
        "outer_iterations": 10,
        "scale_step": 0.8,
        "gamma": 0.0,
        "median_filtering": 5,
    },
    "deepflow": {},
}


def check_method(method: str) -> str:
    """Return ``method`` if it names a backend, else raise :class:`FlowError` listing them."""
    if not isinstance(method, str) or method not in METHODS:
        raise FlowError(f"unknown flow method {method!r}; choose one of {', '.join(METHODS)}")
    return method


def resolve_params(method: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The complete parameter set of ``method``: its defaults updated with ``params``.

    Raises :class:`FlowError` naming an unknown parameter and listing the known ones.
    Used for cache keys too, so that ``estimate(a, b)`` and ``estimate(a, b, preset="medium")``
    share an entry.
    """
    check_method(method)
    known = DEFAULTS[method]
    params = dict(params or {})
    for name in params:
        if name not in known:
            choices = ", ".join(known) if known else "none"
            raise FlowError(
                f"unknown parameter {name!r} for flow method {method!r}; its parameters: {choices}"
            )
    full = dict(known)
    full.update(params)
    return full


def to_gray8(image: np.ndarray, name: str = "image") -> np.ndarray:
    """Convert an RGB/RGBA/gray image (uint8, or float in [0, 1]) to contiguous uint8 HxW."""
    if not isinstance(image, np.ndarray):
        raise FlowError(f"{name} must be a numpy array, got {type(image).__name__}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise FlowError(
            f"{name} must be HxW, HxWx1, HxWx3 (RGB) or HxWx4 (RGBA), got shape {image.shape}"
        )
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise FlowError(f"{name} is empty: shape {image.shape}")
    if image.dtype == np.uint8:
        gray = image
    elif np.issubdtype(image.dtype, np.floating):
        if not np.all(np.isfinite(image)):
            raise FlowError(f"{name} contains NaN or infinite values")
        gray = np.clip(np.rint(image.astype(np.float32) * 255.0), 0, 255).astype(np.uint8)
    else:
        raise FlowError(f"{name} must be uint8 or float in [0, 1], got dtype {image.dtype}")
    if gray.ndim == 3:
        code = cv2.COLOR_RGB2GRAY if gray.shape[2] == 3 else cv2.COLOR_RGBA2GRAY
        gray = cv2.cvtColor(np.ascontiguousarray(gray), code)
    return np.ascontiguousarray(gray)


def estimate(frame_a: np.ndarray, frame_b: np.ndarray, method: str = "dis", **params: Any) -> np.ndarray:
    """Dense flow from ``frame_a`` to ``frame_b``: float32 HxWx2 (dx, dy), ``a(y,x) ≈ b(y+dy, x+dx)``.

    ``frame_a``, ``frame_b``: HxW, HxWx1, HxWx3 (RGB) or HxWx4, uint8 or float in [0, 1], the
    same height and width. ``method``: one of :data:`METHODS`. ``params``: the backend's
    tunables (see the module docstring); an unknown one raises :class:`FlowError`.
    """
    check_method(method)
    full = resolve_params(method, params)
    a = to_gray8(frame_a, "frame_a")
    b = to_gray8(frame_b, "frame_b")
    if a.shape != b.shape:
        raise FlowError(
            f"frames must have the same size, got {tuple(np.shape(frame_a))} and {tuple(np.shape(frame_b))}"
        )
    try:
        flow = _BACKENDS[method](a, b, full)
    except cv2.error as exc:
        message = " ".join(str(exc).split())
        raise FlowError(f"flow method {method!r} failed on frames of size {a.shape}: {message}") from None
    flow = np.asarray(flow, dtype=np.float32)
    if flow.shape != a.shape + (2,):  # pragma: no cover - defensive, OpenCV contract
        raise FlowError(f"flow method {method!r} returned shape {flow.shape}, expected {a.shape + (2,)}")
    return np.ascontiguousarray(flow)


def pair(
    frames: Sequence[np.ndarray], t: int, offset: int = 1, method: str = "dis", **params: Any
) -> tuple[np.ndarray, np.ndarray]:
    """(backward flow t→t−offset, forward flow t−offset→t) of ``frames``, each float32 HxWx2.

    The backward flow maps a pixel of frame t to where it was in frame t−offset (use it to warp
    frame t−offset into frame t); the forward flow is the opposite direction, needed by the
    consistency check :func:`flows.reliability`.
    """
    n = len(frames)
    if isinstance(offset, bool) or not isinstance(offset, (int, np.integer)) or offset < 1:
        raise FlowError(f"offset must be a positive integer, got {offset!r}")
    if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or not 0 <= t < n:
        raise FlowError(f"frame index t must be in 0..{n - 1}, got {t!r}")
    if t - offset < 0:
        raise FlowError(f"frame {t} has no frame {offset} before it (t - offset = {t - offset} < 0)")
    current, previous = frames[t], frames[t - offset]
    backward = estimate(current, previous, method, **params)
    forward = estimate(previous, current, method, **params)
    return backward, forward


# -- backends ---------------------------------------------------------------------------------


def _dis(a: np.ndarray, b: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    preset = p["preset"]
    if not isinstance(preset, str) or preset not in DIS_PRESETS:
        raise FlowError(f"unknown DIS preset {preset!r}; choose one of {', '.join(DIS_PRESETS)}")
    # A fresh object per call: OpenCV algorithm objects are not safe to share between threads.
    dis = cv2.DISOpticalFlow_create(DIS_PRESETS[preset])
    for name, (setter, kind) in _DIS_SETTERS.items():
        value = p[name]
        if value is not None:
            value = _typed(name, value, kind)
            low = _DIS_MINIMUM.get(name)
            if low is not None and value < low:  # smaller values crash OpenCV (SIGSEGV/SIGFPE)
                raise FlowError(f"parameter {name} must be >= {low}, got {value!r}")
            getattr(dis, setter)(value)
    if dis.getPatchStride() > dis.getPatchSize():  # crashes OpenCV 5.0 on some image sizes
        raise FlowError(
            f"parameter patch_stride ({dis.getPatchStride()}) must not exceed patch_size ({dis.getPatchSize()})"
        )
    return _dis_calc(dis, a, b)


# Lower bounds of DIS tunables; patch_size < 2, patch_stride < 1 or > patch_size crash the process.
_DIS_MINIMUM: dict[str, float] = {
    "finest_scale": 0,
    "patch_size": 2,
    "patch_stride": 1,
    "gradient_descent_iterations": 0,
    "variational_refinement_iterations": 0,
    "variational_refinement_alpha": 0.0,
    "variational_refinement_delta": 0.0,
    "variational_refinement_gamma": 0.0,
}


def _dis_coarsest_scale(h: int, w: int, patch_size: int) -> int:
    """The coarsest pyramid level OpenCV's DIS picks for an h×w image (dis_flow.cpp)."""
    by_motion = int(math.log(max(h, w) / (4.0 * patch_size)) / math.log(2.0) + 0.5)  # C cast: toward 0
    by_patch = int(math.log(max(min(h, w) // patch_size, 1e-9)) / math.log(2.0))  # C integer division
    return min(by_motion, by_patch)


def _dis_calc(dis: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``dis.calc`` made safe for any image size.

    Departure from calling OpenCV directly: OpenCV 5.0's DIS chooses its coarsest pyramid level
    from the image size and, when that level is finer than ``finest_scale`` (small or very
    elongated images, e.g. 12x100 with the medium preset), reads out of bounds and may crash
    the process; images with a side below the patch size are refused. So images with a side
    below 2 patch sizes are padded (edge-replicated, flow cropped back) and the finest scale is
    lowered to the coarsest one when needed.
    """
    h, w = a.shape
    ps = int(dis.getPatchSize())
    ph, pw = max(h, 2 * ps), max(w, 2 * ps)
    if (ph, pw) != (h, w):
        a = cv2.copyMakeBorder(a, 0, ph - h, 0, pw - w, cv2.BORDER_REPLICATE)
        b = cv2.copyMakeBorder(b, 0, ph - h, 0, pw - w, cv2.BORDER_REPLICATE)
    coarsest = _dis_coarsest_scale(ph, pw, ps)
    if coarsest < dis.getFinestScale():
        dis.setFinestScale(max(coarsest, 0))
    flow = dis.calc(a, b, None)
    return flow[:h, :w]


def _farneback(a: np.ndarray, b: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    flags = cv2.OPTFLOW_FARNEBACK_GAUSSIAN if _typed("gaussian", p["gaussian"], bool) else 0
    return cv2.calcOpticalFlowFarneback(
        a,
        b,
        None,
        _ranged("pyr_scale", p["pyr_scale"], float, 0.0, 1.0, open_low=True, open_high=True),
        _ranged("levels", p["levels"], int, 1),
        _ranged("winsize", p["winsize"], int, 1),
        _ranged("iterations", p["iterations"], int, 1),
        _ranged("poly_n", p["poly_n"], int, 1),
        _ranged("poly_sigma", p["poly_sigma"], float, 0.0, open_low=True),
        flags,
    )


def _tvl1(a: np.ndarray, b: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    tvl1 = cv2.optflow.DualTVL1OpticalFlow_create(
        tau=_ranged("tau", p["tau"], float, 0.0, open_low=True),
        lambda_=_ranged("lambda_", p["lambda_"], float, 0.0),
        theta=_ranged("theta", p["theta"], float, 0.0, open_low=True),
        nscales=_ranged("nscales", p["nscales"], int, 1),
        warps=_ranged("warps", p["warps"], int, 1),
        epsilon=_ranged("epsilon", p["epsilon"], float, 0.0),
        innnerIterations=_ranged("inner_iterations", p["inner_iterations"], int, 1),  # sic, OpenCV
        outerIterations=_ranged("outer_iterations", p["outer_iterations"], int, 1),
        scaleStep=_ranged("scale_step", p["scale_step"], float, 0.0, 1.0, open_low=True, open_high=True),
        gamma=_ranged("gamma", p["gamma"], float, 0.0),
        medianFiltering=_median_size(p["median_filtering"]),
    )
    return tvl1.calc(a, b, None)


def _median_size(value: Any) -> int:
    v = _ranged("median_filtering", value, int, 0)
    if v > 1 and v % 2 == 0:  # cv2.medianBlur needs an odd size; 0 and 1 switch it off
        raise FlowError(f"parameter median_filtering must be 0, 1 or odd, got {value!r}")
    return v


def _deepflow(a: np.ndarray, b: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    return cv2.optflow.createOptFlow_DeepFlow().calc(a, b, None)


_BACKENDS: dict[str, Callable[[np.ndarray, np.ndarray, dict[str, Any]], np.ndarray]] = {
    "dis": _dis,
    "farneback": _farneback,
    "tvl1": _tvl1,
    "deepflow": _deepflow,
}


def _typed(name: str, value: Any, kind: type) -> Any:
    """Check a tunable's type (bools are not ints here; ints are fine for floats)."""
    if kind is bool:
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
    elif kind is int:
        if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
            return int(value)
    elif kind is float:
        if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
            if np.isfinite(value):
                return float(value)
    raise FlowError(f"parameter {name} must be a {'finite ' if kind is float else ''}{kind.__name__}, got {value!r}")


def _ranged(
    name: str,
    value: Any,
    kind: type,
    low: float | None = None,
    high: float | None = None,
    open_low: bool = False,
    open_high: bool = False,
) -> Any:
    """:func:`_typed` plus a range check whose message states the range."""
    v = _typed(name, value, kind)
    bad = (
        (low is not None and (v <= low if open_low else v < low))
        or (high is not None and (v >= high if open_high else v > high))
    )
    if bad:
        lo = "" if low is None else f"{'>' if open_low else '>='} {low}"
        hi = "" if high is None else f"{'<' if open_high else '<='} {high}"
        rule = " and ".join(r for r in (lo, hi) if r)
        raise FlowError(f"parameter {name} must be {rule}, got {value!r}")
    return v
