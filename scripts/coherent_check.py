#!/usr/bin/env python
"""Check a comparison (``neuralpaint compare ... --methods fast,fast-blend,coherent,short``) against
the coherent network's targets, and print the table as Markdown for the README.

Targets (issue 16, on real footage with trained features): the coherent network's E_1 at most
``--max-e1`` (0.5) × the per-frame fast network's, its style loss at most ``--max-style`` (1.2) ×
the per-frame network's, and at least ``--min-speedup`` (20) × faster per frame than the slowest
optimisation row. Exit status 0 when all hold, 1 otherwise.

The recipe behind the README's numbers (two CPU cores; see README, "The coherent online network")::

    D=../shared/data/clip-street; S=../shared/data/styles/starry_night.jpg
    neuralpaint train $S --data $D -o content.pt --steps 40 --style-weight 0 --lr 1e-3 \\
        --noise-weight 0 --compound-weight 0 --size 128 --batch 2 --style-size 192 --weights hed --precision bf16
    neuralpaint train $S --data $D -o street.pt --init content.pt --steps 300 --style-weight 10 \\
        --lr 3e-4 --noise-weight 0 --size 128 --batch 2 --style-size 192 --weights hed --precision bf16
    neuralpaint train $S --data $D -o street-coherent.pt --coherent --base street.pt --steps 200 \\
        --style-weight 10 --lr 1e-3 --noise-weight 0 --size 128 --batch 2 --style-size 192 \\
        --weights hed --precision bf16
    mkdir street12 && cp $D/frame_0{01..12}.png street12/
    neuralpaint compare street12 $S -o cmp --methods fast,fast-blend,coherent,short \\
        --coherent-model street-coherent.pt --size 192 --weights hed --iters 30 --first-iters 60
    python scripts/coherent_check.py cmp/compare.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Optional

OPTIMISATION = ("naive", "init", "short", "long", "multipass")


def fmt(v: Optional[float], digits: int = 3) -> str:
    return "—" if v is None else f"{v:.{digits}g}"


def table(data: dict[str, Any]) -> str:
    lines = ["| method | s/frame | E_1 | E_4 | disoccluded E_1 | style loss | content loss |",
             "|---|---|---|---|---|---|---|"]
    for row in data["table"]:
        lines.append(f"| {row['method']} | {fmt(row['seconds_per_frame'])} | {fmt(row['E_1'])} | {fmt(row['E_4'])} "
                     f"| {fmt(row['disoccluded_E_1'])} | {fmt(row['style_loss'])} | {fmt(row['content_loss'])} |")
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("compare_json", type=Path)
    ap.add_argument("--max-e1", type=float, default=0.5)
    ap.add_argument("--max-style", type=float, default=1.2)
    ap.add_argument("--min-speedup", type=float, default=20.0)
    args = ap.parse_args(argv)
    try:
        data = json.loads(args.compare_json.read_text(encoding="utf-8"))
        rows = {r["method"]: r for r in data["table"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"error: cannot read {str(args.compare_json)!r} as a compare.json ({exc})", file=sys.stderr)
        return 2
    missing = [m for m in ("fast", "coherent") if m not in rows]
    optim = [rows[m] for m in OPTIMISATION if m in rows]
    if missing or not optim:
        print(f"error: {args.compare_json} needs the rows fast, coherent and an optimisation method "
              f"(missing: {', '.join(missing) or 'optimisation'})", file=sys.stderr)
        return 2
    fast, coh = rows["fast"], rows["coherent"]
    e1 = coh["E_1"] / fast["E_1"]
    style = coh["style_loss"] / fast["style_loss"]
    speed = max(r["seconds_per_frame"] for r in optim) / coh["seconds_per_frame"]
    print(table(data))
    print()
    checks = [(f"E_1 coherent ÷ fast = {e1:.3f} (≤ {args.max_e1})", e1 <= args.max_e1),
              (f"style loss coherent ÷ fast = {style:.3f} (≤ {args.max_style})", style <= args.max_style),
              (f"optimisation s/frame ÷ coherent = {speed:.0f}× (≥ {args.min_speedup:g}×)", speed >= args.min_speedup)]
    for text, ok in checks:
        print(f"{'ok  ' if ok else 'FAIL'} {text}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
