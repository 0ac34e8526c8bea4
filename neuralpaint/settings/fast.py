"""The feed-forward fast path (:mod:`neuralpaint.fast`): training and inference. One
:func:`~neuralpaint.settings.spine.option` line per field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Optional

from ..errors import InputError
from .image import LAYERS, MAX_SEED, MAX_SIZE
from .spine import check, option
from .video import DEFAULT_FLOW, FLOW_METHODS

#: Where ``--fast-blend`` composes the warped previous result with the new one: the network's
#: output image, or its middle feature maps (after the residual blocks, before the decoder).
FAST_BLEND_AT = ("features", "output")


@dataclass(frozen=True)
class TrainSettings:
    """Training of Johnson et al.'s transformation network (``neuralpaint train``).

    The loss network is the project's VGG-19 (:class:`ModelSettings`); the losses are the
    project's (Gram / (C·H·W), mean squared errors). Layers and the style/content ratio follow
    Johnson et al. and pytorch/examples' fast_neural_style (content 1e5, style 1e10 with the same
    normalisation = our 1 : 1e5). The weights of the TV, noise and compound terms are on [0,1]
    images; they could not be tuned against the ImageNet VGG in the build environment (no
    network), so treat them as starting points.
    """

    PANEL: ClassVar[str] = "Training"

    #: Optimiser steps (Johnson et al.: 40k steps of batch 4 = two epochs of COCO).
    steps: int = option(40000, "Optimiser steps in total.", minimum=1)
    #: Side of the square training crops.
    size: int = option(256, "Side of the square training crops.", minimum=16, maximum=MAX_SIZE)
    batch: int = option(4, "Crops per step.", minimum=1)
    #: Adam step size.
    lr: float = option(1e-3, "Adam step size.", positive=True)
    content_weight: float = option(1.0, "Weight of the content loss.", label="content-weight", nonneg=True)
    style_weight: float = option(1e5, "Weight of the style loss.", label="style-weight", nonneg=True)
    #: Mean squared neighbour difference of the output.
    tv_weight: float = option(1.0, "Total-variation (smoothness) weight.", label="tv-weight", nonneg=True)
    #: Noise stability (Rainy & de Berker): mean (F(x + n) − F(x))², n on a few pixels.
    noise_weight: float = option(1e3, "Noise-stability weight (Rainy & de Berker).", label="noise-weight",
                                 nonneg=True)
    #: Fraction of the pixels that get noise in the noise-stability term (~1000 px at 256²).
    noise_fraction: float = option(0.015, "Share of the pixels that get noise.", cli=False,
                                   label="noise-fraction", nonneg=True)
    #: Standard deviation of that noise (on [0,1] images; 0.2 ≈ 50/255).
    noise_std: float = option(0.2, "Standard deviation of that noise.", cli=False, label="noise-std", nonneg=True)
    #: Compound regularisation (Wang et al. 2020): mean over valid pixels of
    #: (W(F(X)) − F(W(X) + Δ))², W a random smooth flow, Δ Gaussian noise.
    compound_weight: float = option(1e3, "Compound-regularisation weight (Wang et al. 2020).",
                                    label="compound-weight", nonneg=True)
    #: Largest displacement of the random flow W, in pixels of the training crop.
    compound_shift: float = option(4.0, "Largest shift of the random flow.", cli=False, label="compound-shift",
                                   nonneg=True)
    #: Standard deviation of Δ.
    compound_noise_std: float = option(0.01, "Standard deviation of Δ.", cli=False, label="compound-noise-std",
                                       nonneg=True)
    #: Johnson et al.'s layers (relu2_2 keeps more of the content's detail than relu4_2).
    content_layer: str = option("relu2_2", "VGG-19 layer of the content loss.", cli=False, choices=LAYERS,
                                label="content layer")
    style_layers: tuple[str, ...] = option(("relu1_2", "relu2_2", "relu3_3", "relu4_3"),
                                           "VGG-19 layers of the style loss.", cli=False, choices=LAYERS,
                                           label="style layer")
    #: Long side of the style image for its Gram targets; ``None`` = ``size``.
    style_size: Optional[int] = option(None, "Long side of the style image for its targets (default: --size).",
                                       label="style-size", minimum=16)
    seed: int = option(0, "Seed of the random numbers (crops, noise, initial network).", minimum=0,
                       maximum=MAX_SEED)
    #: Write the checkpoint (the output model file) every this many steps, and at the end.
    checkpoint_every: int = option(500, "Write the model file every N steps.", label="checkpoint-every", minimum=1)
    #: Save a stylised sample image beside the checkpoint every this many steps (0 = never).
    sample_every: int = option(500, "Save <model>_sample.png every N steps (0 = never).", label="sample-every",
                               minimum=0)

    def __post_init__(self) -> None:
        check(self)
        if self.noise_fraction > 1:
            raise InputError(f"noise-fraction must be <= 1, got {self.noise_fraction!r}")
        if not self.style_layers:
            raise InputError("style_layers must name at least one layer")

    #: Fields that do not change what is trained (may differ when a run is resumed).
    RESUMABLE_CHANGES = ("steps", "checkpoint_every", "sample_every")


@dataclass(frozen=True)
class FastSettings:
    """Inference with a trained fast network (``image --fast``, ``video --fast [--fast-blend]``)."""

    PANEL: ClassVar[str] = "Fast network"

    #: Frames per network call.
    batch: int = option(4, "Frames per network call.", cli=False, minimum=1)
    #: Flow-guided composition of Chen et al. 2017 for video (``--fast-blend``).
    blend: bool = option(False, "With --fast: keep the warped previous output where the flow is reliable "
                         "(Chen et al. 2017).", flag="--fast-blend/--no-fast-blend", fast=True)
    #: Compose at the network's ``output`` image or at its middle ``features``. ``output`` gave
    #: the lower warping error on synthetic clips (numbers in ``neuralpaint.fast.infer``).
    blend_at: str = option("output", "With --fast-blend: compose the output images or the network's middle "
                           "features.", flag="--fast-blend-at", choices=FAST_BLEND_AT, label="blend-at", fast=True)
    #: Flow method for the composition (the command line's ``--flow``).
    flow: str = option(DEFAULT_FLOW, "Flow method of the composition.", cli=False, choices=FLOW_METHODS,
                       label="flow method")
    #: Largest weight of the warped previous result (the reliability is scaled by it).
    blend_strength: float = option(1.0, "Largest weight of the warped previous result.", cli=False,
                                   label="blend-strength", nonneg=True)

    def __post_init__(self) -> None:
        check(self)
        if self.blend_strength > 1:
            raise InputError(f"blend-strength must be <= 1, got {self.blend_strength!r}")
