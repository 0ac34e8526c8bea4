"""``neuralpaint train``: train the fast network (Johnson et al.) for one style."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer
from typing_extensions import Annotated

from .. import guard
from ..errors import InputError
from ..settings import ModelSettings as M
from ..settings import RuntimeSettings as R
from ..settings import TrainSettings as T
from ..settings import build
from ..settings import default as d
from . import app
from .common import ProgressRenderer, check_output, done, existing_file, existing_path

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


@app.command("train", no_args_is_help=True)
def train_command(
    style: Annotated[Path, typer.Argument(help="The style image.", show_default=False)],
    data: Annotated[Path, typer.Option("--data", help="Training images: a folder of images, or a video/GIF whose frames are used.", show_default=False)],
    output: Annotated[Path, typer.Option("-o", "--output", help="The model file to write (.pt); an existing one with the same settings is resumed.", show_default=False)],
    steps: Annotated[int, typer.Option("--steps", help="Optimiser steps in total.")] = d(T, "steps"),
    size: Annotated[int, typer.Option("--size", help="Side of the square training crops.")] = d(T, "size"),
    batch: Annotated[int, typer.Option("--batch", help="Crops per step.")] = d(T, "batch"),
    lr: Annotated[float, typer.Option("--lr", help="Adam step size.")] = d(T, "lr"),
    content_weight: Annotated[float, typer.Option("--content-weight")] = d(T, "content_weight"),
    style_weight: Annotated[float, typer.Option("--style-weight")] = d(T, "style_weight"),
    tv_weight: Annotated[float, typer.Option("--tv-weight", help="Total-variation (smoothness) weight.")] = d(T, "tv_weight"),
    noise_weight: Annotated[float, typer.Option("--noise-weight", help="Noise-stability weight (Rainy & de Berker).")] = d(T, "noise_weight"),
    compound_weight: Annotated[float, typer.Option("--compound-weight", help="Compound-regularisation weight (Wang et al. 2020).")] = d(T, "compound_weight"),
    style_size: Annotated[Optional[int], typer.Option("--style-size", help="Long side of the style image for its targets (default: --size).")] = None,
    weights: Annotated[str, typer.Option("--weights", help="VGG-19 loss network: imagenet, random (untrained, tests only) or a .pth path.")] = d(M, "weights"),
    pooling: Annotated[str, typer.Option("--pooling", help="max or avg pooling in VGG-19.")] = d(M, "pooling"),
    device: Annotated[str, typer.Option("--device", help="auto, cpu, cuda or cuda:N.")] = d(R, "device"),
    precision: Annotated[str, typer.Option("--precision", help="auto, fp32, tf32 or bf16 (VGG pass).")] = d(R, "precision"),
    seed: Annotated[int, typer.Option("--seed")] = d(T, "seed"),
    checkpoint_every: Annotated[int, typer.Option("--checkpoint-every", help="Write the model file every N steps.")] = d(T, "checkpoint_every"),
    sample_every: Annotated[int, typer.Option("--sample-every", help="Save <model>_sample.png every N steps (0 = never).")] = d(T, "sample_every"),
    coherent: Annotated[bool, typer.Option("--coherent", help="Train the coherent online network (Chen et al. 2017) on --data's consecutive frames, from the per-frame model --base.")] = d(T, "coherent"),
    init: Annotated[Optional[Path], typer.Option("--init", help="Start a fresh run from this model's network weights (e.g. a short content-only run).")] = None,
    base: Annotated[Optional[Path], typer.Option("--base", help="With --coherent: the per-frame model whose stylisation network is kept.")] = None,
    temporal_weight: Annotated[float, typer.Option("--temporal-weight", help="With --coherent: weight of the temporal loss.")] = d(T, "temporal_weight"),
    mask_weight: Annotated[float, typer.Option("--mask-weight", help="With --coherent: weight of the mask supervision (synthetic pairs).")] = d(T, "mask_weight"),
    synthetic_clips: Annotated[int, typer.Option("--synthetic-clips", help="With --coherent: synthetic clips with exact flow mixed in.")] = d(T, "synthetic_clips"),
    restart: Annotated[bool, typer.Option("--restart", help="Start over even if the model file exists.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
) -> None:
    """Train a fast network for STYLE on --data; writes -o MODEL.pt (resumable)."""
    existing_file(style, "style image")
    existing_path(data, "training data")
    if output.exists() and output.is_dir():
        raise InputError(f"output {str(output)!r} is a directory; give a model file like model.pt")
    if output.suffix.lower() not in MODEL_SUFFIXES:
        raise InputError(f"model file {str(output)!r} must end in .pt or .pth")
    check_output(output, [style, data])
    options = {"steps": steps, "size": size, "batch": batch, "lr": lr, "content_weight": content_weight,
               "style_weight": style_weight, "tv_weight": tv_weight, "noise_weight": noise_weight,
               "compound_weight": compound_weight, "style_size": style_size, "seed": seed,
               "checkpoint_every": checkpoint_every, "sample_every": sample_every, "coherent": coherent,
               "temporal_weight": temporal_weight, "mask_weight": mask_weight, "synthetic_clips": synthetic_clips}
    if base is not None and not coherent:
        raise InputError("--base is for --coherent training")
    if init is not None and coherent:
        raise InputError("--init is for per-frame training; --coherent starts from --base")
    train_s = build(T, options)
    model_s = build(M, {"weights": weights, "pooling": pooling})
    runtime_s = build(R, {"device": device, "precision": precision})
    from ..fast.coherent_train import train_coherent
    from ..fast.train import train

    with guard.reading((style, "style image"), (data, "training data"), (weights, "weights file"),
                       (base, "base model"), (init, "init model")), TrainProgress(quiet=quiet) as progress:
        if coherent:
            res = train_coherent(style, data, output, train_s, callback=progress, resume=not restart, base=base,
                                 model=model_s, runtime=runtime_s)
        else:
            res = train(style, data, output, train_s, callback=progress, resume=not restart,
                        model=model_s, runtime=runtime_s, init=init)
    if res.start_step >= res.step:
        done(f"{res.path}  (already trained: {res.step} steps)")
        return
    losses = ", ".join(f"{k} {v:.3g}" for k, v in res.losses.items())
    resumed = f", resumed at {res.start_step}" if res.start_step else ""
    done(f"{res.path}  ({res.step} steps{resumed}, {res.seconds:.1f}s, {losses})")
