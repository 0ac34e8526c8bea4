"""The training data of the fast network: random square crops of a folder of images, one
image, a clip or a list of arrays (:class:`TrainingData`). The sampling of step s depends only
on (seed, s), so a resumed run sees exactly the batches an uninterrupted run would have seen."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Sequence, Union

import numpy as np
import torch

from .. import media
from ..errors import InputError

DataLike = Union[str, os.PathLike, Sequence[np.ndarray]]

#: Largest long side kept in memory per training image / frame (relative to ``size``).
_KEEP_SCALE = 2.0
#: Folders with at most this many images are decoded once and kept in memory.
_CACHE_IMAGES = 512

class TrainingData:
    """Random square crops from a folder of images, one image, a clip, or a list of arrays."""

    def __init__(self, size: int, images: Sequence[np.ndarray] = (), files: Sequence[Path] = (),
                 source: str = "arrays"):
        self.size = size
        self.images = list(images)
        self.files = list(files)
        self.source = source
        self._cache: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.images) or len(self.files)

    @classmethod
    def open(cls, data: DataLike, size: int) -> "TrainingData":
        if not isinstance(data, (str, os.PathLike)):
            arrays = [media.resize_long_side(a, _keep_long_side(a, size)) for a in data]
            if not arrays:
                raise InputError("training data is an empty list of images")
            return cls(size, images=arrays)
        path = Path(data)
        if not path.exists():
            raise InputError(f"training data {str(path)!r} does not exist (give a folder of images, "
                             f"an image, a video or a GIF)")
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.suffix.lower() in media.IMAGE_SUFFIXES
                           and p.is_file() and not any(part.startswith(".") for part in
                                                       p.relative_to(path).parts))
            if not files:
                raise InputError(f"training data folder {str(path)!r} holds no images "
                                 f"(.png, .jpg, .jpeg, .webp, ...)")
            return cls(size, files=files, source=str(path))
        # Decode at a reduced size right away (a long HD clip would not fit in memory otherwise).
        h, w = media.probe_clip(path).size
        keep = _keep_long_side(np.empty((h, w, 0), np.uint8), size)
        clip = media.read_clip(path, size=keep if keep < max(h, w) else None)
        frames = [media.resize_long_side(f, _keep_long_side(f, size)) for f in clip.frames]
        return cls(size, images=frames, source=str(path))

    def image(self, i: int) -> np.ndarray:
        if self.images:
            return self.images[i]
        img = self._cache.get(i)
        if img is None:
            img = media.load_image(self.files[i])
            img = media.resize_long_side(img, _keep_long_side(img, self.size))
            if len(self.files) <= _CACHE_IMAGES:
                self._cache[i] = img
        return img

    def crop(self, img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Short side -> size·U(1, 1.5), random size² crop, random horizontal flip."""
        s = self.size
        h, w = img.shape[:2]
        short = s * rng.uniform(1.0, 1.5)
        scale = short / min(h, w)
        nh, nw = max(s, int(round(h * scale))), max(s, int(round(w * scale)))
        img = _resize(img, nh, nw)
        y = int(rng.integers(0, nh - s + 1))
        x = int(rng.integers(0, nw - s + 1))
        out = img[y:y + s, x:x + s]
        if rng.random() < 0.5:
            out = out[:, ::-1]
        return np.ascontiguousarray(out)

    def batch(self, rng: np.random.Generator, n: int, device: torch.device) -> torch.Tensor:
        picks = rng.integers(0, len(self), size=n)
        crops = [self.crop(self.image(int(i)), rng) for i in picks]
        return torch.cat([media.image_to_tensor(c, device) for c in crops], dim=0)

    def sample_image(self) -> np.ndarray:
        """The fixed picture the periodic sample shows: the first image, long side ``size``."""
        return media.resize_long_side(self.image(0), self.size)


def _keep_long_side(img: np.ndarray, size: int) -> int:
    """Long side that keeps the short side at least _KEEP_SCALE·size (never upscales)."""
    h, w = img.shape[:2]
    want_short = int(math.ceil(_KEEP_SCALE * size))
    return max(1, min(max(h, w), int(math.ceil(max(h, w) * want_short / min(h, w)))))


def _resize(img: np.ndarray, h: int, w: int) -> np.ndarray:
    if img.shape[:2] == (h, w):
        return img
    import cv2
    interp = cv2.INTER_AREA if h < img.shape[0] else cv2.INTER_LINEAR
    return cv2.resize(img, (w, h), interpolation=interp)


# --------------------------------------------------------------------------------------------
# settings fingerprint (what must match to resume)


