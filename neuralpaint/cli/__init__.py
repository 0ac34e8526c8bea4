"""The ``neuralpaint`` command line (typer).

Each command lives in its own module of this package and is registered on :data:`app` below.
:func:`main` runs the app so that every error a user can cause ends as one line
``error: ...`` on stderr with exit status 2 and no traceback (typer's own usage errors included).
"""

from __future__ import annotations

import re
import sys
from typing import Optional, Sequence

import typer

from flows.errors import FlowError

from ..errors import NeuralPaintError

app = typer.Typer(
    name="neuralpaint",
    help="Paint photos and videos in the style of an artwork.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    # Imported here so that `neuralpaint --help` stays cheap and modules register themselves once.
    from . import commands  # noqa: F401


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the console script; returns the exit status (also used by tests)."""
    _register()
    command = typer.main.get_command(app)
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        result = command.main(args=args, prog_name="neuralpaint", standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        print("error: interrupted; re-run the same command to resume", file=sys.stderr)
        return 130
    except typer.TyperException as exc:  # usage errors: bad option values, missing arguments
        print(f"error: {_with_value(_one_line(exc.format_message()), args)}", file=sys.stderr)
        return 2
    except (NeuralPaintError, FlowError) as exc:
        print(f"error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    return int(result or 0)


def _with_value(message: str, args: list[str]) -> str:
    """Typer names the option of a bad value but not the value: repeat it from the command line."""
    m = re.match(r"Invalid value for '(--[\w-]+)'", message)
    if m:
        opt = m.group(1)
        for i, a in enumerate(args):
            if a == opt and i + 1 < len(args):
                return f"{message} (got {args[i + 1]!r})"
            if a.startswith(opt + "="):
                return f"{message} (got {a.split('=', 1)[1]!r})"
    return message


def _one_line(message: str) -> str:
    return " ".join(message.split())


def run() -> None:  # pragma: no cover - console script
    sys.exit(main())
