"""``neuralpaint train``: train the fast network (Johnson et al.) for one style."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from typing_extensions import Annotated

from .. import guard
from ..errors import InputError
from ..settings import ModelSettings, RuntimeSettings, TrainSettings
from .common import ProgressRenderer, check_output, done, existing_file, existing_path
from .options import Quiet
from .spine import Fields, command

MODEL_SUFFIXES = (".pt", ".pth")


class TrainProgress(ProgressRenderer):
    """ProgressRenderer plus a steps bar with the loss parts."""

    def __init__(self, quiet: bool = False):
        super().__init__(quiet=quiet, label="training")
        self.step_task: Any = None
        self.saved = ""

    def __call__(self, event: Any) -> None:
        from ..fast.train import CheckpointSaved, SampleSaved, TrainStep
        if isinstance(event, (TrainStep, CheckpointSaved, SampleSaved)):
            p = self.progress
            if p is None:  # plain lines (not a terminal): the base class prints them
                if isinstance(event, TrainStep):
                    super().__call__(event)
                return
            if isinstance(event, CheckpointSaved):
                self.saved = f"  [dim]saved @{event.step}[/]"
                return
            if isinstance(event, SampleSaved):
                return
            parts = " ".join(f"{k} {v:.3g}" for k, v in event.losses.items())
            info = f"loss {event.loss:.4g} ({parts}){self.saved}"
            if self.step_task is None:
                self.step_task = p.add_task("steps", total=event.steps, completed=event.start_step, info=info)
            p.update(self.step_task, completed=event.step, total=event.steps, info=info)
            return
        super().__call__(event)


@command("train", no_args_is_help=True)
def train_command(
    style: Annotated[Path, typer.Argument(help="The style image.", show_default=False)],
    data: Annotated[Path, typer.Option("--data", help="Training images: a folder of images, or a video/GIF whose frames are used.", show_default=False)],
    output: Annotated[Path, typer.Option("-o", "--output", help="The model file to write (.pt); an existing one with the same settings is resumed.", show_default=False)],
    training: TrainSettings = Fields(),
    model: ModelSettings = Fields(),
    runtime: RuntimeSettings = Fields(only=("device", "precision")),
    restart: Annotated[bool, typer.Option("--restart", help="Start over even if the model file exists.")] = False,
    quiet: Quiet = False,
) -> None:
    """Train a fast network for STYLE on --data; writes -o MODEL.pt (resumable)."""
    existing_file(style, "style image")
    existing_path(data, "training data")
    if output.exists() and output.is_dir():
        raise InputError(f"output {str(output)!r} is a directory; give a model file like model.pt")
    if output.suffix.lower() not in MODEL_SUFFIXES:
        raise InputError(f"model file {str(output)!r} must end in .pt or .pth")
    check_output(output, [style, data])
    from ..fast.train import train

    with guard.reading((style, "style image"), (data, "training data"), (model.weights, "weights file")), \
            TrainProgress(quiet=quiet) as progress:
        res = train(style, data, output, training, callback=progress, resume=not restart,
                    model=model, runtime=runtime)
    if res.start_step >= res.step:
        done(f"{res.path}  (already trained: {res.step} steps)")
        return
    losses = ", ".join(f"{k} {v:.3g}" for k, v in res.losses.items())
    resumed = f", resumed at {res.start_step}" if res.start_step else ""
    done(f"{res.path}  ({res.step} steps{resumed}, {res.seconds:.1f}s, {losses})")
