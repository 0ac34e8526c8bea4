"""Render configurations of one clip into resumable run folders and summarise their records.

Shared by the benchmarks that put speed and video quality side by side (``scripts/bench.py
--video``, ``scripts/quality_video.py``): each configuration renders into its own run folder
under an output folder, so a second call only measures; the frame records (iterations, seconds,
flow wait, per-iteration loss history) come back with the frames.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Optional, Sequence

import numpy as np

from . import media

#: "converged" for :func:`converged_at`: within this share of the final loss
WITHIN = 0.01


def render(clip: Path, style: Path, out: Path, name: str, opts: dict[str, Any], callback: Any = None
           ) -> tuple[list[np.ndarray], list[Any], float]:
    """Render (or resume) configuration ``name`` of ``clip`` into ``out/name/`` (frames) and
    ``out/.name.run`` (its run folder); returns its frames, frame records and wall seconds."""
    from .video import stylize_video

    t0 = time.perf_counter()
    target = out / f"{name}/"
    res = stylize_video(clip, [style], str(target), work_dir=out / f".{name}.run", restart=False,
                        callback=callback, **opts)
    frames = [media.load_image(target / f"frame_{t + 1:05d}.png") for t in range(res.frames)]
    return frames, res.records, time.perf_counter() - t0


def from_run_folder(folder: Path) -> tuple[list[np.ndarray], list[Any]]:
    """Frames and frame records of a finished run folder (any version with ``frames/`` and a
    manifest whose ``frames`` list the records)."""
    manifest = json.loads((folder / "manifest.json").read_text())
    frames = [media.load_image(p) for p in sorted((folder / "frames").glob("frame_*.png"))]
    records = [SimpleNamespace(**{"history": [], "changes": [], "loss": None, "iterations": 0, "seconds": 0.0,
                                  "flow_seconds": 0.0, "io_seconds": 0.0, **r})
               for r in manifest["frames"]]
    return frames, records


def mean_later(values: Sequence[Any]) -> Optional[float]:
    """Mean of frames 2..n (None values skipped; None when nothing is left)."""
    later = [float(v) for v in values[1:] if v is not None]
    return float(np.mean(later)) if later else None


def init_ratios(records: Sequence[Any]) -> list[float]:
    """Loss at the init of frame t (the first evaluation) ÷ frame t−1's final loss."""
    out = []
    for prev, rec in zip(records, records[1:]):
        if rec.history and rec.history[0][0] == 1 and prev.loss:  # runs without it recorded: n/a
            out.append(rec.history[0][1] / prev.loss)
    return out


def init_vs_naive(records: Sequence[Any], naive: Sequence[Any]) -> list[float]:
    """Loss at the init of frame t ÷ the naive run's final loss of the same frame (how far ahead
    of a per-frame render the init starts)."""
    return [rec.history[0][1] / nv.loss for rec, nv in zip(records[1:], naive[1:])
            if rec.history and rec.history[0][0] == 1 and nv.loss]


def caught_up(records: Sequence[Any]) -> list[Optional[int]]:
    """For frames 2..n: the first iteration at which frame t's loss was at or below frame t−1's
    final loss (None: never within its run, or no history recorded).

    What the init kept, in iterations: a later frame that starts from the previous frame's work
    gets back to that frame's level in a few iterations; one that lost it needs as many as the
    first frame did. Unlike "init loss ÷ previous final" this does not blow up near an optimum:
    there, changes nobody can see multiply the loss (docs/metrics.md, "How sharp the optimum is").
    """
    out: list[Optional[int]] = []
    for prev, rec in zip(records, records[1:]):
        hit = None
        if prev.loss is not None and rec.history:
            hit = next((int(i) for i, loss in rec.history if float(loss) <= float(prev.loss)), None)
        out.append(hit)
    return out


def converged_at(history: Sequence[Sequence[float]], within: float = WITHIN) -> Optional[int]:
    """The first iteration of ``history`` ((iteration, loss) pairs, the final loss last) from
    which the loss stays within ``within`` of the final loss; None for an empty history.

    "Stays": a loss that dips inside the band and leaves it again (L-BFGS without a line search
    overshoots) does not count until it is inside for good.
    """
    if not history:
        return None
    final = float(history[-1][1])
    band = within * abs(final)
    at = int(history[-1][0])
    for i, loss in reversed(history):
        if abs(float(loss) - final) > band:
            break
        at = int(i)
    return at


def timing(records: Sequence[Any]) -> dict[str, Optional[float]]:
    """Iterations and seconds of the first frame and the mean of the later ones, flow wait and
    I/O per later frame, and when the later frames came within 1% of their final loss."""
    if not records:
        return {}
    first, later = records[0], list(records[1:])
    conv = [converged_at(r.history) for r in later]
    conv_n = [c for c in conv if c is not None]
    share = [c / r.iterations for c, r in zip(conv, later) if c is not None and r.iterations]
    back = caught_up(records)
    back_n = [c for c in back if c is not None]

    def mean(values: Sequence[float]) -> Optional[float]:
        return statistics.mean(values) if values else None

    return {
        "first_iters": float(first.iterations), "first_seconds": float(first.seconds),
        "first_converged_at": converged_at(first.history),
        "later_iters": mean([r.iterations for r in later]),
        "later_seconds": mean([r.seconds for r in later]),
        "later_flow_wait": mean([r.flow_seconds for r in later]),
        "later_io": mean([r.io_seconds for r in later]),
        "later_wall": mean([r.seconds + r.flow_seconds + r.io_seconds for r in later]),
        "converged_at_median": statistics.median(conv_n) if conv_n else None,
        "converged_at_mean": mean(conv_n),
        "converged_share_median": statistics.median(share) if share else None,
        "converged_at": conv,
        "caught_up_median": statistics.median(back_n) if back_n else None,
        "caught_up_frames": len(back_n),
        "caught_up": back,
    }


__all__ = ["WITHIN", "caught_up", "converged_at", "from_run_folder", "init_ratios", "init_vs_naive", "mean_later",
           "render", "timing"]
