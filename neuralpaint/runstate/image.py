"""The run folder of one image (``neuralpaint image``): what Ctrl-C saved, to continue from."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Optional

import numpy as np

from .. import atomic
from .frames import MANIFEST, VERSION
from .identity import _is_int, _json_default, differences

IMAGE_FORMAT = "neuralpaint-image-run"


class ImageRun:
    """The run folder of one image (``image``): what Ctrl-C saved, to continue from.

    Layout: ``manifest.json`` (identity, scale and iterations done), ``state.npy`` (the float
    iterate, HxWx3 float32, in the optimised space) and ``current.png`` (the result so far, also
    what ``--save-every`` writes). A folder whose identity differs (another content, style or
    pixel-changing setting) is not continued from.
    """

    def __init__(self, path: Path, identity: dict[str, Any]):
        self.path = Path(path)
        self.identity = identity

    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST

    @property
    def state_path(self) -> Path:
        return self.path / "state.npy"

    @property
    def current_path(self) -> Path:
        return self.path / "current.png"

    def load(self) -> Optional[tuple[int, int, np.ndarray]]:
        """(scale, iterations, float HxWx3) saved by an interrupted run with this identity, else None."""
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("format") != IMAGE_FORMAT:
                return None
            if differences(data.get("identity"), self.identity):
                return None
            scale, its = data.get("scale"), data.get("iterations")
            if not (_is_int(scale) and _is_int(its)) or scale < 0 or its < 0:
                return None
            arr = np.load(self.state_path, allow_pickle=False)
        except (OSError, ValueError, EOFError, UnicodeDecodeError):
            return None
        if arr.ndim != 3 or arr.shape[2] != 3 or not np.isfinite(arr).all():
            return None
        return int(scale), int(its), arr.astype(np.float32, copy=False)

    def save(self, scale: int, iterations: int, raw: np.ndarray, image: np.ndarray) -> None:
        """Write the state, the current image and the manifest (in that order, each atomic)."""
        from .. import media

        self.path.mkdir(parents=True, exist_ok=True)
        with atomic.atomic_path(self.state_path) as tmp:
            with open(tmp, "wb") as fh:
                np.save(fh, np.ascontiguousarray(raw, dtype=np.float32))
        media.save_image(self.current_path, image)
        data = {"format": IMAGE_FORMAT, "version": VERSION, "identity": self.identity,
                "scale": int(scale), "iterations": int(iterations), "complete": False}
        atomic.write_text(self.manifest_path, json.dumps(data, indent=1, default=_json_default))

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
