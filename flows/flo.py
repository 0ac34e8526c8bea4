"""Middlebury ``.flo`` files (Baker et al.), always little-endian.

Layout: float32 magic 202021.25 (the bytes ``PIEH``), int32 width, int32 height, then
height × width × 2 float32 values, row by row, (u, v) interleaved. Every problem with a file
(missing, truncated, oversized, bad magic, absurd size) is a :class:`FlowError` that names the
path and what is wrong; numpy's own exceptions never escape.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ._atomic import atomic_open
from .consistency import check_flow
from .errors import FlowError

MAGIC = 202021.25
MAGIC_BYTES = np.array([MAGIC], dtype="<f4").tobytes()  # b"PIEH"
HEADER_BYTES = 12
#: Largest width or height accepted (the Middlebury reference code's sanity limit is 99999).
MAX_SIDE = 99999


def read_flo(path: str | os.PathLike) -> np.ndarray:
    """Read a ``.flo`` file as float32 HxWx2 (dx, dy)."""
    name = str(path)
    try:
        with open(path, "rb") as fh:
            header = fh.read(HEADER_BYTES)
            if len(header) < HEADER_BYTES:
                raise FlowError(
                    f"{name!r} is not a .flo file: {len(header)} bytes, shorter than the 12-byte header"
                )
            if header[:4] != MAGIC_BYTES:
                found = float(np.frombuffer(header[:4], dtype="<f4")[0])
                raise FlowError(
                    f"{name!r} is not a .flo file: magic number {found!r} (bytes {header[:4]!r}), expected {MAGIC}"
                )
            width, height = (int(v) for v in np.frombuffer(header[4:12], dtype="<i4"))
            if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
                raise FlowError(
                    f"{name!r} has an invalid size {width}x{height} (width x height, each must be 1..{MAX_SIDE})"
                )
            expected = width * height * 2 * 4
            # Check the size before reading: a lying header must never make us allocate.
            size = os.fstat(fh.fileno()).st_size
            if size < HEADER_BYTES + expected:
                raise FlowError(
                    f"{name!r} is truncated: a {width}x{height} flow needs {expected} data bytes, "
                    f"found {max(size - HEADER_BYTES, 0)}"
                )
            if size > HEADER_BYTES + expected:
                raise FlowError(
                    f"{name!r} is longer than a {width}x{height} flow ({HEADER_BYTES + expected} bytes): "
                    f"{size} bytes, trailing data"
                )
            data = fh.read(expected)
    except FileNotFoundError:
        raise FlowError(f"flow file {name!r} does not exist") from None
    except IsADirectoryError:
        raise FlowError(f"flow file {name!r} is a folder") from None
    except OSError as exc:
        raise FlowError(f"cannot read flow file {name!r}: {exc.strerror or exc}") from None
    if len(data) != expected:  # the file changed while we read it
        raise FlowError(f"{name!r} is truncated: a {width}x{height} flow needs {expected} data bytes, "
                        f"found {len(data)}")
    flow = np.frombuffer(data, dtype="<f4").reshape(height, width, 2)
    return flow.astype(np.float32)  # native byte order, writable copy


def write_flo(path: str | os.PathLike, flow: np.ndarray) -> Path:
    """Write ``flow`` (HxWx2) as a little-endian ``.flo`` file, atomically. Returns the path."""
    flow = check_flow(flow)
    h, w = flow.shape[:2]
    if h > MAX_SIDE or w > MAX_SIDE:
        raise FlowError(f"flow of size {w}x{h} is too large for a .flo file (each side at most {MAX_SIDE})")
    header = MAGIC_BYTES + np.array([w, h], dtype="<i4").tobytes()
    body = np.ascontiguousarray(flow, dtype="<f4").tobytes()
    with atomic_open(path) as fh:
        fh.write(header)
        fh.write(body)
    return Path(path)
