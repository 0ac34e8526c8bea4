"""The page ``neuralpaint report`` writes for the run folder of ``video --fast`` with a coherent
model: its learned masks (``RUN_DIR/masks/mask_NNNNN.png``; white = the flow-warped features of
the previous frame reused, black = painted anew), a few frames side by side."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Union

from .. import media, report
from ..errors import InputError


def masks_report(run_dir: Union[str, os.PathLike], output: Union[str, os.PathLike, None] = None) -> Path:
    """Write the masks page of ``run_dir`` (default ``RUN_DIR/report.html``); returns its path."""
    run_dir = Path(run_dir)
    files = sorted((run_dir / "masks").glob("mask_*.png"))
    if not files:
        raise InputError(f"{str(run_dir / 'masks')!r} holds no masks (mask_NNNNN.png)")
    page = report.Page(Path(output) if output is not None else run_dir / "report.html",
                       f"neuralpaint report: {run_dir.name}")
    page.definitions([("run folder", str(run_dir)), ("masks", f"{len(files)} (frames 2–{len(files) + 1})")])
    page.paragraph("The coherent online network (train --coherent) composes each frame's features with the "
                   "flow-warped features of the previous frame through a learned mask: white reuses them, "
                   "black paints the frame anew (where things move or the flow fails).")
    picked = [files[i] for i in report.pick_frames(len(files), min(6, len(files)))]
    rows = [[media.load_image(p) for p in picked]]
    report.grid_image(page.asset("masks.png"), rows, [p.stem.replace("mask_", "frame ").lstrip("0") for p in picked],
                      ["mask"])
    page.image(page.files[-1], "learned masks", pixelated=True)
    return page.write()


__all__ = ["masks_report"]
