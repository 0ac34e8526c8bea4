#!/usr/bin/env python
"""Run a neuralpaint parameter sweep: ``python scripts/sweep.py SWEEP.toml [options]``.

A thin wrapper around :mod:`neuralpaint.sweep` (the logic and its tests live there); see
docs/sweeps.md for the TOML schema and examples/sweep.toml for an example.

    python scripts/sweep.py examples/sweep.toml
    python scripts/sweep.py examples/sweep.toml --max-parallel 2
    python scripts/sweep.py examples/sweep.toml --executor ray --address auto
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":
    try:
        import neuralpaint.sweep  # noqa: F401
    except ImportError:  # run from a checkout without `pip install -e .`
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from neuralpaint.sweep.cli import main

    sys.exit(main())
