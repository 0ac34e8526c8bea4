"""The ``neuralpaint`` command line (typer).

Each command lives in its own module of this package and is registered on :data:`app` below.
:func:`main` runs the app so that every error a user can cause ends as one line
``error: ...`` on stderr with exit status 2 and no traceback (typer's own usage errors included).
"""

from __future__ import annotations

import re
import signal
import sys
from typing import Optional, Sequence

import typer

from ..errors import NeuralPaintError

app = typer.Typer(
    name="neuralpaint",
    help="Paint photos and videos in the style of an artwork.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from .. import __version__
        print(f"neuralpaint {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_version,
                                 help="Print the version and exit."),
) -> None:
    """Paint photos and videos in the style of an artwork."""


def _conventional_help(command: object) -> None:
    """Usage lines as click writes them (``CONTENT [STYLES]...``, not typer's ``{content}``) and
    no ``<bool>`` type column for flags (``--help``, ``--quiet``): they take no value."""
    def no_type(param: object) -> None:
        param.display_type_rich = (lambda ctx: None)  # type: ignore[attr-defined]

    for param in getattr(command, "params", []):
        if getattr(param, "param_type_name", "") == "argument":
            name = (param.metavar or param.name or "").upper()
            shown = name if param.required else f"[{name}]"
            shown += "..." if param.nargs != 1 else ""
            param._usage_display_name = (lambda text=shown: text)  # type: ignore[attr-defined]
        elif getattr(param, "is_flag", False):
            no_type(param)
    real_help_option = command.get_help_option  # type: ignore[attr-defined]

    def help_option(ctx: object) -> object:
        option = real_help_option(ctx)
        if option is not None:
            no_type(option)
        return option

    command.get_help_option = help_option  # type: ignore[attr-defined]
    for sub in getattr(command, "commands", {}).values():
        _conventional_help(sub)


def _register() -> None:
    # Imported here so that `neuralpaint --help` stays cheap and modules register themselves once.
    from . import commands  # noqa: F401


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the console script; returns the exit status (also used by tests)."""
    _register()
    from .common import completion

    completion.done = False
    _interrupt_message.clear()
    command = typer.main.get_command(app)
    _conventional_help(command)
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        result = command.main(args=args, prog_name="neuralpaint", standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        if completion.done:  # after the result line: everything is written, nothing to resume
            print(INTERRUPTED_AFTER, file=sys.stderr)
            return 0
        print(_interrupted(), file=sys.stderr)
        return 130
    except typer.TyperException as exc:  # usage errors: bad option values, missing arguments
        message = _one_line(exc.format_message())
        if type(exc).__name__ == "NoArgsIsHelpError":
            # a bare `neuralpaint` or `neuralpaint image`: typer has printed the help (with rich,
            # format_message() is then empty); no empty "error:" line after it
            if not message:
                return 2
            print(exc.format_message(), file=sys.stderr)
            return 2
        print(f"error: {_with_value(message, args)}", file=sys.stderr)
        return 2
    except (NeuralPaintError, ValueError) as exc:
        if not isinstance(exc, NeuralPaintError) and not _is_flow_error(exc):
            raise
        print(f"error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    # Safety nets: the core turns these into the errors above where it can; what slips through
    # (a style path that is a folder, a disk that fills up outside an atomic write, an
    # out-of-memory outside the optimiser) is still the user's situation, not a bug to dump.
    except OSError as exc:
        where = f" {str(exc.filename)!r}" if exc.filename else ""
        print(f"error: cannot access{where}: {_one_line(exc.strerror or str(exc))}", file=sys.stderr)
        return 2
    except (MemoryError, RuntimeError) as exc:
        if not _is_oom(exc):
            raise
        print(f"error: {OOM_ADVICE}", file=sys.stderr)
        return 2
    if result == 130 and not completion.done:  # typer turns Ctrl-C into Exit(130), returned here
        print(_interrupted(), file=sys.stderr)
        return 130
    return 0 if result == 130 else int(result or 0)


INTERRUPTED = "error: interrupted; re-run the same command to resume"
INTERRUPTED_AFTER = "notice: interrupted after the result was written; nothing was lost"

#: What a command saved when Ctrl-C stopped it (typer swallows the exception itself).
_interrupt_message: list[str] = []


def interrupted_with(message: str) -> None:
    """Say, on Ctrl-C, what the command saved and where (instead of :data:`INTERRUPTED`)."""
    _interrupt_message[:] = [message]


def _interrupted() -> str:
    return f"error: {_interrupt_message[0]}" if _interrupt_message else INTERRUPTED

#: What to do when memory runs out (the optimiser says the same with the size it was at).
OOM_ADVICE = ("out of memory; try a smaller --size or --precision bf16, "
              "or close other programs using the device")


def _is_flow_error(exc: BaseException) -> bool:
    """A :class:`flows.FlowError` (looked up lazily: importing flows imports OpenCV)."""
    errors = sys.modules.get("flows.errors")
    return errors is not None and isinstance(exc, errors.FlowError)


def _is_oom(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    from ..device import is_oom
    return is_oom(exc)


def _with_value(message: str, args: list[str]) -> str:
    """Typer names the option of a bad value but not the value: repeat it from the command line."""
    m = re.match(r"Invalid value for '(--[\w-]+)'", message)
    if m:
        opt = m.group(1)
        # The last occurrence: a repeated option takes its last value, and that is the one parsed.
        for i in range(len(args) - 1, -1, -1):
            a = args[i]
            if a == opt and i + 1 < len(args):
                return f"{message} (got {args[i + 1]!r})"
            if a.startswith(opt + "="):
                return f"{message} (got {a.split('=', 1)[1]!r})"
    return message


def _one_line(message: str) -> str:
    return " ".join(message.split())


def run() -> None:  # pragma: no cover - console script
    status = main()
    # The command is over (done, or failed with its message): a Ctrl-C during the interpreter's
    # shutdown (joining worker threads) must not add a traceback or change the exit status.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(status)
