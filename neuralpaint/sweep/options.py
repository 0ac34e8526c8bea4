"""Sweep options: names and values of a sweep file's ``[options]``, ``[grid]`` and ``[[runs]]``,
checked against the settings fields' own declarations (the same ones the command line is
generated from: :mod:`neuralpaint.settings.spine`)."""

from __future__ import annotations

import dataclasses
import difflib
from pathlib import Path
from typing import Any, Sequence

from .. import settings
from ..errors import InputError
from ..settings import ImageSettings, ModelSettings, RuntimeSettings, VideoSettings
from ..settings.spine import Kind, value_kind

IMAGE_CLASSES = (ImageSettings, ModelSettings, RuntimeSettings)
VIDEO_CLASSES = (ImageSettings, VideoSettings, ModelSettings, RuntimeSettings)

#: option name -> (settings class, the field's :class:`~neuralpaint.settings.spine.Kind`).
FIELDS: dict[str, tuple[type, Kind]] = {
    f.name: (cls, value_kind(cls, f.name)) for cls in VIDEO_CLASSES for f in dataclasses.fields(cls)}
VIDEO_ONLY = frozenset(settings.field_names(VideoSettings))
#: Options of an image that a video does not take (its caps are ``first_iters``/``later_iters``).
IMAGE_ONLY = frozenset({"iters"})


class Errors:
    def __init__(self, name: str):
        self.name = name

    def __call__(self, message: str) -> InputError:
        return InputError(f"{self.name}: {message}")


def suggest(name: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def fmt(v: Any) -> str:
    return repr(v)


def check_type(err: Errors, key: str, name: str, value: Any) -> Any:
    """Check a TOML value against the type the settings field declares; returns it (lists for
    tuples)."""
    cls, kind = FIELDS[name]
    if value is None and kind.optional:
        return value

    def scalar(v: Any, where: str) -> None:
        if kind.base is bool:
            if not isinstance(v, bool):
                raise err(f"{where} must be true or false, got {fmt(v)}")
        elif kind.base is int:
            if isinstance(v, bool) or not isinstance(v, int):
                raise err(f"{where} must be an integer, got {fmt(v)}")
        elif kind.base is float:
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise err(f"{where} must be a number, got {fmt(v)}")
        elif kind.base is str:
            if not isinstance(v, str):
                raise err(f"{where} must be a string, got {fmt(v)}")

    if kind.many:
        if not isinstance(value, list):
            raise err(f"{key} must be a list, got {fmt(value)}")
        for i, v in enumerate(value):
            scalar(v, f"{key}[{i}]")
        return value
    scalar(value, key)
    return value


def is_tuple_option(name: str) -> bool:
    return FIELDS[name][1].many


def check_option_value(err: Errors, key: str, name: str, value: Any) -> None:
    """Type check, then the settings class's own checks for this one value (names the key)."""
    check_type(err, key, name, value)
    cls, _ = FIELDS[name]
    try:
        settings.build(cls, {name: value})
    except InputError as exc:
        raise err(f"{key}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise err(f"{key}: bad value {fmt(value)} ({exc})") from None


def weights_file(err: Errors, base: Path, key: str, value: Any, resolved: dict[str, str]) -> None:
    """A ``weights`` value that is a path (it has a folder or a suffix, or names a file beside the
    TOML) is relative to the TOML's folder like every path here, and is loaded and checked now,
    not when its run starts. Named weights (``imagenet``, ``random``, ...) are left alone.
    ``resolved`` maps the value as written to the absolute path the runs use."""
    if not isinstance(value, str) or value in resolved:
        return
    p = Path(value).expanduser()
    p = p if p.is_absolute() else base / p
    if not ("/" in value or "\\" in value or Path(value).suffix or p.exists()):
        return
    from ..vgg import apply_state_dict, build_features, load_weights_file

    if not p.exists():
        raise err(f"{key}: weights file {value!r} does not exist (looked for {str(p)!r})")
    try:
        apply_state_dict(build_features(), load_weights_file(p), str(p))
    except InputError as exc:
        raise err(f"{key}: {exc}") from None
    resolved[value] = str(p.resolve())


def check_name(err: Errors, key: str, name: str) -> None:
    if name not in FIELDS:
        raise err(f"unknown key {key!r}{suggest(name, list(FIELDS))}")
