"""The spine of every option: one field declaration carries its default, type, help, flag, choices
and checks.

A settings field is declared with :func:`option`::

    temporal_weight: float = option(4e3, "Weight of the temporal loss.", label="temporal-weight", nonneg=True)

From that one line

- the dataclass gets its default (the only place it is written),
- :func:`check` validates the value (``label`` is the name the error message uses),
- the command line gets ``--temporal-weight`` (``neuralpaint.cli.spine`` builds the typer options of
  every command from :func:`spec`), with this help text, and hands the command a settings object,
- a sweep's TOML is type-checked against the field's annotation (:func:`value_kind`).

Fields the command line does not offer (API and sweep only) say ``cli=False``. A value whose
command-line form is text (``--offsets 1,2,4``, ``--size source``, ``--fps 30000/1001``) names a
:class:`~neuralpaint.settings.text.Text` form with ``text=``.

This module imports nothing heavier than the standard library: ``--help`` stays cheap.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field, fields
from functools import cache
from typing import Any, Mapping, Optional

from ..errors import InputError

if typing.TYPE_CHECKING:
    from .text import Text


@dataclass(frozen=True)
class Option:
    """What a settings field says about itself beyond its type and default."""

    #: ``--help`` text; ``{name}`` stands for the default of field ``name`` of the same class
    #: (``"\\[default: {size}]"``), so a default is never written twice.
    help: str = ""
    #: The command-line flag; ``None``: ``--`` + the field name with dashes. A bool gets
    #: ``--x/--no-x`` unless the flag says otherwise.
    flag: Optional[str] = None
    #: On the command line at all (``False``: Python API and sweep files only).
    cli: bool = True
    #: Allowed values of a ``str`` field (of each element of a tuple field).
    choices: Optional[tuple[str, ...]] = None
    #: How the value is named in error messages (``None``: the field name).
    label: Optional[str] = None
    #: Integer bounds; for a float, ``positive`` (> 0) or ``nonneg`` (>= 0), always finite.
    minimum: Optional[int] = None
    maximum: Optional[int] = None
    positive: bool = False
    nonneg: bool = False
    #: The command-line text form, when it is not a plain int/float/str/bool.
    text: Optional["Text"] = None
    #: Replaces ``[default: ...]`` in ``--help`` (the default is then written into ``help``).
    show_default: bool = True
    #: The option also applies with ``--fast`` (a trained network ignores the others).
    fast: bool = False

    def flag_for(self, name: str, kind: type) -> str:
        if self.flag is not None:
            return self.flag
        dashed = "--" + name.replace("_", "-")
        return f"{dashed}/--no-{dashed[2:]}" if kind is bool else dashed


def option(default: Any, help: str = "", **spec: Any) -> Any:
    """A settings field: its ``default`` and its :class:`Option` (``help`` and the keywords)."""
    return field(default=default, metadata={"option": Option(help=help, **spec)})


def spec(f: dataclasses.Field) -> Option:
    """The :class:`Option` of a field (a field declared without :func:`option`: not on the command line)."""
    found = f.metadata.get("option")
    return found if isinstance(found, Option) else Option(cli=False)


@dataclass(frozen=True)
class Kind:
    """A field's type as the checks need it: ``base`` int/float/str/bool, ``many`` for
    ``tuple[base, ...]``, ``optional`` when ``None`` is allowed."""

    base: type
    many: bool
    optional: bool


@cache
def kinds(cls: Any) -> dict[str, Kind]:
    """Field name -> :class:`Kind`, from the resolved annotations of ``cls``."""
    hints = typing.get_type_hints(cls)
    out = {}
    for f in fields(cls):
        t, optional = hints[f.name], False
        args = typing.get_args(t)
        if typing.get_origin(t) in (typing.Union, types.UnionType) and type(None) in args:
            optional = True
            t = next(a for a in args if a is not type(None))
        many = typing.get_origin(t) is tuple
        base = typing.get_args(t)[0] if many else t
        out[f.name] = Kind(base=base, many=many, optional=optional)
    return out


def value_kind(cls: type, name: str) -> Kind:
    return kinds(cls)[name]


# -- checks -----------------------------------------------------------------------------------


def finite(name: str, value: Any, *, positive: bool = False, nonneg: bool = False) -> None:
    try:
        v = float(value)
    except OverflowError:  # an integer beyond float range, e.g. from a TOML file
        raise InputError(f"{name} must be a finite number, got {str(value)[:20]}…") from None
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise InputError(f"{name} must be a finite number, got {value!r}")
    if positive and v <= 0:
        raise InputError(f"{name} must be > 0, got {value!r}")
    if nonneg and v < 0:
        raise InputError(f"{name} must be >= 0, got {value!r}")


def integer(name: str, value: Any, *, minimum: Optional[int] = None, maximum: Optional[int] = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{name} must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise InputError(f"{name} must be >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        # repeated whole up to 24 digits (a 64-bit seed has 20), shortened beyond
        text = str(value) if value < 10**24 else f"{str(value)[:12]}… ({len(str(value))} digits)"
        raise InputError(f"{name} must be <= {maximum}, got {text}")


def choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise InputError(f"unknown {name} {value!r}; choose one of {', '.join(choices)}")


def check(obj: Any) -> None:
    """Every field's declared checks, in field order (called first by each ``__post_init__``;
    what involves several fields stays there)."""
    cls: Any = type(obj)
    for f in fields(obj):
        o, value = spec(f), getattr(obj, f.name)
        kind = kinds(cls)[f.name]
        if value is None and kind.optional:
            continue
        label = o.label or f.name
        if o.choices is not None:
            for v in (value if kind.many else (value,)):
                choice(label, v, o.choices)
        elif kind.base is int and (o.minimum is not None or o.maximum is not None):
            integer(label, value, minimum=o.minimum, maximum=o.maximum)
        elif kind.base is float and (o.positive or o.nonneg):
            finite(label, value, positive=o.positive, nonneg=o.nonneg)


# -- building settings from options -----------------------------------------------------------


def field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def default(cls: type, name: str) -> Any:
    """The default of field ``name`` of settings class ``cls``."""
    for f in fields(cls):
        if f.name == name:
            if f.default is not dataclasses.MISSING:
                return f.default
            return f.default_factory()  # type: ignore[operator]
    raise KeyError(name)


def build(cls: type, options: Mapping[str, Any]) -> Any:
    """Build ``cls`` from the options it owns (others are ignored); ``None`` means default."""
    names = set(field_names(cls))
    kwargs = {k: v for k, v in options.items() if k in names and v is not None}
    for k, v in list(kwargs.items()):
        if isinstance(v, list):
            kwargs[k] = tuple(v)
    return cls(**kwargs)


def split(options: Mapping[str, Any], *classes: type) -> tuple[Any, ...]:
    """Build each of ``classes`` from ``options``; an option no class owns is an error."""
    known: set[str] = set()
    for cls in classes:
        known.update(field_names(cls))
    unknown = sorted(set(options) - known)
    if unknown:
        raise InputError(f"unknown option {unknown[0]!r}")
    return tuple(build(cls, options) for cls in classes)


def as_dict(*objs: Any) -> dict[str, Any]:
    """A JSON-friendly dict of settings objects (tuples become lists)."""
    out: dict[str, Any] = {}
    for obj in objs:
        for k, v in dataclasses.asdict(obj).items():
            out[k] = list(v) if isinstance(v, tuple) else v
    return out


def as_options(*objs: Any) -> dict[str, Any]:
    """Settings objects -> the keyword options of the Python API (``stylize_video(**...)``), which
    :func:`split` turns back into the same objects."""
    return {f.name: getattr(obj, f.name) for obj in objs for f in fields(obj)}


def changed(*objs: Any) -> dict[str, Any]:
    """The fields of settings objects that differ from their defaults (what a user set)."""
    return {k: v for obj in objs for k, v in as_options(obj).items() if v != default(type(obj), k)}
