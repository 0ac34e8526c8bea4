"""``python scripts/sweep.py SWEEP.toml [--executor local|ray] [--address ADDR]
[--max-parallel N] [-o DIR] [--retry-failed]``.

Exit status: 0 when every run is done, 1 when some failed (they are recorded in the results
with their error; ``--retry-failed`` runs them again), 2 for a bad sweep file or option (one
line ``error: ...`` on stderr), 130 when interrupted (re-run to resume).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Optional, Sequence

from ..errors import NeuralPaintError
from .executors import EXECUTORS


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse prints usage + 2 lines)
        raise _UsageError(message)


class _UsageError(Exception):
    pass


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="sweep.py", description="Run a neuralpaint parameter sweep described by a TOML file.")
    p.add_argument("sweep", help="the sweep file (see docs/sweeps.md)")
    p.add_argument("--executor", default="local", choices=EXECUTORS,
                   help="local: this machine (default); ray: a Ray cluster (pip install 'neuralpaint[ray]')")
    p.add_argument("--address", default=None,
                   help="Ray cluster address (e.g. 10.0.0.1:6379 or auto); default: RAY_ADDRESS or a new local instance")
    p.add_argument("--max-parallel", type=int, default=None,
                   help="runs at once (local: worker processes; default one per GPU, else 1)")
    p.add_argument("-o", "--output", default=None, help="output folder [default: the file's `output`, "
                                                        "else <sweep stem>_sweep next to it]")
    p.add_argument("--retry-failed", action="store_true", help="run failed runs again")
    p.add_argument("--no-page", action="store_true", help="skip index.html and the plots")
    p.add_argument("-q", "--quiet", action="store_true", help="print only the summary")
    return p


def _printer(quiet: bool) -> Any:
    from .core import RunFinished, SweepPlanned

    import time

    from ..cli.progress import format_duration
    started = [time.monotonic()]

    def callback(event: Any) -> None:
        if isinstance(event, SweepPlanned):
            started[0] = time.monotonic()
            print(f"{event.total} runs: {event.todo} to run, {event.done} done earlier, {event.failed} failed "
                  f"earlier (kept); executor {event.executor}; output {event.output}", file=sys.stderr, flush=True)
        elif isinstance(event, RunFinished) and not quiet:
            what = f"{event.seconds:.1f}s" if event.status == "done" and event.seconds is not None else (event.error or "")
            # overall ETA from the wall time of this call's runs so far (parallel runs included)
            left = event.todo - event.index
            eta = (f"  ETA {format_duration((time.monotonic() - started[0]) / event.index * left)}"
                   if left > 0 else "")
            print(f"[{event.index}/{event.todo}] {event.status} {event.run_id}  {what}{eta}", file=sys.stderr, flush=True)
    return callback


def main(argv: Optional[Sequence[str]] = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser().parse_args(args_list)
    except _UsageError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    from .core import run_sweep
    try:
        if args.max_parallel is not None and args.max_parallel < 1:
            from ..errors import InputError
            raise InputError(f"--max-parallel must be >= 1, got {args.max_parallel}")
        summary = run_sweep(args.sweep, args.output, executor=args.executor, address=args.address,
                            max_parallel=args.max_parallel, retry_failed=args.retry_failed,
                            page=not args.no_page, callback=_printer(args.quiet))
    except NeuralPaintError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; re-run the same command to resume", file=sys.stderr)
        return 130
    page = summary.files.get("page")
    print(f"{summary.output}: {len(summary.records)} runs, {summary.ran} run now, {summary.skipped} skipped, "
          f"{summary.failed} failed; {summary.seconds:.1f}s"
          + (f"; page {page}" if page else ""), flush=True)
    return 1 if summary.failed else 0


__all__ = ["main", "parser"]
