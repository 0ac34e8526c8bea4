"""The flows of a clip by (t, j): one store for the frame loop (:mod:`neuralpaint.frameloop`).

Flows are computed in worker threads ahead of the optimiser (OpenCV releases the GIL in its flow
code, so they overlap with it), kept in memory (least recently used first out) and cached on disk
in the run folder (:class:`flows.FlowCache`), so a resumed run does not recompute them. Any
(t, j) in any order: multi-pass runs backward passes too. ``--flow-dir`` swaps the computation
for ``.flo`` files (:class:`neuralpaint.flowdir.FlowDirSource`).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

import flows

from . import temporal


def inside_only(c: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Reliability ``c`` with every pixel whose source lies outside the frame set to 0.

    Ruder's check zeroes those pixels *before* its Gaussian smoothing, which then gives them
    0.2–0.6 again from their neighbours. Warped images hold the fill value (black) there, so
    without this the init and the temporal target drag a dark band in from the edge that grows
    frame after frame in a pan.
    """
    return np.where(flows.out_of_frame(flow), np.float32(0), c).astype(np.float32, copy=False)


@dataclass
class PairFlows:
    """Both flows between frames t−j and t, and the reliability of warping in each direction."""

    backward: np.ndarray  #: t → t−j (warps frame t−j into t)
    forward: np.ndarray  #: t−j → t (warps frame t into t−j)
    #: reliability of warping t−j into t: the flow check, 0 where the source is outside, times
    #: the photometric gate of the warped source frame (:func:`temporal.photometric_gate`)
    c_backward: np.ndarray
    #: how well frame t−j *unmoved* matches frame t (the gate of a still candidate of the init)
    c_still: np.ndarray
    _c_forward: Optional[np.ndarray] = None

    @property
    def c_forward(self) -> np.ndarray:
        """Reliability of warping t into t−j (only multi-pass's backward passes need it)."""
        if self._c_forward is None:
            self._c_forward = inside_only(flows.reliability(self.forward, self.backward), self.forward)
        return self._c_forward


class FlowSource:
    """Flows of a clip by (t, j), computed ahead in threads, cached in memory and on disk.

    Unlike :class:`flows.FlowPrefetcher`, which walks forward through a clip, this serves any
    (t, j) in any order: multi-pass runs backward passes too. The computation and the disk cache
    are :meth:`flows.FlowCache.get_or_compute`. OpenCV releases the GIL in its flow code, so the
    threads overlap with the optimiser in the main thread.
    """

    def __init__(self, frames: Sequence[np.ndarray], method: str, cache_dir: Path,
                 clip_key: str, workers: int = 2, memory: int = 64):
        self.frames = frames
        self.method = method
        self.cache = flows.FlowCache(cache_dir, clip_id=clip_key)
        self.pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="flow")
        self.futures: dict[tuple[int, int], Future] = {}
        self.memory: OrderedDict[tuple[int, int], PairFlows] = OrderedDict()
        self.capacity = memory
        self.lock = threading.Lock()
        self.wait_seconds = 0.0

    def _compute(self, t: int, j: int) -> PairFlows:
        res = self.cache.get_or_compute(self.frames, t, j, method=self.method)
        return self.pair(t, j, res.backward, res.forward, res.reliability)

    def pair(self, t: int, j: int, backward: np.ndarray, forward: np.ndarray,
             reliability: np.ndarray) -> PairFlows:
        """The :class:`PairFlows` of frames t−j → t from their flows and flow-check reliability:
        zeroed outside the frame and gated by how well the warp reproduces the source frame."""
        cur, prev = self.frames[t].astype(np.float32) / 255, self.frames[t - j].astype(np.float32) / 255
        moved = np.abs(flows.warp(prev, backward) - cur).mean(axis=2)
        still = np.abs(prev - cur).mean(axis=2)
        c = inside_only(reliability, backward) * temporal.photometric_gate(moved)
        return PairFlows(backward, forward, c, temporal.photometric_gate(still))

    def prefetch(self, keys: Sequence[tuple[int, int]]) -> None:
        with self.lock:
            for key in keys:
                t, j = key
                if t - j < 0 or t >= len(self.frames) or key in self.memory or key in self.futures:
                    continue
                self.futures[key] = self.pool.submit(self._compute, t, j)

    def get(self, t: int, j: int) -> PairFlows:
        key = (t, j)
        with self.lock:
            if key in self.memory:
                self.memory.move_to_end(key)
                return self.memory[key]
            fut = self.futures.pop(key, None)
        t0 = time.perf_counter()
        pf = fut.result() if fut is not None else self._compute(t, j)
        self.wait_seconds += time.perf_counter() - t0
        with self.lock:
            self.memory[key] = pf
            while len(self.memory) > self.capacity:
                self.memory.popitem(last=False)
        return pf

    def warp_into(self, t: int, s: int, image: np.ndarray, detail: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Warp ``image`` (a result of frame s) into frame t; returns (warped, reliability).

        ``detail``: the fine detail the sub-pixel interpolation took, given back
        (:func:`flows.restore_detail`; ``VideoSettings.warp_detail``)."""
        if s < t:
            pf = self.get(t, t - s)
            flow, c = pf.backward, pf.c_backward
        else:
            pf = self.get(s, s - t)
            flow, c = pf.forward, pf.c_forward
        return _clip01(flows.restore_detail(flows.warp(image, flow), flow, detail)), c

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def _clip01(image: np.ndarray) -> np.ndarray:
    """Warped results stay in [0,1] (bicubic resampling overshoots a little at edges, and the
    overshoot would otherwise grow frame after frame)."""
    return np.clip(image, 0.0, 1.0, out=image)
