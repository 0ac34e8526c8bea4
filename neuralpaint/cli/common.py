"""Helpers shared by the CLI commands: option parsing, input checks, progress rendering."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Sequence

from .. import guard
from ..errors import InputError
from .progress import ProgressRenderer, err_console  # noqa: F401  (re-exported for the commands)


def existing_file(path: Path, what: str) -> Path:
    guard.must_exist(path, what)  # missing, a symbolic-link loop, ...
    if path.is_dir():
        raise InputError(f"{what} {str(path)!r} is a directory, expected a file")
    return path


def existing_path(path: Path, what: str) -> Path:
    guard.must_exist(path, what)
    return path


def check_output(output: Path, inputs: Sequence[Path], *, folder_ok: bool = True) -> Path:
    """Refuse to overwrite an input and a missing/unwritable output folder, before any work.

    Also refused up front (they would otherwise fail only when the result is written): an output
    whose folder is blocked by a regular file, and an output that is an existing folder when a
    file is wanted (``folder_ok=False``, or a ``.gif``/video suffix).
    """
    for p in inputs:
        try:
            if p.exists() and output.exists() and output.resolve() == p.resolve():
                raise InputError(f"output {str(output)!r} is the same file as the input; choose another -o")
        except OSError:
            pass
        if output.resolve() == p.resolve():
            raise InputError(f"output {str(output)!r} is the same file as the input; choose another -o")
    with guard.reading(*[(p, "input") for p in inputs]):
        guard.check_write(output)  # nor inside an input folder (frames, training data)
    if output.is_dir() and (not folder_ok or output.suffix.lower() in _FILE_ONLY_SUFFIXES):
        raise InputError(f"output {str(output)!r} is an existing folder; give a file name with -o")
    parent = output.parent if str(output.parent) else Path(".")
    probe = parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    import os
    if not probe.is_dir():
        raise InputError(f"cannot write output {str(output)!r}: {str(probe)!r} is a file, not a folder")
    if not os.access(probe, os.W_OK):
        raise InputError(f"cannot write output {str(output)!r}: folder {str(probe)!r} is not writable")
    return output


#: Output suffixes that always mean a file (a video output without them may be a folder of frames).
_FILE_ONLY_SUFFIXES = (".gif", ".mp4", ".mov", ".mkv", ".webm", ".avi")

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")


def check_image_suffix(output: Path) -> Path:
    if output.suffix.lower() not in IMAGE_SUFFIXES:
        raise InputError(f"cannot write an image as {str(output)!r}: use one of {', '.join(IMAGE_SUFFIXES)}")
    return output


def say_if_replacing(output: Path) -> None:
    """An existing output is replaced (a re-run redoes or resumes a render): say so, once, first.

    Not refused: re-running the same command is how a render resumes, and its output exists then.
    """
    if output.is_file() or (output.is_dir() and any(output.glob("frame_*.png"))):
        what = "its frame files" if output.is_dir() else "it"
        err_console.print(f"[yellow]notice:[/] {str(output)!r} exists; {what} will be replaced", soft_wrap=True)


def echo(message: str) -> None:
    """Plain result lines go to stdout (so they can be piped)."""
    print(message, file=sys.stdout, flush=True)


class _Completion:
    done = False


completion = _Completion()


def done(message: str) -> None:
    """The command's last result line: its work is complete and written. A Ctrl-C from here on
    loses nothing, so :func:`neuralpaint.cli.main` then exits 0 instead of 130."""
    completion.done = True
    echo(message)


def elapsed_since(t0: float) -> str:
    return f"{time.perf_counter() - t0:.1f}s"
