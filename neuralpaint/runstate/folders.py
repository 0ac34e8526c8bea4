"""Finding run folders and their sizes (``neuralpaint clean``, the summary line)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

from .frames import FORMAT, MANIFEST
from .image import IMAGE_FORMAT

def folder_size(path: Path) -> int:
    """Bytes of the files under ``path`` (0 when it is gone)."""
    total = 0
    for p in Path(path).rglob("*"):
        try:
            if p.is_file() and not p.is_symlink():
                total += p.stat().st_size
        except OSError:
            pass
    return total


def format_bytes(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000  # type: ignore[assignment]
    return f"{n:.1f} GB"


#: Run folders are named ``.NAME.neuralpaint`` beside their output.
RUN_SUFFIX = ".neuralpaint"


def find_run_folders(root: Path) -> list[tuple[Path, bool]]:
    """Run folders under ``root`` (or ``root`` itself): (path, finished), sorted by path.

    A run folder has a neuralpaint manifest; ``finished`` = a video run whose output was written
    (``complete``). Folders without a readable manifest are not run folders and are never listed.
    """
    def status(p: Path) -> Optional[bool]:
        try:
            data = json.loads((p / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            return None
        if not isinstance(data, dict) or data.get("format") not in (FORMAT, IMAGE_FORMAT):
            return None
        return data.get("complete") is True

    root = Path(root)
    found: list[tuple[Path, bool]] = []
    st = status(root)
    if st is not None:
        return [(root, st)]
    for folder, dirs, _files in os.walk(root):
        keep = []
        for name in sorted(dirs):
            p = Path(folder) / name
            st = status(p)
            if st is not None:
                found.append((p, st))  # a run folder: listed, not descended into
            elif not name.startswith("."):  # other hidden folders (.git, .venv) are not searched
                keep.append(name)
        dirs[:] = keep
    return sorted(found)
