"""The results of a comparison (:mod:`neuralpaint.compare`): one :class:`MethodResult` per
method, the :class:`CompareResult` and the JSON they write (schema in ``compare``'s docstring)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np

from .metrics import FrameLosses, WarpingError
from .quality import QualityReport
from .runstate import FrameRecord
from .settings import COMPARE_TABLE_OFFSETS as TABLE_OFFSETS

#: Columns of the measures beside E_k: at k = 1, the unstylised share at the first δ of
#: :data:`neuralpaint.quality.UNSTYLISED_DELTAS`, both for the last frame.
QUALITY_COLUMNS = ["E_1_vs_source", "disoccluded_E_1", "unstylised_last", "sharpness_last", "style_drift_mean"]
COLUMNS = ["method", "seconds_per_frame", "E_1", "E_4", "E_16", "style_loss", "content_loss", *QUALITY_COLUMNS]
FORMAT = "neuralpaint-compare"
VERSION = 1


@dataclass
class MethodResult:
    name: str
    frames: list[np.ndarray] = field(repr=False)
    seconds: float  #: total seconds of the method (see the module docstring), not counting training
    iterations: int
    output: Optional[Path]
    work_dir: Optional[Path]
    options: dict[str, Any]
    records: list[FrameRecord] = field(default_factory=list, repr=False)
    train_seconds: Optional[float] = None
    warping: Optional[WarpingError] = None
    losses: Optional[FrameLosses] = None
    quality: Optional[QualityReport] = None

    @property
    def seconds_per_frame(self) -> float:
        return self.seconds / max(1, len(self.frames))

    def row(self) -> dict[str, Any]:
        e = self.warping.E if self.warping is not None else {}
        return {"method": self.name, "seconds_per_frame": self.seconds_per_frame,
                **{f"E_{k}": e.get(k) for k in TABLE_OFFSETS},
                "style_loss": self.losses.style if self.losses else None,
                "content_loss": self.losses.content if self.losses else None,
                **quality_row(self.quality)}

    def to_json(self, base: Path) -> dict[str, Any]:
        w = self.warping.to_json() if self.warping is not None else {"E": {}, "per_frame": {}}
        return {
            "seconds_per_frame": self.seconds_per_frame, "seconds": self.seconds,
            "iterations": self.iterations, "train_seconds": self.train_seconds,
            "E": w["E"], "per_frame": w["per_frame"],
            "style_loss": self.losses.style if self.losses else None,
            "content_loss": self.losses.content if self.losses else None,
            "output": _rel(self.output, base), "work_dir": _rel(self.work_dir, base),
            "options": self.options, "records": [dict(r.__dict__) for r in self.records],
            "quality": _quality_json(self.quality),
        }


def quality_row(q: Optional[QualityReport]) -> dict[str, Any]:
    """The :data:`QUALITY_COLUMNS` of one method (None where not measured)."""
    if q is None:
        return dict.fromkeys(QUALITY_COLUMNS)
    return {"E_1_vs_source": q.ratio(1), "disoccluded_E_1": q.disoccluded_E.get(1),
            "unstylised_last": q.unstylised_last(q.deltas[0]), "sharpness_last": q.sharpness_last,
            "style_drift_mean": q.style_drift_mean}


def _quality_json(q: Optional[QualityReport]) -> Optional[dict[str, Any]]:
    if q is None:
        return None
    data = q.to_json()
    for key in ("E", "per_frame", "frames", "source"):  # beside it in the method / at the top
        data.pop(key, None)
    return data


@dataclass
class CompareResult:
    out_dir: Path
    input: Path
    style: Path
    source_frames: list[np.ndarray] = field(repr=False)
    methods: dict[str, MethodResult]
    settings: dict[str, Any]
    eval_flow: str
    eval_offsets: tuple[int, ...]
    json_path: Optional[Path] = None
    report_path: Optional[Path] = None

    @property
    def frames(self) -> int:
        return len(self.source_frames)

    def source_json(self) -> Optional[dict[str, Any]]:
        """The source clip's own E_k (the same for every method)."""
        q = next((m.quality for m in self.methods.values() if m.quality is not None), None)
        return None if q is None else {k: v for k, v in q.source_warping.to_json().items() if k != "frames"}

    def rows(self) -> list[dict[str, Any]]:
        return [m.row() for m in self.methods.values()]

    def to_json(self) -> dict[str, Any]:
        h, w = self.source_frames[0].shape[:2]
        return {
            "format": FORMAT, "version": VERSION, "input": str(self.input), "style": str(self.style),
            "frames": self.frames, "size": [int(h), int(w)], "settings": self.settings,
            "eval": {"flow": self.eval_flow, "offsets": list(self.eval_offsets)},
            "columns": list(COLUMNS), "table": [_clean(r) for r in self.rows()],
            "source": self.source_json(),
            "methods": {n: m.to_json(self.out_dir) for n, m in self.methods.items()},
        }


def _rel(p: Optional[Path], base: Path) -> Optional[str]:
    if p is None:
        return None
    try:
        return Path(os.path.relpath(p, base)).as_posix() + ("/" if str(p).endswith("/") else "")
    except ValueError:  # another drive (Windows)
        return str(p)


def _clean(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    return obj


__all__ = ["COLUMNS", "QUALITY_COLUMNS", "FORMAT", "VERSION", "MethodResult", "CompareResult", "quality_row"]
