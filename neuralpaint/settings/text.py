"""Command-line text forms of settings values that are not a plain int/float/str/bool.

A :class:`Text` is named by a field's ``option(..., text=...)``: the command line offers the
option as text (or a path), shows the default with :attr:`Text.show`, and turns what was typed
into the field's value with :attr:`Text.parse`. Errors name the flag and repeat the text.
Pure Python: the command line's ``--help`` imports it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Optional

from ..errors import InputError


@dataclass(frozen=True)
class Text:
    """``parse(text, flag) -> value`` (or, with ``spread``, a dict of several fields' values);
    ``show(default) -> text`` for ``--help`` (``None``: nothing shown); ``type``: ``str`` or
    ``Path`` (what the command line takes); ``metavar``: the value's name in ``--help``."""

    parse: Callable[[Any, str], Any]
    show: Callable[[Any], Optional[str]] = lambda v: None if v is None else str(v)
    type: type = str
    metavar: Optional[str] = None
    spread: bool = False


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
    """Comma-separated frame offsets: positive, none repeated."""
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


def parse_name_list(text: str, option: str) -> tuple[str, ...]:
    """``"relu1_1, relu2_1"`` -> ("relu1_1", "relu2_1"); the settings check the names."""
    names = tuple(p.strip() for p in str(text).split(",") if p.strip())
    if not names:
        raise InputError(f"{option} needs comma-separated layer names, e.g. relu1_1,relu2_1, got {text!r}")
    return names


def parse_size(text: Optional[str], option: str = "--size") -> tuple[int, bool]:
    """``--size``: not given -> (the default, no upscaling); ``source`` -> (the largest size, no
    upscaling: the source's own size); ``N`` -> (N, upscaling: the user asked for N pixels)."""
    from .image import MAX_SIZE, ImageSettings
    from .spine import default
    if text is None:
        return default(ImageSettings, "size"), default(ImageSettings, "upscale")
    if text == "source":
        return MAX_SIZE, False
    try:
        return int(text), True
    except ValueError:
        raise InputError(f"Invalid value for '{option}': give a number of pixels or 'source' (got {text!r})") from None


def parse_fps(text: Optional[str], option: str = "--fps") -> Optional[float]:
    """``--fps``: ``24``, ``29.97`` or ``30000/1001`` -> float (the writer recovers 30000/1001)."""
    if text is None:
        return None
    try:
        rate = Fraction(str(text).strip())
    except (ValueError, ZeroDivisionError):
        raise InputError(f"{option} needs a frame rate such as 24, 29.97 or 30000/1001, got {text!r}") from None
    from .video import MAX_FPS
    if not 0 < rate <= MAX_FPS:
        raise InputError(f"{option} must be above 0 and at most {MAX_FPS}, got {text!r}")
    return float(rate)


def _joined(value: Any) -> Optional[str]:
    return None if value is None else ",".join(map(str, value))


def _size(text: Any, option: str) -> dict[str, Any]:
    size, upscale = parse_size(text, option)
    return {"size": size, "upscale": upscale}


#: Comma-separated frame offsets (``--offsets 1,2,4``).
OFFSETS = Text(parse_offsets, show=_joined)
#: Comma-separated non-negative numbers (``--style-blend 0.7,0.3``).
NUMBERS = Text(parse_float_list, show=_joined)
#: Comma-separated names (``--style-layers relu1_1,relu2_1``).
NAMES = Text(parse_name_list, show=_joined)
#: ``--size N`` (N pixels, enlarging a smaller source) or ``--size source``; sets ``upscale`` too.
SIZE = Text(_size, show=lambda v: None, metavar="PIXELS|source", spread=True)
#: A frame rate: ``24``, ``29.97``, ``30000/1001``.
FPS = Text(parse_fps, show=lambda v: None)
#: A file or folder (the field keeps it as text).
PATH = Text(lambda p, option: str(p), show=lambda v: None, type=Path)
