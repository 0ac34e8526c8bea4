"""Running a sweep: plan (resume), execute, collect, write results and the page.

Layout of the output folder::

    sweep.json          the expanded sweep (every run's input, styles, options) as run
    results.json        {"title", "parameters", "runs": [record, ...]} in the sweep's run order
    results.csv         one row per run: id, status, input, style, parameters, seconds, losses, E_k
    index.html          contact sheet of thumbnails + plots of metric vs parameter
    plots/*.png
    runs/<slug>-<hash>/ one folder per run (see neuralpaint.sweep.runner)

Resume: a run whose ``run.json`` says ``done`` (and whose output exists) is not run again; a
``failed`` one keeps its error and is retried only with ``retry_failed``; anything else (never
started, interrupted) runs.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

from .. import atomic
from ..errors import InputError
from ..events import Callback
from . import config, results
from .config import Run, Sweep
from .executors import Executor, make_executor
from .runner import base_record, execute, now, read_record, write_record


@dataclass(frozen=True)
class SweepPlanned:
    """Sent once before any work: how many runs there are and how many will run."""

    total: int
    todo: int
    done: int  #: finished earlier, skipped
    failed: int  #: failed earlier, kept (not retried)
    executor: str
    output: str


@dataclass(frozen=True)
class RunFinished:
    """Sent as each run ends (completion order)."""

    index: int  #: 1-based count of runs finished in this call
    todo: int
    run_id: str
    status: str  #: "done" | "failed"
    seconds: Optional[float]
    error: Optional[str]


@dataclass
class SweepSummary:
    output: Path
    records: list[dict[str, Any]]
    ran: int
    skipped: int
    failed: int
    seconds: float
    files: dict[str, Path] = field(default_factory=dict)


def default_output(sweep: Sweep) -> Path:
    if sweep.output is not None:
        return sweep.output
    return sweep.path.with_name(f"{sweep.path.stem}_sweep")


def _finished(folder: Path, rec: Optional[dict[str, Any]]) -> bool:
    return bool(rec) and rec.get("status") == "done" and bool(rec.get("output")) and (folder / rec["output"]).exists()


def run_sweep(sweep: Union[Sweep, str, Path], output: Union[str, Path, None] = None, *,
              executor: Union[str, Executor] = "local", address: Optional[str] = None,
              max_parallel: Optional[int] = None, retry_failed: bool = False, page: bool = True,
              callback: Callback = None) -> SweepSummary:
    """Run every run of ``sweep`` (a :class:`Sweep` or a TOML path) that is not finished yet.

    ``executor``: ``"local"``, ``"ray"`` or an :class:`Executor`. Returns the summary; the
    records are in the sweep's run order. Failed runs are recorded, never raised.
    """
    t0 = time.perf_counter()
    if not isinstance(sweep, Sweep):
        sweep = config.load(sweep)
    # absolute: worker processes and Ray tasks do not share this process's working directory
    out = (Path(output) if output is not None else default_output(sweep)).expanduser().resolve()
    try:
        (out / "runs").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the sweep folder {str(out)!r}: {exc.strerror or exc}") from None
    atomic.write_text(out / "sweep.json", json.dumps({
        "title": sweep.title, "file": str(sweep.path), "parameters": sweep.parameters,
        "offsets": list(sweep.offsets), "runs": [r.to_json() for r in sweep.runs]}, indent=1))

    records: dict[str, dict[str, Any]] = {}
    todo: list[Run] = []
    done = kept_failed = 0
    for run in sweep.runs:
        folder = out / "runs" / run.id
        rec = read_record(folder)
        if rec is not None and _finished(folder, rec):
            records[run.id] = rec
            done += 1
        elif rec is not None and rec.get("status") == "failed" and not retry_failed:
            records[run.id] = rec
            kept_failed += 1
        else:
            todo.append(run)

    own = not isinstance(executor, Executor)
    ex = make_executor(executor, address=address, max_parallel=max_parallel) if own else executor
    if callback is not None:
        callback(SweepPlanned(total=len(sweep.runs), todo=len(todo), done=done, failed=kept_failed,
                              executor=ex.describe(), output=str(out)))
    jobs = [{"run": r.to_json(), "folder": str(out / "runs" / r.id), "offsets": list(sweep.offsets),
             "flow_cache": str(out / "_flows")} for r in todo]
    by_id = {r.id: r for r in todo}
    n_ran = n_failed = 0
    try:
        for i, outcome in enumerate(ex.map(execute, jobs), 1):
            run = by_id[outcome.job["run"]["id"]]
            if outcome.ok:
                rec = outcome.value
            else:
                rec = base_record(run)
                rec.update(status="failed", error=outcome.error, finished=now())
                prev = read_record(out / "runs" / run.id)
                rec["attempts"] = int((prev or {}).get("attempts", 0)) + 1
                write_record(out / "runs" / run.id, rec)
                n_failed += 1
            n_ran += 1
            records[run.id] = rec
            results.write(out, sweep, [records[r.id] for r in sweep.runs if r.id in records])
            if callback is not None:
                callback(RunFinished(index=i, todo=len(todo), run_id=run.id, status=rec["status"],
                                     seconds=rec.get("seconds"), error=rec.get("error")))
    finally:
        if own:
            ex.close()
    ordered = [records[r.id] for r in sweep.runs if r.id in records]
    files = results.write(out, sweep, ordered)
    if page:
        from .page import write_page
        files["page"] = write_page(out, sweep, ordered)
    failed = sum(1 for r in ordered if r.get("status") == "failed")
    return SweepSummary(output=out, records=ordered, ran=n_ran, skipped=done + kept_failed, failed=failed,
                        seconds=time.perf_counter() - t0, files=files)


__all__ = ["run_sweep", "SweepSummary", "SweepPlanned", "RunFinished", "default_output"]
