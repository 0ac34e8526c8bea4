"""The run folder of a video render: manifest, stylised frames, float state, flow cache.

Layout of ``WORK_DIR``::

    manifest.json        settings, input identity, per-frame records (atomic rewrites); where the
                         source clip and the style images were (``source``, ``style_paths``: for
                         ``neuralpaint report``, not part of the identity)
    frames/frame_00001.png   the stylised frames (8-bit, what the output is encoded from)
    state/raw_00001.npy      the float result of each frame (the optimised variable, float32):
                             the next frame is initialised from it, never from the 8-bit PNG
    flows/               flow cache (see flows.FlowCache)

A frame counts as done for pass p when its record says ``passes_done > p`` *and* both its
files exist. Every file is written atomically, so a run killed at any moment resumes cleanly:
re-running the same command skips finished frames and gives the same result.

A run is identified by its input's fingerprint (:func:`.identity.file_identity`) and the settings
that change pixels; :func:`.identity.differences` names what changed.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np

from .. import atomic
from ..errors import InputError, ResumeError
from .identity import _is_int, _is_num, _json_default, differences

MANIFEST = "manifest.json"
FORMAT = "neuralpaint-run"
VERSION = 1


def frame_name(index: int) -> str:
    return f"frame_{index + 1:05d}.png"


@dataclass
class FrameRecord:
    passes_done: int = 0
    iterations: int = 0
    loss: Optional[float] = None
    stop_reason: Optional[str] = None
    seconds: float = 0.0
    flow_seconds: float = 0.0
    io_seconds: float = 0.0
    losses: dict[str, float] = field(default_factory=dict)
    history: list[list[float]] = field(default_factory=list)
    #: [iteration, the picture's mean change over the window before it] (picture rule; may be empty)
    changes: list[list[float]] = field(default_factory=list)
    iterations_per_pass: list[int] = field(default_factory=list)


class RunFolder:
    """Owns one render's work directory. ``identity`` decides whether it may be resumed."""

    def __init__(self, path: Path, identity: dict[str, Any], n_frames: int, source: Optional[str] = None,
                 style_paths: Optional[list[Optional[str]]] = None):
        self.path = Path(path)
        self.identity = identity
        #: where the input was (for reports); not part of the identity, so a moved clip resumes
        self.source = source
        #: where the style images were (for the report's style loss; None for an in-memory style),
        #: in the order of ``identity["styles"]``; not part of the identity either
        self.style_paths = style_paths
        self.n_frames = n_frames
        self.records: list[FrameRecord] = [FrameRecord() for _ in range(n_frames)]
        self.complete = False

    # -- locations -------------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST

    @property
    def frames_dir(self) -> Path:
        return self.path / "frames"

    @property
    def state_dir(self) -> Path:
        return self.path / "state"

    @property
    def flows_dir(self) -> Path:
        return self.path / "flows"

    def frame_path(self, t: int) -> Path:
        return self.frames_dir / frame_name(t)

    def state_path(self, t: int) -> Path:
        return self.state_dir / f"raw_{t + 1:05d}.npy"

    # -- open / resume ---------------------------------------------------------------------
    def open(self, restart: bool = False) -> int:
        """Create or resume the folder; returns the number of frames already done (pass 0).

        A folder made for another input or with other settings raises :class:`ResumeError`
        unless ``restart``: then its frames, state, flows and current image are removed (the
        flows of an aborted run must not outlive it; the command line asks first).
        """
        if self.path.exists() and not self.path.is_dir():
            raise InputError(f"work dir {str(self.path)!r} exists and is not a folder")
        manifest = self._read_manifest()
        if manifest is not None and not restart:
            self._check_same(manifest)
            self._load_records(manifest)
        elif manifest is not None and restart:
            for sub in (self.frames_dir, self.state_dir, self.flows_dir):
                shutil.rmtree(sub, ignore_errors=True)
            (self.path / "current.png").unlink(missing_ok=True)
        elif manifest is None and self.path.exists() and any(self.path.iterdir()) and not restart:
            names = {p.name for p in self.path.iterdir()}
            if not names <= {"frames", "state", "flows"}:
                raise ResumeError(f"work dir {str(self.path)!r} is not empty and has no {MANIFEST}; "
                                  f"choose another --work-dir")
        try:
            for d in (self.path, self.frames_dir, self.state_dir, self.flows_dir):
                d.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot create work dir {str(self.path)!r}: {exc.strerror or exc}") from None
        self._remove_stale_temps()
        self.save()
        return sum(1 for t in range(self.n_frames) if self.is_done(t, 0))

    def _remove_stale_temps(self) -> None:
        """Temporary files of a run killed mid-write (``kill -9``: no cleanup ran). Harmless to a
        resume (only complete files are ever renamed into place) but they would pile up."""
        for d in (self.path, self.frames_dir, self.state_dir, self.flows_dir):
            try:
                entries = list(d.iterdir())
            except OSError:
                continue
            for f in entries:
                if atomic.is_temp_name(f.name):
                    try:
                        if f.is_file():
                            f.unlink()
                    except OSError:
                        pass

    def _read_manifest(self) -> Optional[dict[str, Any]]:
        p = self.manifest_path
        if not p.exists():
            return None
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ResumeError(f"manifest {str(p)!r} is unreadable ({exc}); use --restart or another "
                              f"--work-dir") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ResumeError(f"{str(p)!r} is not a neuralpaint run manifest; use --restart or another --work-dir")
        if data.get("version") != VERSION:
            raise ResumeError(f"manifest {str(p)!r} has version {data.get('version')!r}, this neuralpaint "
                              f"writes {VERSION}; use --restart")
        return data

    def _check_same(self, manifest: dict[str, Any]) -> None:
        old = manifest.get("identity", {})
        if not isinstance(old, dict) or not isinstance(old.get("settings", {}), dict):
            raise ResumeError(f"manifest {str(self.manifest_path)!r} is damaged; use --restart")
        if old.get("input") != self.identity.get("input"):
            where = old["input"].get("path", "?") if isinstance(old.get("input"), dict) else "?"
            raise ResumeError(f"work dir {str(self.path)!r} belongs to another clip "
                              f"({where!r}); use another --work-dir or --restart")
        changed = (differences(old.get("settings", {}), self.identity.get("settings", {}))
                   + differences(old, self.identity, keys=("styles", "frames")))
        if changed:
            k = changed[0]
            before = old.get("settings", {}).get(k, old.get(k))
            after = self.identity.get("settings", {}).get(k, self.identity.get(k))
            raise ResumeError(
                f"work dir {str(self.path)!r} was rendered with other settings ({k}: {before!r} -> {after!r}"
                f"{f' and {len(changed) - 1} more' if len(changed) > 1 else ''}); re-run with --restart to "
                f"start over, or use another --work-dir")

    def _load_records(self, manifest: dict[str, Any]) -> None:
        frames = manifest.get("frames", [])
        if not isinstance(frames, list):
            return
        known = {f.name for f in FrameRecord.__dataclass_fields__.values()}  # type: ignore[attr-defined]
        for t, rec in enumerate(frames[: self.n_frames]):
            if isinstance(rec, dict):
                try:
                    record = FrameRecord(**{k: v for k, v in rec.items() if k in known})
                except TypeError:
                    record = FrameRecord()
                # A record with values of the wrong type (a damaged or hand-edited manifest) would
                # break the frame loop's arithmetic later: that frame is simply rendered again.
                self.records[t] = record if _well_typed(record) else FrameRecord()

    # -- state -----------------------------------------------------------------------------
    def is_done(self, t: int, pass_index: int) -> bool:
        return (self.records[t].passes_done > pass_index and self.frame_path(t).exists()
                and self.state_path(t).exists())

    def save(self) -> None:
        data = {
            "format": FORMAT, "version": VERSION, "source": self.source, "style_paths": self.style_paths,
            "identity": self.identity,
            "complete": self.complete,
            "frames": [r.__dict__ for r in self.records],
        }
        atomic.write_text(self.manifest_path, json.dumps(data, indent=1, default=_json_default))

    def write_state(self, t: int, raw: np.ndarray) -> None:
        with atomic.atomic_path(self.state_path(t)) as tmp:
            with open(tmp, "wb") as fh:
                np.save(fh, np.ascontiguousarray(raw, dtype=np.float32))

    def _way_out(self, t: int) -> str:
        return (f"delete {str(self.frame_path(t))!r} to render that frame again, or re-run with --restart "
                f"to start over")

    def _frame_hw(self) -> Optional[tuple[int, int]]:
        frames = self.identity.get("frames")
        if isinstance(frames, (list, tuple)) and len(frames) == 3:
            return int(frames[1]), int(frames[2])
        return None

    def read_state(self, t: int) -> np.ndarray:
        """Frame t's float result, validated: a damaged, wrong-shape or non-finite file is a
        :class:`ResumeError` naming it and the way out (it must never reach the optimiser)."""
        p = self.state_path(t)
        try:
            arr = np.load(p, allow_pickle=False)
        except (OSError, ValueError, EOFError) as exc:
            raise ResumeError(f"float state {str(p)!r} is damaged ({exc}); {self._way_out(t)}") from None
        hw = self._frame_hw()
        if not isinstance(arr, np.ndarray) or arr.dtype.kind != "f" or (
                hw is not None and arr.shape != (*hw, 3)) or arr.ndim != 3:
            want = f"({hw[0]}, {hw[1]}, 3)" if hw is not None else "(H, W, 3)"
            kind = "" if arr.dtype.kind == "f" else f" of {arr.dtype}"
            raise ResumeError(f"float state {str(p)!r} has shape {tuple(arr.shape)}{kind}, the run's frames "
                              f"need {want} floats; {self._way_out(t)}")
        if not np.isfinite(arr).all():
            raise ResumeError(f"float state {str(p)!r} holds NaN or infinite values; {self._way_out(t)}")
        return arr.astype(np.float32, copy=False)

    def read_frame(self, t: int, shape: tuple[int, ...]) -> np.ndarray:
        """Frame t's finished PNG, validated against the run's frame ``shape`` (H, W, 3)."""
        from .. import media  # media imports torch; the run folder itself does not need it

        p = self.frame_path(t)
        try:
            img = media.load_image(p)
        except InputError as exc:
            raise ResumeError(f"{exc}; the run folder is damaged: {self._way_out(t)}") from None
        if img.shape != tuple(shape):
            raise ResumeError(f"frame {str(p)!r} is {img.shape[1]}x{img.shape[0]}, the run's frames are "
                              f"{shape[1]}x{shape[0]}: the run folder is damaged; {self._way_out(t)}")
        return img


