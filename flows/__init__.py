"""Optical flow for neuralpaint, standalone (numpy + OpenCV; it never imports neuralpaint or torch).

Conventions: flows are float32 numpy HxWx2 arrays of (dx, dy), OpenCV's convention:
``flow = estimate(a, b)`` means ``a(y, x) ≈ b(y + dy, x + dx)``. The backward flow of frame t for
offset j (``estimate(frames[t], frames[t - j])``) maps a pixel of frame t to where it was in
frame t−j; ``warp(frames[t - j], backward)`` reproduces frame t where the reliability is high.

Modules: ``estimate`` (backends), ``consistency`` (reliability weights, long-term weights),
``warp``, ``flo`` (Middlebury files), ``visualize`` (colour wheel), ``cache`` (on-disk cache),
``prefetch`` (compute ahead in worker threads), ``export`` (a clip's flows to files),
``synthetic`` (scenes with exact ground truth).
"""

from . import synthetic
from .cache import FlowCache, FlowResult
from .consistency import combine_long_term, reliability, reliability_mask
from .errors import FlowError
from .estimate import METHODS, estimate, pair
from .export import export_clip
from .flo import read_flo, write_flo
from .prefetch import FlowPrefetcher
from .visualize import clip_max_magnitude, to_color
from .warp import out_of_frame, out_of_frame_mask, restore_detail, subpixel_phase, warp

__all__ = [
    "METHODS",
    "FlowCache",
    "FlowError",
    "FlowPrefetcher",
    "FlowResult",
    "clip_max_magnitude",
    "combine_long_term",
    "estimate",
    "export_clip",
    "out_of_frame",
    "out_of_frame_mask",
    "pair",
    "read_flo",
    "reliability",
    "reliability_mask",
    "restore_detail",
    "subpixel_phase",
    "synthetic",
    "to_color",
    "warp",
    "write_flo",
]
