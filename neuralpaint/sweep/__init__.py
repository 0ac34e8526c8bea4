"""Parameter sweeps: a TOML file of inputs, styles and option grids -> runs, results, a page.

- :mod:`.config`: the TOML schema and its validation (:func:`load`, :class:`Sweep`, :class:`Run`).
- :mod:`.executors`: where jobs run (``local`` in-process / process pool, ``ray``).
- :mod:`.runner`: one run as a job (:func:`execute`), its folder and ``run.json``.
- :mod:`.core`: :func:`run_sweep` (resume, retry, collect).
- :mod:`.results`, :mod:`.page`: ``results.csv``/``results.json`` and ``index.html``.
- :mod:`.cli`: ``python scripts/sweep.py SWEEP.toml ...``.

Nothing here imports torch at import time (executor workers set threads / GPU first).
"""

from __future__ import annotations

from .config import Run, Sweep, load, parse
from .core import RunFinished, SweepPlanned, SweepSummary, run_sweep
from .executors import Executor, LocalExecutor, Outcome, RayExecutor, make_executor

__all__ = ["Run", "Sweep", "load", "parse", "run_sweep", "SweepSummary", "SweepPlanned", "RunFinished",
           "Executor", "LocalExecutor", "RayExecutor", "Outcome", "make_executor"]
