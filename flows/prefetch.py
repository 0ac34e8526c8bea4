"""Compute the flows of upcoming frames ahead of time, in worker threads (or processes).

While the optimiser paints frame t, the workers compute the flows of frames t+1 … t+lookahead.
OpenCV releases the GIL inside its flow routines, so threads run in parallel; a process pool is
available too (``executor="process"``) for backends or machines where that measures faster.

    with FlowPrefetcher(frames, offsets=(1, 2, 4), cache=FlowCache(folder)) as prefetch:
        for t in range(len(frames)):
            flows_t = prefetch.get(t)        # {j: FlowResult} for every j <= t
            ...                              # meanwhile t+1.. are being computed

Memory is bounded: at most ``lookahead + 1`` frames' results are held; results of frames
before the one asked for are dropped.

Measured (512x384, DIS medium, 12 pairs of 2 flows + reliability, 2 cores shared with other
jobs, load average ~10): raw throughput of 2 worker threads 0.94-1.0x and of 2 warm worker
processes 1.0x the sequential loop (OpenCV's DIS already uses both cores; processes also pay
~1 s start-up each and pickle 4 MB per pair). The gain is overlap: with the main thread busy
40 ms per frame elsewhere (the GPU optimiser), the clip finished 1.35-1.55x sooner with thread
prefetching and 0.8-1.5x with processes (depending on whether their start-up was counted).
Hence threads by default. ``executor="process"`` uses the "spawn" start method, so a script
that uses it needs the usual ``if __name__ == "__main__":`` guard.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from .cache import FlowCache, FlowResult, compute_result, resolve_reliability_params
from .errors import FlowError
from .estimate import resolve_params

EXECUTORS = ("thread", "process")


class FlowPrefetcher:
    """Flows (backward, forward) and reliability of frames t for several offsets, computed ahead.

    ``frames``: sequence of images (uint8 HxWx3 usually). ``offsets``: positive ints J; frame t
    gets every j in J with j <= t. ``method``/``params``: as :func:`flows.estimate`.
    ``reliability_params``: keywords of :func:`flows.reliability`. ``cache``: a
    :class:`FlowCache` (optional; hits skip the computation, misses are stored). ``workers``:
    pool size (default: ``min(2, cpu count)``). ``lookahead``: how many frames after the one
    asked for are scheduled. ``executor``: "thread" (default) or "process".
    """

    def __init__(
        self,
        frames: Sequence[np.ndarray],
        offsets: Iterable[int] = (1,),
        method: str = "dis",
        params: Mapping[str, Any] | None = None,
        reliability_params: Mapping[str, Any] | None = None,
        cache: FlowCache | None = None,
        clip_id: str | None = None,
        workers: int | None = None,
        lookahead: int = 2,
        executor: str = "thread",
    ) -> None:
        self.frames = frames
        self.offsets = _check_offsets(offsets)
        self.method = method
        self.params = dict(params or {})
        resolve_params(method, self.params)  # fail now, not in a worker
        self.reliability_params = dict(reliability_params or {})
        resolve_reliability_params(self.reliability_params)  # same: unknown keywords fail here
        self.cache = cache
        self.clip_id = clip_id
        if isinstance(lookahead, bool) or not isinstance(lookahead, int) or lookahead < 0:
            raise FlowError(f"lookahead must be a non-negative integer, got {lookahead!r}")
        self.lookahead = lookahead
        if executor not in EXECUTORS:
            raise FlowError(f"unknown executor {executor!r}; choose one of {', '.join(EXECUTORS)}")
        self.executor_kind = executor
        if workers is None:
            workers = max(1, min(2, os.cpu_count() or 1))
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise FlowError(f"workers must be a positive integer, got {workers!r}")
        self.workers = workers
        self._pool: cf.Executor | None
        if executor == "thread":
            self._pool = cf.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="flows")
        else:
            # "spawn": forking a process whose OpenCV (or torch) thread pools are running can
            # leave the child with broken locks; spawned workers start clean (about 0.5 s each).
            # Each worker gets its share of the cores for OpenCV's own threads (no oversubscription).
            threads = max(1, (os.cpu_count() or 1) // workers)
            self._pool = cf.ProcessPoolExecutor(
                max_workers=workers,
                mp_context=mp.get_context("spawn"),
                initializer=_init_process_worker,
                initargs=(threads,),
            )
        self._pending: dict[int, dict[int, tuple[cf.Future, str | None]]] = {}

    # -- public -------------------------------------------------------------------------------

    def submit(self, t: int) -> None:
        """Schedule the flows of frame t (no-op if already scheduled)."""
        t = self._check_t(t)
        if t in self._pending:
            return
        if self._pool is None:
            raise FlowError("this FlowPrefetcher is closed")
        jobs: dict[int, tuple[cf.Future, str | None]] = {}
        for j in self.offsets:
            if j > t:
                continue
            if self.executor_kind == "thread":
                future = self._pool.submit(self._thread_job, t, j)
                jobs[j] = (future, None)
                continue
            key = None
            if self.cache is not None:
                key = self.cache.key(
                    t, j, self.method, self.params, self.reliability_params, self.clip_id, self.frames
                )
                cached = self.cache.load(key)
                if cached is not None:
                    self.cache.hits += 1
                    done: cf.Future = cf.Future()
                    done.set_result(cached)
                    jobs[j] = (done, None)
                    continue
            future = self._pool.submit(
                compute_result, self.frames[t], self.frames[t - j], self.method, self.params, self.reliability_params
            )
            jobs[j] = (future, key)
        self._pending[t] = jobs

    def get(self, t: int, timeout: float | None = None) -> dict[int, FlowResult]:
        """``{j: FlowResult}`` of frame t (every offset j <= t; ``{}`` for frame 0).

        Schedules t if needed, then frames t+1 … t+lookahead, and drops results of earlier
        frames. Errors of the computation (e.g. :class:`FlowError`) are raised here.
        """
        t = self._check_t(t)
        self.submit(t)
        for earlier in [k for k in self._pending if k < t]:
            for future, _ in self._pending.pop(earlier).values():
                future.cancel()
        for ahead in range(t + 1, min(t + 1 + self.lookahead, len(self.frames))):
            self.submit(ahead)
        jobs = self._pending.pop(t)
        out: dict[int, FlowResult] = {}
        for j, (future, key) in sorted(jobs.items()):
            result = future.result(timeout=timeout)
            if key is not None and self.cache is not None:  # process pool: store in the parent
                self.cache.save(key, result)
                self.cache.misses += 1
            out[j] = result
        return out

    def close(self) -> None:
        """Cancel what is pending and stop the workers."""
        for jobs in self._pending.values():
            for future, _ in jobs.values():
                future.cancel()
        self._pending.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> "FlowPrefetcher":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ----------------------------------------------------------------------------

    def _thread_job(self, t: int, j: int) -> FlowResult:
        if self.cache is not None:
            return self.cache.get_or_compute(
                self.frames, t, j, self.method, self.params, self.reliability_params, self.clip_id
            )
        return compute_result(self.frames[t], self.frames[t - j], self.method, self.params, self.reliability_params)

    def _check_t(self, t: int) -> int:
        n = len(self.frames)
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or not 0 <= t < n:
            raise FlowError(f"frame index must be in 0..{n - 1}, got {t!r}")
        return int(t)


def _init_process_worker(threads: int) -> None:
    import cv2

    cv2.setNumThreads(threads)


def _check_offsets(offsets: Iterable[int]) -> tuple[int, ...]:
    try:
        values = tuple(offsets)
    except TypeError:
        raise FlowError(f"offsets must be a list of positive integers, got {offsets!r}") from None
    if not values:
        raise FlowError("offsets must list at least one frame offset, e.g. (1,)")
    for j in values:
        if isinstance(j, bool) or not isinstance(j, (int, np.integer)) or j < 1:
            raise FlowError(f"offsets must be positive integers, got {j!r} in {values!r}")
    if len(set(values)) != len(values):
        raise FlowError(f"offsets must not repeat, got {values!r}")
    return tuple(sorted(int(j) for j in values))
