#!/usr/bin/env python
"""A strip of frames from a comparison folder (``neuralpaint compare`` on a frame folder): one
row per chosen frame, one column per method, plus the coherent network's learned mask; written
as a palette PNG (small enough for the repository). Used for the README's comparison figure::

    python scripts/coherent_strip.py cmp -o docs/coherent_street.png --frames 2,7,12
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from neuralpaint import media
from neuralpaint.fast.online import mask_name
from neuralpaint.runstate import frame_name


def load_frames(folder: Path, data: dict, method: str, n: int) -> list[np.ndarray]:
    m = data["methods"][method]
    if m.get("work_dir"):
        work = folder / m["work_dir"]
        return [media.load_image(work / "frames" / frame_name(t)) for t in range(n)]
    return media.read_clip(folder / m["output"]).frames


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("compare_dir", type=Path)
    ap.add_argument("-o", "--output", type=Path, required=True)
    ap.add_argument("--frames", default="2,7,12", help="1-based frame numbers")
    ap.add_argument("--colors", type=int, default=256, help="palette size of the PNG")
    args = ap.parse_args(argv)
    try:
        data = json.loads((args.compare_dir / "compare.json").read_text(encoding="utf-8"))
        source = media.read_clip(Path(data["input"]), size=max(data["size"])).frames
        picks = [int(v) - 1 for v in args.frames.split(",")]
    except (OSError, ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    n = len(source)
    if any(not 0 <= t < n for t in picks):
        print(f"error: --frames must lie in 1..{n}, got {args.frames!r}", file=sys.stderr)
        return 2
    methods = {name: load_frames(args.compare_dir, data, name, n) for name in data["methods"]}
    gap = 4
    rows = []
    for t in picks:
        cells = [source[t]]
        for name, frames in methods.items():
            cells.append(frames[t])
            mask = args.compare_dir / "coherent" / "masks" / mask_name(t)
            if name == "coherent" and mask.is_file():  # the mask beside the frame it made
                cells.append(media.load_image(mask))
        h = cells[0].shape[0]
        sep = np.full((h, gap, 3), 255, np.uint8)
        row = [c for cell in cells for c in (cell, sep)][:-1]
        rows.append(np.concatenate(row, axis=1))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, gap), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    strip = np.concatenate(rows, axis=0)[:-gap]
    from PIL import Image

    Image.fromarray(strip).quantize(colors=args.colors, method=Image.Quantize.FASTOCTREE).save(args.output,
                                                                                                optimize=True)
    cols = ["source", *[c for m in methods for c in ((m, "its mask") if m == "coherent" else (m,))]]
    print(f"{args.output}: rows = frames {args.frames}; columns = {', '.join(cols)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
