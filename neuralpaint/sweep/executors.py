"""Where jobs run: one small interface, two back ends.

``Executor.map(fn, jobs)`` runs ``fn(job)`` for every job and yields an :class:`Outcome` per job
as each finishes (completion order, not submission order). ``fn`` must be a module-level
function (it is pickled to worker processes / Ray workers) and should return something
picklable; an exception it raises becomes ``Outcome.error`` (one line, ``Type: message``), so a
failing job never stops the others.

- :class:`LocalExecutor` (``local``, the default): in this process, one job after the other,
  when there is one device and ``max_parallel`` is 1. Otherwise N worker processes
  (``concurrent.futures.ProcessPoolExecutor``, *spawn* context so CUDA and OpenMP start clean):
  one per visible GPU when several are visible, each pinned to its GPU with
  ``CUDA_VISIBLE_DEVICES`` (set before the worker touches CUDA); on a CPU-only machine,
  ``max_parallel`` workers that split the cores (``torch.set_num_threads(cores // N)``).
- :class:`RayExecutor` (``ray``, optional extra ``neuralpaint[ray]``): one Ray core task per
  job, ``num_gpus=1`` each when the cluster has GPUs (Ray sets ``CUDA_VISIBLE_DEVICES`` of the
  task), else ``num_cpus`` each. It connects to a running cluster (``address``, or
  ``RAY_ADDRESS``) or, without one, starts a local Ray instance; a Ray instance that is already
  initialised in this process (``ray.init`` by the caller) is used as it is. At most
  ``max_parallel`` tasks are in flight when given.

Nothing here imports torch at module level: a spawned worker sets its thread count and GPU pin
before torch is first used.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Optional

from ..errors import InputError
from ..settings import EXECUTORS

RAY_MISSING = "the ray executor needs `pip install 'neuralpaint[ray]'`"


@dataclass
class Outcome:
    """What became of one job: ``value`` (``fn``'s return) or ``error`` (one line)."""

    job: Any
    value: Any = None
    error: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.error is None


def error_line(exc: BaseException) -> str:
    """``Type: message`` on one line (the message alone for our own InputError)."""
    text = " ".join(str(exc).split())
    if isinstance(exc, InputError):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def call_safely(fn: Callable[[Any], Any], job: Any) -> Outcome:
    try:
        return Outcome(job, value=fn(job))
    except Exception as exc:  # noqa: BLE001 - a failing job is recorded, not raised
        return Outcome(job, error=error_line(exc))


def visible_gpus() -> int:
    """Number of CUDA devices this process can see (0 without torch CUDA)."""
    try:
        import torch
        return torch.cuda.device_count() if torch.cuda.is_available() else 0
    except Exception:  # noqa: BLE001
        return 0


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class Executor:
    """The interface: ``map(fn, jobs) -> iterator of Outcome`` (as jobs finish)."""

    name = "executor"
    #: Parallel slots (for messages and for the chunked video's planning).
    slots = 1

    def map(self, fn: Callable[[Any], Any], jobs: Iterable[Any]) -> Iterator[Outcome]:  # pragma: no cover
        raise NotImplementedError

    def describe(self) -> str:
        return f"{self.name} ({self.slots} parallel)"

    def close(self) -> None:
        """Release what the executor started (worker pools, a Ray instance it started)."""


# ---------------------------------------------------------------------------------------------
# local


def _init_worker(gpu_queue: Any, threads: int) -> None:
    """Runs first in each spawned worker: GPU pin, then thread count."""
    if gpu_queue is not None:
        gpu = gpu_queue.get()
        os.environ["CUDA_VISIBLE_DEVICES"] = str(gpu)
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    try:
        import torch
        torch.set_num_threads(max(1, threads))
    except Exception:  # noqa: BLE001
        pass


class LocalExecutor(Executor):
    """In-process (one slot) or a spawn-context process pool; see the module notes."""

    name = "local"

    def __init__(self, max_parallel: Optional[int] = None, gpus: Optional[int] = None):
        if max_parallel is not None and (isinstance(max_parallel, bool) or not isinstance(max_parallel, int)
                                         or max_parallel < 1):
            raise InputError(f"--max-parallel must be a positive integer, got {max_parallel!r}")
        self.gpus = visible_gpus() if gpus is None else gpus
        if self.gpus > 1:
            self.slots = max_parallel if max_parallel is not None else self.gpus
        else:
            self.slots = max_parallel if max_parallel is not None else 1
        self.threads = max(1, cpu_count() // self.slots) if self.gpus == 0 else 1

    def describe(self) -> str:
        if self.slots == 1:
            return "local (in this process)"
        where = f"{self.gpus} GPUs" if self.gpus > 1 else f"{self.threads} CPU thread(s) each"
        return f"local ({self.slots} worker processes, {where})"

    def map(self, fn: Callable[[Any], Any], jobs: Iterable[Any]) -> Iterator[Outcome]:
        jobs = list(jobs)
        if not jobs:
            return
        if self.slots == 1 or len(jobs) == 1 and self.gpus <= 1:
            for job in jobs:
                yield call_safely(fn, job)
            return
        ctx = multiprocessing.get_context("spawn")
        workers = min(self.slots, len(jobs))
        queue = None
        if self.gpus > 1:
            queue = ctx.Queue()
            for i in range(workers):
                queue.put(i % self.gpus)
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                                   initargs=(queue, self.threads))
        try:
            futures: dict[Future, Any] = {pool.submit(call_safely, fn, job): job for job in jobs}
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    job = futures[fut]
                    try:
                        yield fut.result()
                    except Exception as exc:  # noqa: BLE001 - a worker died (OOM kill, segfault)
                        yield Outcome(job, error=f"worker process failed: {error_line(exc)}")
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


# ---------------------------------------------------------------------------------------------
# ray


def _ray_call(fn: Callable[[Any], Any], job: Any, threads: int) -> Outcome:
    """Body of a Ray task: thread count, then the job (errors caught as for local)."""
    try:
        import torch
        torch.set_num_threads(max(1, threads))
    except Exception:  # noqa: BLE001
        pass
    return call_safely(fn, job)


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise InputError(RAY_MISSING) from None
    return ray


class RayExecutor(Executor):
    """Ray core tasks; see the module notes."""

    name = "ray"

    def __init__(self, address: Optional[str] = None, max_parallel: Optional[int] = None,
                 cpus_per_task: Optional[int] = None, gpus_per_task: Optional[float] = None):
        if max_parallel is not None and (isinstance(max_parallel, bool) or not isinstance(max_parallel, int)
                                         or max_parallel < 1):
            raise InputError(f"--max-parallel must be a positive integer, got {max_parallel!r}")
        ray = import_ray()
        self.ray = ray
        self.started = False
        if not ray.is_initialized():
            try:
                if address:
                    ray.init(address=address, include_dashboard=False, log_to_driver=False)
                else:
                    ray.init(include_dashboard=False, log_to_driver=False)
            except ConnectionError as exc:
                raise InputError(f"cannot connect to the Ray cluster at {address!r}: {error_line(exc)}") from None
            self.started = True
        resources = ray.cluster_resources()
        self.cluster_gpus = int(resources.get("GPU", 0))
        self.cluster_cpus = int(resources.get("CPU", 1))
        if gpus_per_task is None:
            gpus_per_task = 1 if self.cluster_gpus > 0 else 0
        self.gpus_per_task = gpus_per_task
        if cpus_per_task is None:
            if gpus_per_task:
                cpus_per_task = 1
            elif max_parallel:
                cpus_per_task = max(1, self.cluster_cpus // max_parallel)
            else:
                cpus_per_task = 1
        self.cpus_per_task = cpus_per_task
        by_resource = (int(self.cluster_gpus // gpus_per_task) if gpus_per_task
                       else max(1, self.cluster_cpus // cpus_per_task))
        self.max_parallel = max_parallel
        self.slots = max(1, min(by_resource, max_parallel) if max_parallel else by_resource)

    def describe(self) -> str:
        per = f"{self.gpus_per_task} GPU" if self.gpus_per_task else f"{self.cpus_per_task} CPU"
        return f"ray ({self.cluster_gpus} GPUs, {self.cluster_cpus} CPUs in the cluster; {per} per task)"

    def map(self, fn: Callable[[Any], Any], jobs: Iterable[Any]) -> Iterator[Outcome]:
        ray = self.ray
        jobs = list(jobs)
        if not jobs:
            return
        opts: dict[str, Any] = {"num_cpus": self.cpus_per_task, "max_retries": 0}
        if self.gpus_per_task:
            opts["num_gpus"] = self.gpus_per_task
        task = ray.remote(**opts)(_ray_call)
        fn_ref = ray.put(fn)
        limit = self.max_parallel or len(jobs)
        waiting = list(jobs)
        refs: dict[Any, Any] = {}
        while waiting or refs:
            while waiting and len(refs) < limit:
                job = waiting.pop(0)
                refs[task.remote(fn_ref, job, self.cpus_per_task)] = job
            done, _ = ray.wait(list(refs), num_returns=1)
            for ref in done:
                job = refs.pop(ref)
                try:
                    yield ray.get(ref)
                except Exception as exc:  # noqa: BLE001 - the task's worker died
                    yield Outcome(job, error=f"ray task failed: {error_line(exc)}")

    def close(self) -> None:
        if self.started:
            self.ray.shutdown()
            self.started = False


def make_executor(name: str = "local", *, address: Optional[str] = None,
                  max_parallel: Optional[int] = None) -> Executor:
    """``local`` or ``ray`` (an ``address`` only makes sense for ray)."""
    if name == "local":
        if address:
            raise InputError(f"--address {address!r} needs --executor ray")
        return LocalExecutor(max_parallel=max_parallel)
    if name == "ray":
        return RayExecutor(address=address, max_parallel=max_parallel)
    raise InputError(f"unknown executor {name!r}; choose one of {', '.join(EXECUTORS)}")


__all__ = ["EXECUTORS", "Executor", "LocalExecutor", "RayExecutor", "Outcome", "make_executor",
           "visible_gpus", "error_line", "RAY_MISSING"]
