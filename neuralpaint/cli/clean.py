"""``neuralpaint clean``: list and remove finished run folders."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import typer
from typing_extensions import Annotated

from . import app
from .common import echo, existing_path


@app.command("clean", no_args_is_help=True)
def clean(
    path: Annotated[Path, typer.Argument(help="A folder to search (its subfolders too), or one run folder.", show_default=False)],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Remove without asking (needed when not on a terminal).")] = False,
) -> None:
    """List the finished run folders (.NAME.neuralpaint) under PATH and remove them.

    A finished run folder is one whose output was written; unfinished ones (a render to resume)
    are listed but kept. On a terminal it asks first; elsewhere it only lists unless --yes.
    """
    from ..runstate import find_run_folders, folder_size, format_bytes

    existing_path(path, "folder")
    runs = find_run_folders(path)
    done = [(p, folder_size(p)) for p, finished in runs if finished]
    unfinished = [p for p, finished in runs if not finished]
    for p, size in done:
        echo(f"{format_bytes(size):>9}  {p}")
    for p in unfinished:
        echo(f"{'kept':>9}  {p}  (unfinished: re-run its command to resume)")
    total = sum(size for _, size in done)
    if not done:
        echo(f"no finished run folders under {str(path)!r}")
        return
    what = f"{len(done)} finished run folder{'s' if len(done) != 1 else ''} ({format_bytes(total)})"
    if not yes:
        if not sys.stdin.isatty():
            echo(f"nothing removed: add --yes to remove {what}")
            return
        if not typer.confirm(f"Remove {what}?", default=False, err=True):
            echo("nothing removed")
            return
    for p, _ in done:
        shutil.rmtree(p, ignore_errors=True)
    echo(f"removed {what}")
