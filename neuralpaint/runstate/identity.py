"""What a run is: the fingerprint of an input (:func:`file_identity`) and the resume check every
run folder shares (:func:`differences`: which parts of a stored identity differ from the current)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional

import numpy as np

from ..errors import InputError

_CHUNK = 1 << 20


def _partial_hash(h: "hashlib._Hash", path: Path, size: int, chunk: int) -> None:
    with open(path, "rb") as fh:
        h.update(fh.read(chunk))
        if size > chunk:
            fh.seek(max(chunk, size - chunk))
            h.update(fh.read(chunk))


def file_identity(path: "str | os.PathLike[str]") -> dict[str, Any]:
    """A fast fingerprint of a clip file (or frame folder) for resume checks.

    ``{"size": bytes, "mtime_ns": int, "sha256": hex}``; the hash covers the size and the first
    and last MiB (for a folder: each image's name, size and first/last 64 KiB), so it changes
    when the content does but costs milliseconds even for a large video.
    """
    path = Path(path)
    try:
        st = path.stat()
        h = hashlib.sha256()
        if path.is_dir():
            from ..media.folders import _folder_files  # the frames a folder clip is read from

            files = _folder_files(path)
            total = 0
            mtime = 0
            for f in files:
                fst = f.stat()
                total += fst.st_size
                mtime = max(mtime, fst.st_mtime_ns)
                h.update(f"{f.name}\0{fst.st_size}\0".encode("utf-8", "surrogateescape"))
                _partial_hash(h, f, fst.st_size, 64 * 1024)
            return {"size": total, "mtime_ns": mtime, "sha256": h.hexdigest()}
        h.update(str(st.st_size).encode() + b"\0")
        _partial_hash(h, path, st.st_size, _CHUNK)
    except InputError:
        raise
    except FileNotFoundError:
        raise InputError(f"cannot read {str(path)!r}: no such file or folder") from None
    except OSError as exc:
        raise InputError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": h.hexdigest()}


def differences(stored: Any, current: Mapping[str, Any], keys: Optional[Iterable[str]] = None,
                default: Optional[Callable[[Any], Any]] = None) -> list[str]:
    """The resume check every run folder shares: the keys whose values differ between the identity
    ``stored`` in a folder (read back from JSON; anything but a dict differs everywhere) and the
    ``current`` one, compared as JSON (tuples are lists; ``default`` serialises other objects,
    :func:`_json_default` unless given). In the order of ``keys`` (default: the sorted union)."""
    now = json.loads(json.dumps(dict(current), default=default or _json_default))
    old = stored if isinstance(stored, dict) else {}
    order = list(keys) if keys is not None else sorted(set(old) | set(now))
    return [k for k in order if not isinstance(stored, dict) or old.get(k) != now.get(k)]


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, tuple):
        return list(obj)
    raise TypeError(type(obj))
