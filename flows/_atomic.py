"""Atomic writes for the flows package (standalone: it cannot use ``neuralpaint.atomic``).

A private copy of ``neuralpaint.atomic.atomic_open``, kept only because ``flows`` must stay
importable without ``neuralpaint`` (numpy + OpenCV, no torch). Keep the two in step; their rules
are the same: a temporary file ``.<name>.<random>.tmp`` in the destination's folder (which
``neuralpaint.atomic.is_temp_name`` recognises), flushed and fsynced before ``os.replace`` unless
``fsync=False`` (the flow cache: a file lost in a crash is only a cache miss), removed on any
failure. A reader never sees a half-written file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterator

from .errors import FlowError


@contextlib.contextmanager
def atomic_open(dest: str | os.PathLike, fsync: bool = True) -> Iterator[BinaryIO]:
    """Yield a binary file handle; on success its content replaces ``dest`` atomically.

    On any exception the temporary file is removed and ``dest`` is left untouched. ``OSError``
    (folder not writable, disk full) becomes a :class:`FlowError` naming the destination.
    """
    dest = Path(dest)
    folder = dest.parent if str(dest.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise FlowError(f"cannot write to folder {str(folder)!r}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            if fsync:  # the cache skips it: a file lost in a crash is only a cache miss
                os.fsync(fh.fileno())
        os.replace(tmp_name, dest)
    except OSError as exc:
        _unlink_quietly(tmp_name)
        raise FlowError(f"cannot write {str(dest)!r}: {exc.strerror or exc}") from None
    except BaseException:
        _unlink_quietly(tmp_name)
        raise


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
