"""One sweep run, as a job an executor can ship to a worker: :func:`execute`.

A job is a plain dict (picklable, JSON-able): ``{"run": Run.to_json(), "folder": str,
"offsets": [...], "flow_cache": str}``. :func:`execute` stylises the run's input into
``folder`` and writes its record ``run.json`` there (atomically) before returning it, so a
finished run survives even if the process that started the sweep dies. It raises on failure;
the caller records the error (see :mod:`neuralpaint.sweep.core`).

Folder of a run::

    run.json         the record (status, options, settings, seconds, losses, E_k, error)
    output.png       image runs; clips: output.gif (GIF input) or output.mp4
    thumb.png        the contact-sheet thumbnail (long side THUMB px; a clip's middle frame)
    work/            a clip's run folder (stylize_video resumes from it)
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

from .. import atomic
from .config import Run

RECORD = "run.json"
THUMB = 192
FORMAT = "neuralpaint-sweep-run"


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def read_record(folder: Path) -> Optional[dict[str, Any]]:
    p = Path(folder) / RECORD
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    return data


def write_record(folder: Path, record: dict[str, Any]) -> None:
    atomic.write_text(Path(folder) / RECORD, json.dumps(record, indent=1, default=_json_default))


def _json_default(obj: Any) -> Any:
    import numpy as np
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    if isinstance(obj, (Path,)):
        return str(obj)
    if isinstance(obj, tuple):
        return list(obj)
    raise TypeError(type(obj))


def base_record(run: Run) -> dict[str, Any]:
    return {
        "format": FORMAT, "id": run.id, "status": "pending", "kind": run.kind,
        "input": run.input_label, "style": run.style_label, "varied": run.varied,
        "options": run.options, "settings": None, "seconds": None, "optimize_seconds": None,
        "iterations": None, "loss": None, "losses": {}, "stop_reason": None, "E": {},
        "frames": None, "output": None, "thumbnail": None, "error": None,
        "started": None, "finished": None, "host": os.uname().nodename if hasattr(os, "uname") else "",
    }


def _thumbnail(image: Any, dest: Path) -> None:
    from .. import media
    if max(image.shape[:2]) > THUMB:
        image = media.resize_long_side(image, THUMB)
    media.save_image(dest, image)


def _resolved_settings(run: Run) -> dict[str, Any]:
    from .. import settings
    from .options import IMAGE_CLASSES, VIDEO_CLASSES
    classes = VIDEO_CLASSES if run.kind == "video" else IMAGE_CLASSES
    return settings.as_dict(*settings.split(run.options, *classes))


def execute(job: dict[str, Any]) -> dict[str, Any]:
    """Stylise one run into its folder; returns (and writes) its record. Raises on failure."""
    run = Run.from_json(job["run"])
    folder = Path(job["folder"])
    folder.mkdir(parents=True, exist_ok=True)
    record = base_record(run)
    record["started"] = now()
    record["settings"] = _resolved_settings(run)
    t0 = time.perf_counter()
    if run.kind == "image":
        _image(run, folder, record)
    else:
        _video(run, folder, record, job)
    record["seconds"] = time.perf_counter() - t0
    record["finished"] = now()
    record["status"] = "done"
    write_record(folder, record)
    return record


def _notices(record: dict[str, Any]) -> Any:
    """A progress callback that keeps the core's notices (e.g. the random-weights one)."""
    from ..events import Notice
    record["notices"] = []

    def callback(event: Any) -> None:
        if isinstance(event, Notice) and event.message not in record["notices"]:
            record["notices"].append(event.message)
    return callback


def _image(run: Run, folder: Path, record: dict[str, Any]) -> None:
    from .. import media
    from ..api import stylize_image_full

    res = stylize_image_full(run.input, run.styles, callback=_notices(record), **run.options)
    out = folder / "output.png"
    media.save_image(out, res.image)
    _thumbnail(res.image, folder / "thumb.png")
    r = res.result
    record.update(output=out.name, thumbnail="thumb.png", iterations=r.iterations, loss=r.loss,
                  losses=dict(r.losses), stop_reason=r.stop_reason, optimize_seconds=r.seconds)


def _video(run: Run, folder: Path, record: dict[str, Any], job: dict[str, Any]) -> None:
    from .. import media
    from ..video import stylize_video

    suffix = ".gif" if Path(run.input).suffix.lower() == ".gif" else ".mp4"
    out = folder / f"output{suffix}"
    res = stylize_video(run.input, run.styles, out, work_dir=folder / "work", callback=_notices(record),
                        **run.options)
    # The warping error is measured on the lossless PNG frames of the run folder (what the
    # output is encoded from), not on the palette/H.264-coded output file.
    frames = [media.load_image(res.work_dir / "frames" / f"frame_{t + 1:05d}.png") for t in range(res.frames)]
    _thumbnail(frames[len(frames) // 2], folder / "thumb.png")
    recs = res.records
    losses: dict[str, float] = {}
    for rec in recs:
        for k, v in (rec.losses or {}).items():
            losses[k] = losses.get(k, 0.0) + float(v) / len(recs)
    record.update(
        output=out.name, thumbnail="thumb.png", frames=res.frames,
        iterations=sum(r.iterations for r in recs),
        loss=sum(float(r.loss or 0.0) for r in recs) / len(recs), losses=losses,
        stop_reason=",".join(sorted({r.stop_reason or "" for r in recs})),
        optimize_seconds=sum(r.seconds for r in recs))
    record["E"] = warping_error(run, frames, job)


def warping_error(run: Run, frames: list[Any], job: dict[str, Any]) -> dict[str, Optional[float]]:
    """E_k of the stylised frames against the source (estimated flows), when metrics is there."""
    try:
        from .. import metrics
    except ImportError:  # pragma: no cover - metrics is another developer's module
        return {}
    from .. import media
    size = run.options.get("size")
    if size is None:
        from ..settings import ImageSettings
        size = ImageSettings().size
    src = media.read_clip(run.input, size=size, start=run.options.get("start"), end=run.options.get("end"),
                          upscale=bool(run.options.get("upscale", False)))
    src_frames = metrics.resize_frames(src.frames, frames[0].shape[:2])
    flow = run.options.get("flow", "dis")
    cache = job.get("flow_cache")
    sf = metrics.SourceFlows.estimated(src_frames, flow, cache_dir=cache)
    we = metrics.warping_error(frames, sf, tuple(job.get("offsets") or metrics.OFFSETS))
    return {str(k): v for k, v in we.E.items()}


__all__ = ["execute", "read_record", "write_record", "base_record", "RECORD", "FORMAT"]
