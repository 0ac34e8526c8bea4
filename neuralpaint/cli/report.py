"""``neuralpaint report RUN_DIR``: an HTML page of one video run folder."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from typing_extensions import Annotated

from ..settings import ReportSettings
from .common import ProgressRenderer, echo, existing_file, existing_path
from .options import Quiet
from .spine import Fields, command


@command("report", no_args_is_help=True)
def report_command(
    run_dir: Annotated[Path, typer.Argument(help="The run folder of a video render (its --work-dir).", show_default=False)],
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="The page to write \\[default: RUN_DIR/report.html]; its images go to <name>_files/ beside it.")] = None,
    source: Annotated[Optional[Path], typer.Option("--source", help="The clip the run was made from (for the warping error) \\[default: the one the manifest names, if any].")] = None,
    measure: ReportSettings = Fields(),
    style: Annotated[Optional[list[Path]], typer.Option("--style", help="The run's style image (repeat for several), for the style-loss drift \\[default: the ones the manifest names].")] = None,
    quiet: Quiet = False,
) -> None:
    """Per-frame iterations, losses, stopping reasons, times, frames and the warping error of a run."""
    existing_path(run_dir, "run folder")
    for path in style or []:
        existing_file(path, "style image")
    if output is not None and output.suffix.lower() not in (".html", ".htm"):
        from ..errors import InputError
        raise InputError(f"report page {str(output)!r} must end in .html")
    from ..report import run_report
    with ProgressRenderer(quiet=quiet, label="report") as progress:
        page = run_report(run_dir, output, source=source, offsets=measure.offsets, callback=progress,
                          style=list(style) if style else None)
    echo(str(page))
