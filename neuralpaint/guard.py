"""The rules every command obeys, enforced here once instead of per command.

1. **Never write over an input.** While a command runs, what it reads (the clip or frame
   folder, style images, a fast model, a weights file) is registered with :func:`reading`.
   A destination that *is* one of those files, or lies inside one of those folders, is refused
   with :class:`~neuralpaint.errors.InputError`. Commands check every path they plan to write
   (the output, each ``frame_%05d.png`` of a folder output, the run folder) with
   :func:`check_writes` *after* reading their inputs and *before* creating anything;
   :func:`neuralpaint.atomic.atomic_path`, through which every file of ours is written, checks
   again at each write (a safety net for a path planned late).
2. **Inputs that are there.** :func:`must_exist` tells "does not exist" from "a symbolic-link
   loop" and other reasons a path cannot be looked at (``Path.exists`` says False for all).
3. **No silent garbage out.** :func:`check_result` refuses a result that holds NaN/inf or is one
   flat colour while its source is not (a diverged network gives exactly that: an all-black
   clip that would otherwise be written with exit status 0).

The registry is a :class:`contextvars.ContextVar`, so nested calls (a chunked render running its
chunks in this process) add to it and concurrent runs in other threads do not see each other's.
"""

from __future__ import annotations

import contextlib
import errno
import os
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional, Sequence, Union

import numpy as np

from .errors import InputError, NeuralPaintError

PathLike = Union[str, "os.PathLike[str]"]

#: (real path, what it is, is a folder) of every input of the running command(s)
_INPUTS: ContextVar[tuple[tuple[Path, str, bool], ...]] = ContextVar("neuralpaint_inputs", default=())


class BadResultError(NeuralPaintError):
    """A result that is non-finite or one flat colour: never written as if it were a picture."""


def _real(path: PathLike) -> Path:
    return Path(os.path.realpath(os.fspath(path)))


def must_exist(path: PathLike, what: str) -> os.stat_result:
    """``os.stat`` of an input, or InputError: missing, a symbolic-link loop, unreadable, ..."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise InputError(f"{what} {os.fspath(path)!r} is a broken symbolic link (its target "
                             f"{os.readlink(path)!r} does not exist)") from None
        raise InputError(f"{what} {os.fspath(path)!r} does not exist") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(f"{what} {os.fspath(path)!r} is a symbolic link loop (it points back "
                             f"to itself); give the real file") from None
        raise InputError(f"cannot access {what} {os.fspath(path)!r}: {exc.strerror or exc}") from None


@contextlib.contextmanager
def reading(*inputs: tuple[Optional[PathLike], str]) -> Iterator[None]:
    """Register ``(path, what)`` inputs for the duration of the block (``None`` paths skipped;
    paths that do not exist are skipped too: named weights like ``imagenet`` are no files)."""
    add = []
    for path, what in inputs:
        if path is None or not isinstance(path, (str, os.PathLike)):
            continue
        try:
            st = os.stat(path)
        except (OSError, ValueError):
            continue
        add.append((_real(path), what, os.path.isdir(path) if st else False))
    token = _INPUTS.set(_INPUTS.get() + tuple(add))
    try:
        yield
    finally:
        _INPUTS.reset(token)


def conflict(dest: PathLike) -> Optional[str]:
    """Why writing ``dest`` would touch an input of the running command, or None."""
    inputs = _INPUTS.get()
    if not inputs:
        return None
    d = _real(dest)
    for src, what, is_dir in inputs:
        if d == src or (os.path.exists(d) and _same_file(d, src)):
            return f"it is the {what} {str(src)!r}"
        if is_dir and src in d.parents:
            return f"it lies inside the {what} folder {str(src)!r}, which is read as input"
    return None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)  # a hard link of an input is that input
    except OSError:
        return False


def check_write(dest: PathLike, option: str = "-o") -> None:
    """InputError when ``dest`` is an input or inside an input folder of the running command."""
    why = conflict(dest)
    if why is not None:
        raise InputError(f"refusing to write {os.fspath(dest)!r}: {why}; choose another {option}")


def check_writes(dests: Iterable[tuple[PathLike, str]]) -> None:
    """:func:`check_write` for ``(path, option that chose it)`` pairs, before anything is created."""
    for dest, option in dests:
        check_write(dest, option)


def _hwc(f: Any) -> np.ndarray:
    """uint8 HxWx3 or a float tensor (1,3,H,W)/(3,H,W) -> an HxWxC array."""
    if hasattr(f, "detach"):
        a = f.detach().float().cpu().numpy()
        a = a[0] if a.ndim == 4 else a
        return a.transpose(1, 2, 0)
    return np.asarray(f)


def _flat(frames: Sequence[Any]) -> Optional[np.ndarray]:
    """The one colour every pixel of every frame has, or None."""
    ref = None
    for f in frames:
        a = _hwc(f)
        if a.size == 0:
            continue
        if ref is None:
            ref = a.reshape(-1, a.shape[-1])[0].copy()
        if not (a == ref).all():
            return None
    return ref


def check_finite(t: Any, what: str, advice: str) -> None:
    """BadResultError when the float tensor/array ``t`` holds NaN or inf."""
    a = t.detach().float().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        raise BadResultError(f"{what} holds NaN or infinite values; {advice}")


def check_result(frames: Sequence[Any], sources: Sequence[np.ndarray], what: str, advice: str) -> None:
    """Refuse a result (uint8 frames or float tensors) that holds NaN/inf, or is one flat colour
    over every frame while its source frames are not (a blank source may give a blank result).

    ``what`` names the result ("the output of fast model 'm.pt'"), ``advice`` the way out.
    """
    for f in frames:
        check_finite(f, what, advice)
    colour = _flat(frames)
    if colour is not None and _flat(sources) is None:
        value = ",".join(f"{float(v):g}" for v in colour)
        raise BadResultError(f"{what} is one flat colour (every pixel {value}) although the input is "
                             f"not; {advice}")


__all__ = ["BadResultError", "must_exist", "reading", "conflict", "check_write", "check_writes",
           "check_finite", "check_result"]
