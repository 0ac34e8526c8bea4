"""Helpers shared by the CLI commands: option parsing, input checks, progress rendering."""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Any, Optional, Sequence

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)

from .. import guard
from ..errors import InputError
from ..events import FrameDone, FrameStarted, IterationEvent, Notice, ScaleDone, StageEvent

err_console = Console(stderr=True, highlight=False)


def parse_int_list(text: Optional[str], option: str) -> Optional[tuple[int, ...]]:
    """``"1,2,4"`` -> (1, 2, 4); errors name the option and repeat the text."""
    if text is None:
        return None
    parts = [p.strip() for p in str(text).split(",") if p.strip()]
    if not parts:
        raise InputError(f"{option} needs comma-separated integers, got {text!r}")
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        raise InputError(f"{option} needs comma-separated integers, got {text!r}") from None


def parse_offsets(text: Optional[str], option: str = "--offsets") -> Optional[tuple[int, ...]]:
    values = parse_int_list(text, option)
    if values is None:
        return None
    for v in values:
        if v < 1:
            raise InputError(f"{option} must be positive frame offsets, got {v} in {text!r}")
    if len(set(values)) != len(values):
        raise InputError(f"{option} must not repeat an offset, got {text!r}")
    return values


def parse_float_list(text: Optional[str], option: str) -> Optional[tuple[float, ...]]:
    if text is None:
        return None
    parts = [p.strip() for p in str(text).split(",") if p.strip()]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        raise InputError(f"{option} needs comma-separated numbers, got {text!r}") from None
    if not values or any(not math.isfinite(v) or v < 0 for v in values):
        raise InputError(f"{option} needs non-negative finite numbers, got {text!r}")
    return values


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


class ProgressRenderer:
    """Turns core events into rich progress bars on stderr (nothing when quiet)."""

    def __init__(self, quiet: bool = False, label: str = "painting"):
        self.quiet = quiet
        self.label = label
        self.progress: Optional[Progress] = None
        self.iter_task: Any = None
        self.frame_task: Any = None
        self.stage_tasks: dict[str, Any] = {}
        self._notices: set[str] = set()

    def __enter__(self) -> "ProgressRenderer":
        if not self.quiet:
            self.progress = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                console=err_console, transient=False, refresh_per_second=8)
            self.progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.progress is not None:
            self.progress.__exit__(*exc)

    def notice(self, message: str) -> None:
        if message not in self._notices:
            self._notices.add(message)
            err_console.print(f"[yellow]notice:[/] {message}", soft_wrap=True)

    def __call__(self, event: Any) -> None:
        if isinstance(event, Notice):
            self.notice(event.message)
            return
        p = self.progress
        if p is None:
            return
        if isinstance(event, IterationEvent):
            desc = self.label if event.scales == 1 else f"{self.label} {event.scale + 1}/{event.scales}"
            info = f"loss {event.loss:.4g}"
            if self.iter_task is None:
                self.iter_task = p.add_task(desc, total=event.max_iters, info=info)
            p.update(self.iter_task, description=desc, total=event.max_iters, completed=event.iteration, info=info)
        elif isinstance(event, ScaleDone):
            if self.iter_task is not None:
                p.update(self.iter_task, completed=event.iterations, total=max(event.iterations, 1),
                         info=f"loss {event.loss:.4g} ({event.stop_reason})")
        elif isinstance(event, FrameStarted):
            desc = "frames" if event.passes == 1 else f"pass {event.pass_index + 1}/{event.passes}"
            if self.frame_task is None:
                self.frame_task = p.add_task(desc, total=event.frames, info="")
            p.update(self.frame_task, description=desc, total=event.frames)
            if self.iter_task is not None:
                p.reset(self.iter_task, total=event.max_iters, info="")
        elif isinstance(event, FrameDone):
            if self.frame_task is None:
                self.frame_task = p.add_task("frames", total=event.frames, info="")
            state = "resumed" if event.resumed else f"{event.iterations} it, {event.stop_reason}"
            p.update(self.frame_task, completed=event.frame + 1, info=f"frame {event.frame + 1}: {state}")
        elif isinstance(event, StageEvent):
            task = self.stage_tasks.get(event.stage)
            if task is None:
                task = self.stage_tasks[event.stage] = p.add_task(event.stage, total=event.total, info="")
            p.update(task, completed=event.done, total=event.total, info=event.message)


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
