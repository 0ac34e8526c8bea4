"""Every command's settings options, generated from the settings fields.

A command declares a parameter typed with a settings class::

    @command("video", no_args_is_help=True)
    def video(ctx: typer.Context, input: ..., image: ImageSettings, video: VideoSettings = Fields(exclude=...)):

and gets, on the command line, one option per field of that class that is on the command line
(``option(..., cli=True)``, the default), with the field's flag, help, default and choices; the
function receives the built object (``video.temporal_weight``). Typer reads a command's options
from ``inspect.signature`` and ``typing.get_type_hints``: the registered function is a wrapper
whose ``__signature__`` lists the command's own parameters with the generated options in place of
each settings parameter, and whose ``__annotations__`` are those options' ``Annotated`` types.

Values given as text (``--offsets 1,2,4``, ``--size source``) are turned into the field's value
by the field's :class:`~neuralpaint.settings.text.Text`; the settings class then checks them, so
a bad value is one ``error: ...`` line (exit status 2) naming it, before any work.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from dataclasses import dataclass
from typing import Any, Callable, Optional

import typer
from typing_extensions import Annotated

from ..settings import spine


@dataclass(frozen=True)
class Fields:
    """The default of a settings parameter: which of the class's command-line fields the command
    offers (``only`` / ``exclude``, by field name) and the ``--help`` panel they are listed in."""

    only: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    panel: Optional[str] = None


@dataclass(frozen=True)
class Generated:
    """One generated option: its parameter name, the field it fills and the flag it is typed as."""

    name: str
    field: dataclasses.Field
    option: spine.Option
    flag: str


#: Command name -> parameter names of its generated options that do not apply with ``--fast``
#: (see ``options.refuse_with_fast``).
NOT_WITH_FAST: dict[str, set[str]] = {}


def is_settings(cls: Any) -> bool:
    return isinstance(cls, type) and dataclasses.is_dataclass(cls) and any(
        "option" in f.metadata for f in dataclasses.fields(cls))


class _Defaults(dict):
    """``{field}`` in a help text: that field's default."""

    def __init__(self, cls: type):
        super().__init__({f.name: spine.default(cls, f.name) for f in dataclasses.fields(cls)})


def generate(cls: type, fields: Fields) -> list[tuple[Generated, inspect.Parameter]]:
    """The typer parameters of ``cls``'s command-line fields."""
    out = []
    known = {f.name for f in dataclasses.fields(cls)}
    for name in (*fields.only, *fields.exclude):
        if name not in known:
            raise TypeError(f"{cls.__name__} has no field {name!r}")
    for f in dataclasses.fields(cls):
        o = spine.spec(f)
        if not o.cli or (fields.only and f.name not in fields.only) or f.name in fields.exclude:
            continue
        kind = spine.value_kind(cls, f.name)
        default = spine.default(cls, f.name)
        if o.text is not None:
            cli_type, shown = o.text.type, o.text.show(default)
        elif kind.many:
            raise TypeError(f"{cls.__name__}.{f.name}: a tuple field needs text= for the command line")
        else:
            cli_type, shown = kind.base, default
        flag = o.flag_for(f.name, kind.base)
        pname = flag.split("/")[0].lstrip("-").replace("-", "_")
        metavar = o.text.metavar if o.text is not None else None
        info = typer.Option(flag, help=o.help.format_map(_Defaults(cls)), metavar=metavar,
                            show_default=o.show_default and shown is not None,
                            rich_help_panel=fields.panel or getattr(cls, "PANEL", None))
        annotation = Annotated[Optional[cli_type] if shown is None else cli_type, info]  # type: ignore[valid-type]
        param = inspect.Parameter(pname, inspect.Parameter.KEYWORD_ONLY, default=shown, annotation=annotation)
        out.append((Generated(pname, f, o, flag.split("/")[0]), param))
    return out


def build(cls: type, generated: list[Generated], values: dict[str, Any]) -> Any:
    """The settings object from the parsed command-line values (``None``: the field's default)."""
    kwargs: dict[str, Any] = {}
    for g in generated:
        raw = values.pop(g.name)
        if raw is None:
            continue
        if g.option.text is not None:
            value = g.option.text.parse(raw, g.flag)
            if g.option.text.spread:
                kwargs.update(value)
            else:
                kwargs[g.field.name] = value
        else:
            kwargs[g.field.name] = raw
    return cls(**kwargs)


def command(name: str, *, app: Optional[typer.Typer] = None,
            **typer_options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``@app.command(name, ...)`` with each settings-typed parameter replaced by its options
    (``app``: neuralpaint's own unless given)."""
    if app is None:
        from . import app

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        hints = typing.get_type_hints(func, include_extras=True)
        groups: list[tuple[str, type, list[Generated]]] = []
        params: list[inspect.Parameter] = []
        seen: dict[str, str] = {}
        for p in inspect.signature(func).parameters.values():
            annotation = hints.get(p.name, p.annotation)
            if not is_settings(annotation):
                params.append(p.replace(annotation=annotation))
                seen[p.name] = p.name
                continue
            chosen = p.default if isinstance(p.default, Fields) else Fields()
            made = generate(annotation, chosen)
            for g, param in made:
                if g.name in seen:
                    raise TypeError(f"{name}: option {g.flag} of {annotation.__name__} clashes with {seen[g.name]}")
                seen[g.name] = f"{annotation.__name__}.{g.field.name}"
                params.append(param)
            groups.append((p.name, annotation, [g for g, _ in made]))
            NOT_WITH_FAST.setdefault(name, set()).update(g.name for g, _ in made if not g.option.fast)
        # typer lists keyword-only and positional parameters alike; keep them valid for inspect
        params = [q.replace(kind=inspect.Parameter.KEYWORD_ONLY) for q in params]

        @functools.wraps(func)
        def run(**values: Any) -> Any:
            for pname, cls, generated in groups:
                values[pname] = build(cls, generated, values)
            return func(**values)

        run.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        run.__annotations__ = {q.name: q.annotation for q in params}
        del run.__wrapped__  # typer must read the generated signature, not the function's
        assert app is not None
        return app.command(name, **typer_options)(run)

    return register
