"""Frame folders: a folder of still images read in natural order (``frame_2`` before
``frame_10``), written as ``frame_%05d.png`` numbered by source frame."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from ..errors import InputError
from .clip import Clip, ClipInfo, Encoding, Progress
from .images import IMAGE_SUFFIXES, _open_pil, _resize_to, _upright_size, load_image, save_image
from .limits import _beyond, _pillow_guard, _q, _reason, _size_for_long_side


def _natural_key(name: str) -> tuple:
    parts = re.split(r"(\d+)", name)
    return tuple((int(p) if i % 2 else p.lower()) for i, p in enumerate(parts)) + (name,)


def _folder_files(path: Path) -> list[Path]:
    try:
        entries = list(os.scandir(path))
    except OSError as exc:
        raise InputError(f"cannot read frame folder {_q(path)}: {exc.strerror or exc}") from None
    files = [Path(en.path) for en in entries
             if not en.name.startswith(".") and Path(en.name).suffix.lower() in IMAGE_SUFFIXES
             and en.is_file()]
    files.sort(key=lambda p: _natural_key(p.name))
    if not files:
        raise InputError(f"cannot read frame folder {_q(path)}: it holds no images "
                         f"(.png, .jpg, .webp, ... files not starting with a dot)")
    return files


def read_folder(path: Path, size: Optional[int], s: int, e: Optional[int], max_pixels: int) -> Clip:
    files = _folder_files(path)
    if s > len(files):
        raise _beyond(path, s, len(files))
    chosen = files[s - 1: e]
    frames: list[np.ndarray] = []
    first_shape: Optional[tuple[int, int]] = None
    target: Optional[tuple[int, int]] = None
    for f in chosen:
        arr = load_image(f, max_pixels=max_pixels)
        hw = arr.shape[:2]
        if first_shape is None:
            first_shape = hw
            target = _size_for_long_side(*hw, size) if size is not None else hw
        elif hw != first_shape:
            raise InputError(
                f"frame folder {_q(path)}: {f.name!r} is {hw[1]}x{hw[0]} but {chosen[0].name!r} "
                f"is {first_shape[1]}x{first_shape[0]}; all frames must have the same size")
        assert target is not None
        frames.append(_resize_to(arr, *target))
    assert first_shape is not None
    return Clip(frames=frames, kind="folder", source=path, names=[f.name for f in chosen],
                size_source=first_shape, first=s, source_frames=len(files))


def probe_folder(path: Path, max_pixels: int) -> ClipInfo:
    files = _folder_files(path)
    with _pillow_guard():
        im = _open_pil(files[0], "image", max_pixels)
        try:
            with im:
                w, h = _upright_size(im)
        except InputError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise InputError(f"cannot read image {_q(files[0])}: {_reason(exc)}") from None
    return ClipInfo(kind="folder", frame_count=len(files), size=(h, w),
                    names=[f.name for f in files])


def folder_frame_name(index: int, first: int = 1) -> str:
    """Name of the 0-based frame ``index`` in a folder output numbered from ``first`` (the source
    frame number of the first frame written: ``--start 3`` writes frame_00003.png onwards)."""
    return f"frame_{index + first:05d}.png"


def planned_folder(folder: Path, n: int, first: int = 1) -> list[Path]:
    """The folder and each of its ``frame_%05d.png`` that :func:`write_folder` creates."""
    return [folder] + [folder / folder_frame_name(i, first) for i in range(n)]


def write_folder(path: Path, frames: Sequence[np.ndarray], clip: Optional[Clip], enc: Encoding,
                 progress: Progress) -> None:
    # numbered by source frame: --start 3 --end 7 gives frame_00003..frame_00007, beside the source's
    first = clip.first if clip is not None else 1
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create folder {_q(path)}: {exc.strerror or exc}") from None
    total = len(frames)
    for i, f in enumerate(frames):
        save_image(path / folder_frame_name(i, first), f)
        if progress is not None:
            progress(i + 1, total)
