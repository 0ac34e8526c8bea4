"""Atomic file writes: a temporary file in the same folder, then ``os.replace``.

An interrupted run therefore never leaves a half-written frame, manifest or video behind: the
destination either holds its old content or the complete new one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

from .errors import InputError


@contextlib.contextmanager
def atomic_path(dest: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``dest``; on success it replaces ``dest`` atomically.

    The temporary name keeps ``dest``'s suffix (or ``suffix``) so that writers which choose
    their format from the file name (Pillow, PyAV) still do. On any exception the temporary
    file is removed and ``dest`` is left untouched. ``OSError`` while writing (disk full,
    permission denied) becomes an :class:`InputError` naming the destination.
    """
    dest = Path(dest)
    folder = dest.parent if str(dest.parent) else Path(".")
    sfx = suffix if suffix is not None else dest.suffix
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=f".tmp{sfx}", dir=folder)
        os.close(fd)
    except OSError as exc:
        raise InputError(f"cannot write to {str(folder)!r}: {exc.strerror or exc}") from None
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp makes the file 0600; give it the permissions a plain open() would have.
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, dest)
    except OSError as exc:
        _unlink_quietly(tmp)
        raise InputError(f"cannot write {str(dest)!r}: {exc.strerror or exc}") from None
    except BaseException:
        _unlink_quietly(tmp)
        raise


def write_bytes(dest: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``dest`` atomically (flushed and fsynced before the rename)."""
    with atomic_path(dest) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())


def write_text(dest: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``dest`` atomically."""
    write_bytes(dest, text.encode("utf-8"))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _umask()  # read once: os.umask() is process-wide and not thread-safe to probe later


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass
