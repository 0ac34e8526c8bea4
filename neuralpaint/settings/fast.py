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
    project's (Gram / (C·H·W), mean squared errors), each made scale-free by
    ``normalize_losses`` (the raw ratio of Johnson et al. / pytorch/examples, 1 : 1e5, held only
    for ImageNet VGG's scale). The weights of the TV, noise and compound terms are on [0,1]
    images; they could not be tuned against the ImageNet VGG in the build environment (no
    network), so treat them as starting points.
    """

    PANEL: ClassVar[str] = "Training"

    #: Optimiser steps (Johnson et al.: 40k steps of batch 4 = two epochs of COCO).
    steps: int = option(40000, "Optimiser steps in total.", minimum=1)
    #: Side of the square training crops.
    size: int = option(256, "Side of the square training crops.", minimum=16, maximum=MAX_SIZE)
    batch: int = option(4, "Crops per step.", minimum=1)
    #: Adam step size. Measured on the HED features (street clip, 128 px crops, style weight 2, from a
    #: network that already reproduced the content: ``--init``): at 1e-3 the style term did not fall in 50 steps
    #: (the output turned to blobs of the painting's colours), at 5e-3 it diverged, at 3e-4 it fell
    #: from 0.87 to 0.10 (normalised) in 20 steps while the content stayed. Johnson et al.: 1e-3.
    lr: float = option(3e-4, "Adam step size.", positive=True)
    content_weight: float = option(1.0, "Weight of the content loss.", label="content-weight", nonneg=True)
    #: On the normalised terms (``normalize_losses``). At lr 3e-4 (HED, street clip, 300 steps) 2 and
    #: 10 both kept the scene; 10 painted more (the optimiser's style loss 6.6e7 against 1.1e8). Johnson
    #: et al.'s own ratio on Caffe's VGG-16 (content 1, style 5 on raw terms) would be ≈ 14 here.
    style_weight: float = option(10.0, "Weight of the style loss.", label="style-weight", nonneg=True)
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
    #: Style term / Σ of the target Grams' mean squares, content / the style's (fast.train.normalized_weights).
    normalize_losses: bool = option(True, "Make each loss term scale-free (the style layers' terms by their "
                                    "target Grams, the content term by the style's features).", cli=False)
    seed: int = option(0, "Seed of the random numbers (crops, noise, initial network).", minimum=0,
                       maximum=MAX_SEED)
    #: Train the coherent online network (Chen et al. 2017: a mask network between encoder and decoder) on frame pairs.
    coherent: bool = option(False, "Train the coherent online network (Chen et al. 2017) on --data's consecutive "
                            "frames, from the per-frame model --base.")
    #: Coherent: weight of Chen et al.'s temporal loss, mean over pixels of v·(O_t − W(O_{t−1}))² on [0,1] images.
    temporal_weight: float = option(1e3, "With --coherent: weight of the temporal loss.", label="temporal-weight",
                                    nonneg=True)
    #: Coherent: weight of the mask network's cross-entropy against the ground-truth reuse mask of synthetic pairs.
    mask_weight: float = option(1.0, "With --coherent: weight of the mask supervision (synthetic pairs).",
                                label="mask-weight", nonneg=True)
    #: Coherent: synthetic clips (exact flow and occlusion, flows.synthetic) mixed into the frame pairs.
    synthetic_clips: int = option(4, "With --coherent: synthetic clips with exact flow mixed in.",
                                  label="synthetic-clips", minimum=0)
    #: Coherent: optical-flow method of the training pairs (the online mode uses FastSettings.flow).
    flow: str = option(DEFAULT_FLOW, "With --coherent: optical flow of the training pairs.", cli=False,
                       choices=FLOW_METHODS, label="flow method")
    #: Coherent: keep the --base model's stylisation network fixed, train the mask network (Chen et al.'s 2nd stage).
    freeze_base: bool = option(True, "With --coherent: keep the --base model's stylisation network fixed.",
                               cli=False)
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
