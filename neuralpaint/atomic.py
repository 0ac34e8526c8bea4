"""Atomic file writes: a temporary file in the same folder, then ``os.replace``.

An interrupted run therefore never leaves a half-written frame, manifest or video behind: the
destination either holds its old content or the complete new one.

The one helper of the project (``flows/_atomic.py`` keeps a private copy of :func:`atomic_open`
only because ``flows`` must stay importable without ``neuralpaint``). The fsync rule, the same in
both: a file written through :func:`atomic_open` (and so :func:`write_bytes` / :func:`write_text`)
is flushed and fsynced before the rename unless ``fsync=False`` (a cache, where a file lost in a
crash is only a miss); :func:`atomic_path` hands a path to a library's writer (Pillow, PyAV,
``torch.save``) and leaves syncing to it.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterator

from . import guard
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
    guard.check_write(dest)  # never over an input of the running command (the last line of defence)
    folder = dest.parent if str(dest.parent) else Path(".")
    sfx = suffix if suffix is not None else dest.suffix
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=f".tmp{sfx}", dir=folder)
        os.close(fd)
    except OSError as exc:
        raise InputError(f"cannot write to {str(folder)!r}: {_folder_reason(folder, exc)}") from None
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


def is_temp_name(name: str) -> bool:
    """True for the name of a temporary file that :func:`atomic_path` (or ``flows``' own atomic
    writer) makes: ``.<dest name>.<8 random characters>.tmp[<suffix>]``."""
    return _TEMP_RE.match(name) is not None


def remove_stale_temps(dest: str | os.PathLike) -> list[Path]:
    """Remove temporary files of ``dest`` left beside it by a killed process (``kill -9``, power
    loss: no ``finally`` ran). Returns what was removed. Only names of our exact pattern for this
    destination are touched. Call it before a write, not while another process writes ``dest``."""
    dest = Path(dest)
    folder = dest.parent if str(dest.parent) else Path(".")
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    prefix = f".{dest.name}."
    for entry in entries:
        if entry.name.startswith(prefix) and is_temp_name(entry.name):
            try:
                if entry.is_file(follow_symlinks=False):
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
            except OSError:
                pass
    return removed


@contextlib.contextmanager
def atomic_open(dest: str | os.PathLike, fsync: bool = True) -> Iterator[BinaryIO]:
    """Yield a binary file handle; on success its content replaces ``dest`` atomically.

    Flushed, and fsynced unless ``fsync=False``, before the rename; otherwise as :func:`atomic_path`.
    """
    with atomic_path(dest) as tmp:
        with open(tmp, "wb") as fh:
            yield fh
            fh.flush()
            if fsync:
                os.fsync(fh.fileno())


def write_bytes(dest: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``dest`` atomically (flushed and fsynced before the rename)."""
    with atomic_open(dest) as fh:
        fh.write(data)


def write_text(dest: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``dest`` atomically."""
    write_bytes(dest, text.encode("utf-8"))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_TEMP_RE = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp(\.[^.]*)?$")

_UMASK = _umask()  # read once: os.umask() is process-wide and not thread-safe to probe later


def _folder_reason(folder: Path, exc: OSError) -> str:
    """Why a folder cannot be made or written: name a regular file that stands in its way."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        return f"{str(probe)!r} is a file, not a folder"
    return exc.strerror or str(exc)


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass
