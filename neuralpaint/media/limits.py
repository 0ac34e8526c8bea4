"""Limits and checks every reader shares: the pixel limit, decoded sizes, frame ranges, and the
one-line wording of a bad file (an :class:`InputError` that repeats the path).

- Pixel limit: :data:`MAX_PIXELS` (100 MP) per image or frame, checked from the header before
  decoding. Pillow's own ``DecompressionBombWarning`` is silenced inside our reads (our limit
  replaces it) and its ``DecompressionBombError`` becomes an ``InputError``.
"""

from __future__ import annotations

import contextlib
import warnings
from pathlib import Path
from typing import Any, Iterator, Optional

import numpy as np
from PIL import Image

from ..errors import InputError

#: Largest image or frame we decode, in pixels (width x height): a guard against decompression bombs.
MAX_PIXELS = 100_000_000


# -- error wording ----------------------------------------------------------------------------

def _q(path: Any) -> str:
    return repr(str(path))


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


def _reason(exc: BaseException) -> str:
    """A short reason for a decoding failure."""
    text = _one_line(exc)
    low = text.lower()
    if isinstance(exc, EOFError) or "truncated" in low or "end of file" in low or "eof" in low.split():
        return "file is truncated"
    if isinstance(exc, Image.DecompressionBombError):
        return f"image is too large ({text})"
    if isinstance(exc, MemoryError):
        return "not enough memory to decode it"
    return f"corrupt or unsupported data ({type(exc).__name__}: {text})"


def _missing_clip(path: Path) -> None:
    """Why a clip path that does not "exist" cannot be read: missing, or a symbolic-link loop."""
    try:
        path.stat()
    except FileNotFoundError:
        raise InputError(f"cannot read clip {_q(path)}: no such file or folder") from None
    except OSError as exc:
        raise InputError(f"cannot read clip {_q(path)}: {exc.strerror or exc}") from None


def _check_file(path: Path, what: str) -> None:
    """Missing file, a directory or an empty file -> InputError."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InputError(f"cannot read {what} {_q(path)}: no such file") from None
    except OSError as exc:
        raise InputError(f"cannot read {what} {_q(path)}: {exc.strerror or exc}") from None
    if path.is_dir():
        raise InputError(f"cannot read {what} {_q(path)}: it is a folder, not a file")
    if st.st_size == 0:
        raise InputError(f"cannot read {what} {_q(path)}: file is empty")


def _beyond(path: Path, start: int, count: int) -> InputError:
    return InputError(f"cannot read clip {_q(path)}: --start {start} is beyond its last frame ({count})")


# -- pixel limits -----------------------------------------------------------------------------

@contextlib.contextmanager
def _pillow_guard() -> Iterator[None]:
    # Our MAX_PIXELS check replaces Pillow's bomb warning; Pillow's decoding UserWarnings (corrupt
    # EXIF, palette transparency) must not reach the user as warnings either. (catch_warnings
    # changes process-wide filters; concurrent reads in other threads may miss a warning.)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\..*")
        yield


def _check_pixels(path: Path, what: str, w: int, h: int, max_pixels: int, im: Any = None) -> None:
    if w < 1 or h < 1 or w * h > max_pixels:
        if im is not None:
            with contextlib.suppress(Exception):
                im.close()
        if w < 1 or h < 1:
            raise InputError(f"cannot read {what} {_q(path)}: it declares an empty size {w}x{h}")
        raise InputError(
            f"cannot read {what} {_q(path)}: {w}x{h} pixels is more than the limit of "
            f"{max_pixels / 1e6:g} MP (a decompression bomb, or shrink it first)")


def _size_for_long_side(h: int, w: int, size: int) -> tuple[int, int]:
    # An absurd --size must fail here, before a resize tries to allocate it (an upscale to
    # 100000 px would ask for 30 GB); the limit is the one for decoding (MAX_PIXELS).
    if size > MAX_PIXELS:
        raise InputError(f"size {size} is larger than the limit of {MAX_PIXELS / 1e6:g} MP for an image")
    scale = size / max(h, w)
    th, tw = max(1, int(round(h * scale))), max(1, int(round(w * scale)))
    if th * tw > MAX_PIXELS:
        raise InputError(f"size {size} would make a {tw}x{th} image, more than the limit of "
                         f"{MAX_PIXELS / 1e6:g} MP; choose a smaller --size")
    return th, tw


def working_long_side(size: int, h: int, w: int, upscale: bool = True) -> int:
    """The long side to work at for a ``h`` x ``w`` source: ``size``, except that without
    ``upscale`` a smaller source keeps its own (but never below 16 px, VGG-19's minimum)."""
    long_side = max(int(h), int(w))
    if upscale or long_side >= size:
        return int(size)
    return max(long_side, 16)


# -- arguments of a read ----------------------------------------------------------------------

def _check_range(start: Any, end: Any) -> tuple[int, Optional[int]]:
    for name, v in (("start", start), ("end", end)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1):
            raise InputError(f"--{name} must be a frame number >= 1, got {v!r}")
    s = 1 if start is None else int(start)
    e = None if end is None else int(end)
    if e is not None and e < s:
        raise InputError(f"--end {e} is before --start {s}")
    return s, e


def _check_size(size: Any) -> Optional[int]:
    if size is None:
        return None
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise InputError(f"size must be a positive integer, got {size!r}")
    return int(size)
