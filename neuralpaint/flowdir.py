"""``--flow-dir``: a video render's optical flows read from ``.flo`` files instead of computed
(artistic-videos' ``-flow_pattern``, for flows from another method or tool).

Naming: the files ``neuralpaint flow`` writes (:mod:`flows.export`), in one folder:

- ``backward_{t:05d}_{j}.flo``: the flow from frame t to frame t−j (it warps frame t−j into t);
- ``forward_{t:05d}_{j}.flo``: the flow from frame t−j to frame t;

t is the 1-based number of the frame in the clip (``backward_00002_1.flo`` warps frame 1 into
frame 2; with ``--start 5`` the first frame rendered is still frame 5), j the frame offset.
Middlebury ``.flo``, (dx, dy) in pixels of the frames *as painted*: each file must have the size
the frames are painted at (``neuralpaint flow --size N`` writes them at N; the painting size is
``--size``, by default the source's up to 512). The reliability weights are computed from each
pair as for computed flows (:func:`flows.reliability`), so a forward flow is needed with every
backward one.

Before any work, every file the render will read is checked to exist and to have the right size
(its 12-byte header only); each is read in full, and checked again, when its frame comes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

import flows
from flows.flo import HEADER_BYTES, MAGIC_BYTES

from .errors import InputError
from .settings import VideoSettings
from .flowstore import FlowSource, PairFlows


def flow_file(folder: Path, kind: str, t: int, j: int) -> Path:
    """``folder/{kind}_{t:05d}_{j}.flo`` (``kind``: backward or forward; ``t`` 1-based)."""
    return Path(folder) / f"{kind}_{t:05d}_{j}.flo"


def needed_offsets(video: VideoSettings) -> list[int]:
    """The frame offsets whose flows a render with ``video`` reads (:attr:`VideoSettings.flow_offsets`)."""
    return list(video.flow_offsets)


def _header_size(path: Path) -> tuple[int, int]:
    """(width, height) from a ``.flo`` header; InputError naming the file when it is not one."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(HEADER_BYTES)
    except FileNotFoundError:
        raise InputError(f"--flow-dir: flow file {str(path)!r} does not exist") from None
    except OSError as exc:
        raise InputError(f"--flow-dir: cannot read flow file {str(path)!r}: {exc.strerror or exc}") from None
    if len(head) < HEADER_BYTES or head[:4] != MAGIC_BYTES:
        raise InputError(f"--flow-dir: {str(path)!r} is not a .flo file (no 'PIEH' header)")
    w, h = (int(v) for v in np.frombuffer(head[4:12], dtype="<i4"))
    return w, h


def _size_error(path: Path, w: int, h: int, shape: tuple[int, int]) -> InputError:
    fh, fw = shape
    return InputError(f"--flow-dir: flow file {str(path)!r} is {w}x{h}, but the frames are painted at {fw}x{fh}; "
                      f"write the flows at that size (neuralpaint flow --size {max(fw, fh)}) or paint at "
                      f"theirs (--size {max(w, h)})")


def check_flow_dir(folder: Path, n: int, first: int, offsets: Sequence[int], shape: tuple[int, int]) -> None:
    """Every file a render of ``n`` frames (the first is clip frame ``first``) at ``shape`` (H, W)
    reads for ``offsets`` exists and has that size: else one InputError naming the first bad file
    (and, when files are missing, how many and how to write them)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"--flow-dir {str(folder)!r} is not a folder" if folder.exists()
                         else f"--flow-dir {str(folder)!r} does not exist")
    missing: list[Path] = []
    for t in range(1, n):
        for j in offsets:
            if j > t:
                continue
            for kind in ("backward", "forward"):
                p = flow_file(folder, kind, first + t, j)
                if not os.path.isfile(p):
                    missing.append(p)
                    continue
                w, h = _header_size(p)
                if (h, w) != tuple(shape):
                    raise _size_error(p, w, h, shape)
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise InputError(f"--flow-dir: flow file {str(missing[0])!r} does not exist{more}; this render needs "
                         f"backward_ and forward_ flows for offsets {','.join(map(str, offsets))} "
                         f"(neuralpaint flow CLIP -o {str(folder)!r} --offsets {','.join(map(str, offsets))})")


class FlowDirSource(FlowSource):
    """:class:`~neuralpaint.flowstore.FlowSource` whose flows come from ``.flo`` files (read ahead in
    its worker threads like computed ones) instead of an optical-flow method."""

    def __init__(self, frames: Sequence[np.ndarray], folder: Path, first: int, cache_dir: Path, clip_key: str):
        super().__init__(frames, "dis", cache_dir, clip_key)
        self.folder = Path(folder)
        self.first = first
        self.shape = tuple(frames[0].shape[:2])

    def _read(self, kind: str, t: int, j: int) -> np.ndarray:
        p = flow_file(self.folder, kind, self.first + t, j)
        try:
            flow = flows.read_flo(p)
        except flows.FlowError as exc:
            raise InputError(f"--flow-dir: {exc}") from None
        if flow.shape[:2] != self.shape:
            raise _size_error(p, flow.shape[1], flow.shape[0], self.shape)  # type: ignore[arg-type]
        if not np.isfinite(flow).all():
            raise InputError(f"--flow-dir: flow file {str(p)!r} holds NaN or infinite values")
        return flow

    def _compute(self, t: int, j: int) -> PairFlows:
        backward, forward = self._read("backward", t, j), self._read("forward", t, j)
        return self.pair(t, j, backward, forward, flows.reliability(backward, forward))
