"""The ``neuralpaint`` command line (typer).

Each command lives in its own module of this package and is registered on :data:`app` below.
:func:`main` runs the app so that every error a user can cause ends as one line
``error: ...`` on stderr with exit status 2 and no traceback (typer's own usage errors included).
"""

from __future__ import annotations

import sys
from typing import Optional, Sequence

import click
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
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        print("error: interrupted; re-run the same command to resume", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("error: interrupted; re-run the same command to resume", file=sys.stderr)
        return 130
    except click.ClickException as exc:
        print(f"error: {_one_line(exc.format_message())}", file=sys.stderr)
        return 2
    except (NeuralPaintError, FlowError) as exc:
        print(f"error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    return int(result or 0)


def _one_line(message: str) -> str:
    return " ".join(message.split())


def run() -> None:  # pragma: no cover - console script
    sys.exit(main())
