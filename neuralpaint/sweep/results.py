"""``results.json`` and ``results.csv`` of a sweep (written atomically, after every run)."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any, Optional, Sequence

from .. import atomic
from .config import Sweep


def _num(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def metric_columns(records: Sequence[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """(loss part names, E_k offsets as strings) present in any record, in a stable order."""
    parts: list[str] = []
    offsets: list[str] = []
    for r in records:
        for k in (r.get("losses") or {}):
            if k not in parts:
                parts.append(k)
        for k, v in (r.get("E") or {}).items():
            if v is not None and k not in offsets:
                offsets.append(k)
    offsets.sort(key=lambda s: int(s) if s.isdigit() else 0)
    return parts, offsets


def metrics_of(record: dict[str, Any]) -> dict[str, Optional[float]]:
    """The plottable numbers of a record: seconds, iterations, loss, loss_<part>, E<k>."""
    out: dict[str, Optional[float]] = {
        "seconds": record.get("seconds"), "iterations": record.get("iterations"), "loss": record.get("loss")}
    for k, v in (record.get("losses") or {}).items():
        out[f"loss_{k}"] = v
    for k, v in (record.get("E") or {}).items():
        out[f"E{k}"] = v
    return {k: _num(v) for k, v in out.items()}


def _cell(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, (list, tuple)):
        return ",".join(str(x) for x in v)
    if isinstance(v, float):
        return f"{v:.6g}"
    return v


def write(out: Path, sweep: Sweep, records: Sequence[dict[str, Any]]) -> dict[str, Path]:
    parts, offsets = metric_columns(records)
    data = {"title": sweep.title, "parameters": sweep.parameters, "offsets": list(sweep.offsets),
            "runs": [dict(r, folder=f"runs/{r['id']}") for r in records]}
    jpath, cpath = out / "results.json", out / "results.csv"
    atomic.write_text(jpath, json.dumps(data, indent=1, default=str, allow_nan=False)
                      if _finite_json(data) else json.dumps(data, indent=1, default=str))
    header = (["id", "status", "input", "style"] + [p for p in sweep.parameters if p not in ("input", "style")]
              + ["seconds", "optimize_seconds", "iterations", "loss"] + [f"loss_{p}" for p in parts]
              + [f"E{k}" for k in offsets] + ["stop_reason", "output", "error"])
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in records:
        varied = r.get("varied") or {}
        row = [r.get("id"), r.get("status"), r.get("input"), r.get("style")]
        row += [varied.get(p) for p in sweep.parameters if p not in ("input", "style")]
        row += [r.get("seconds"), r.get("optimize_seconds"), r.get("iterations"), r.get("loss")]
        row += [(r.get("losses") or {}).get(p) for p in parts]
        row += [(r.get("E") or {}).get(k) for k in offsets]
        out_rel = f"runs/{r['id']}/{r['output']}" if r.get("output") else None
        row += [r.get("stop_reason"), out_rel, r.get("error")]
        w.writerow([_cell(v) for v in row])
    atomic.write_text(cpath, buf.getvalue())
    return {"json": jpath, "csv": cpath}


def _finite_json(data: Any) -> bool:
    try:
        json.dumps(data, default=str, allow_nan=False)
        return True
    except ValueError:
        return False


def load(out: Path) -> dict[str, Any]:
    return json.loads((Path(out) / "results.json").read_text(encoding="utf-8"))


__all__ = ["write", "load", "metrics_of", "metric_columns"]
