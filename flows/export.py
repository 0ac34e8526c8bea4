"""Write a clip's flows to files: ``.flo`` flows, reliability PNGs and colour-wheel PNGs.

For every frame t ≥ j and offset j, in ``out_dir``:

- ``backward_{t:05d}_{j}.flo``  backward flow t→t−j (Middlebury, little-endian)
- ``forward_{t:05d}_{j}.flo``   forward flow t−j→t
- ``reliable_{t:05d}_{j}.png``  reliability weights as 8-bit gray (round(255·c))
- ``color_{t:05d}_{j}.png``     the backward flow on the Middlebury wheel, one scale for the clip

``t`` is the frame number, 1-based like the frames of a clip folder (``frame_00001.png`` is
frame 1): ``backward_00002_1.flo`` warps frame 1 into frame 2. The colour images need the
clip-wide largest motion, so they are written in a second pass that reads the backward ``.flo``
files back (memory stays bounded).
Flows are computed ahead in worker threads (:class:`FlowPrefetcher`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
from PIL import Image

from ._atomic import atomic_open
from .errors import FlowError
from .estimate import check_method, resolve_params
from .flo import read_flo, write_flo
from .prefetch import FlowPrefetcher, _check_offsets
from .visualize import max_flow_magnitude, to_color

Progress = Callable[[int, int], None]


def write_png(path: str | os.PathLike, image: np.ndarray) -> Path:
    """Write a uint8 HxW or HxWx3 image as PNG, atomically."""
    with atomic_open(path) as fh:
        Image.fromarray(np.ascontiguousarray(image)).save(fh, format="PNG", compress_level=1)
    return Path(path)


def export_clip(
    frames: Sequence[np.ndarray],
    out_dir: str | os.PathLike,
    method: str = "dis",
    offsets: Iterable[int] = (1,),
    progress: Progress | None = None,
    reliability_params: Mapping[str, Any] | None = None,
    **params: Any,
) -> list[Path]:
    """Compute and write the flows of ``frames`` (list of uint8 HxWx3) into ``out_dir``.

    ``progress(done, total)`` is called after each step; total = 2 × the number of (t, j)
    pairs (first computing, then colouring). ``params``: the flow method's tunables.
    Returns the written files.
    """
    check_method(method)
    resolve_params(method, params)
    offsets = _check_offsets(offsets)
    n = len(frames)
    if n == 0:
        raise FlowError("the clip has no frames")
    shape = np.shape(frames[0])
    for i, f in enumerate(frames):
        if np.shape(f) != shape:
            raise FlowError(f"frame {i} has shape {np.shape(f)}, frame 0 has {shape}")
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FlowError(f"cannot create output folder {str(out)!r}: {exc.strerror or exc}") from None

    pairs = [(t, j) for t in range(n) for j in offsets if j <= t]
    total = 2 * len(pairs)
    done = 0
    written: list[Path] = []
    largest = 0.0
    if progress is not None:
        progress(0, total)
    with FlowPrefetcher(
        frames, offsets, method=method, params=params, reliability_params=reliability_params, lookahead=2
    ) as prefetch:
        for t in range(1, n):
            for j, result in prefetch.get(t).items():
                written.append(write_flo(out / f"backward_{t + 1:05d}_{j}.flo", result.backward))
                written.append(write_flo(out / f"forward_{t + 1:05d}_{j}.flo", result.forward))
                gray = np.rint(np.clip(result.reliability, 0.0, 1.0) * 255.0).astype(np.uint8)
                written.append(write_png(out / f"reliable_{t + 1:05d}_{j}.png", gray))
                largest = max(largest, max_flow_magnitude(result.backward))
                done += 1
                if progress is not None:
                    progress(done, total)
    for t, j in pairs:
        backward = read_flo(out / f"backward_{t + 1:05d}_{j}.flo")
        written.append(write_png(out / f"color_{t + 1:05d}_{j}.png", to_color(backward, largest)))
        done += 1
        if progress is not None:
            progress(done, total)
    return written