def finished_frames(path: Path) -> int:
    """How many frames the run folder ``path`` holds as finished (0 when it has no readable manifest)."""
    try:
        data = json.loads((Path(path) / MANIFEST).read_text(encoding="utf-8"))
        frames = data.get("frames", []) if isinstance(data, dict) else []
        return sum(1 for t, rec in enumerate(frames) if isinstance(rec, dict)
                   and _is_int(rec.get("passes_done")) and rec["passes_done"] > 0
                   and (Path(path) / "frames" / frame_name(t)).exists())
    except (OSError, ValueError, UnicodeDecodeError):
        return 0


def _well_typed(r: FrameRecord) -> bool:
    """Every field of a record read from JSON has the type the frame loop expects."""
    return (_is_int(r.passes_done) and r.passes_done >= 0 and _is_int(r.iterations)
            and (r.loss is None or _is_num(r.loss)) and (r.stop_reason is None or isinstance(r.stop_reason, str))
            and _is_num(r.seconds) and _is_num(r.flow_seconds) and _is_num(r.io_seconds)
            and isinstance(r.losses, dict) and all(isinstance(k, str) and _is_num(v) for k, v in r.losses.items())
            and isinstance(r.history, list)
            and all(isinstance(h, list) and len(h) == 2 and all(_is_num(x) for x in h) for h in r.history)
            and isinstance(r.changes, list)
            and all(isinstance(h, list) and len(h) == 2 and all(_is_num(x) for x in h) for h in r.changes)
            and isinstance(r.iterations_per_pass, list) and all(_is_int(i) for i in r.iterations_per_pass))
