"""Consecutive frame pairs for training the coherent network (:mod:`.coherent_train`).

Two sources, mixed:

- real footage: a clip (video, GIF) or a folder of frames, read at a long side that keeps the
  short side at least the crop size; for each pair (t−1, t) the classical flow (``flows``,
  the method the online mode uses) backward t→t−1 and forward, and its reliability ``c``;
- synthetic clips (:func:`flows.synthetic.make_clip`, the generator behind
  ``scripts/make_clips.py``): the same estimated flow and ``c`` (what the mask network sees at
  inference), plus the exact flow and visibility, which give the temporal loss exact
  targets and the mask network a ground truth: reuse where the pixel was visible in frame t−1
  *and* the estimated flow lands within ``GOOD_FLOW_PX`` of the exact one.

A sample is a random ``size``² crop of a pair (the same window in every array) with a random
horizontal flip (flows' dx negated). The sampling of step s depends only on (seed, s).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

import numpy as np
import torch

import flows

from .. import media
from ..errors import InputError

#: An estimated flow within this many pixels of the exact one counts as right (mask target).
GOOD_FLOW_PX = 1.0
#: Synthetic clips: frames per clip, and the motions they cycle through.
SYNTHETIC_FRAMES = 6
SYNTHETIC_MOTIONS = ("mixed", "objects", "pan", "zoom")


@dataclass
class Pair:
    """One frame pair at training resolution. Arrays HxW(xC), float32 unless noted."""

    prev: np.ndarray  #: uint8 HxWx3, frame t−1
    cur: np.ndarray  #: uint8 HxWx3, frame t
    flow: np.ndarray  #: estimated backward flow t→t−1 (what the network composes with)
    c: np.ndarray  #: its reliability in [0,1]
    target_flow: np.ndarray  #: flow of the temporal loss (exact for synthetic, else = flow)
    valid: np.ndarray  #: weights of the temporal loss (exact visibility, else = c)
    mask_target: Optional[np.ndarray] = None  #: ground-truth reuse mask (synthetic only)


@dataclass
class PairBatch:
    prev: torch.Tensor  #: (B,3,S,S)
    cur: torch.Tensor
    flow: torch.Tensor  #: (B,S,S,2)
    c: torch.Tensor  #: (B,1,S,S)
    target_flow: torch.Tensor
    valid: torch.Tensor  #: (B,1,S,S)
    mask_target: torch.Tensor  #: (B,1,S,S), 0 where unknown
    has_mask: torch.Tensor  #: (B,1,1,1): 1 where mask_target is ground truth


def estimated_pair(prev: np.ndarray, cur: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
    """(backward flow t→t−1, reliability) of two uint8 frames, as the online mode computes them."""
    backward = flows.estimate(cur, prev, method=method)
    forward = flows.estimate(prev, cur, method=method)
    return backward, flows.reliability(backward, forward)


def real_pairs(frames: Sequence[np.ndarray], method: str) -> list[Pair]:
    out = []
    for t in range(1, len(frames)):
        fl, c = estimated_pair(frames[t - 1], frames[t], method)
        out.append(Pair(frames[t - 1], frames[t], fl, c, fl, c))
    return out


def synthetic_pairs(count: int, height: int, width: int, method: str, seed: int) -> list[Pair]:
    out = []
    for i in range(count):
        clip = flows.synthetic.make_clip(n_frames=SYNTHETIC_FRAMES, height=height, width=width,
                                         motion=SYNTHETIC_MOTIONS[i % len(SYNTHETIC_MOTIONS)], seed=seed + i)
        for t in range(1, clip.n_frames):
            fl, c = estimated_pair(clip.frames[t - 1], clip.frames[t], method)
            exact = clip.backward_flow(t).astype(np.float32)
            visible = clip.valid_mask(t).astype(np.float32)
            good = np.linalg.norm(fl - exact, axis=-1) <= GOOD_FLOW_PX
            out.append(Pair(clip.frames[t - 1], clip.frames[t], fl, c, exact, visible,
                            (visible * good).astype(np.float32)))
    return out


def read_frames(data: Union[str, os.PathLike], size: int) -> list[np.ndarray]:
    """Frames of a clip or frame folder, resized so that the short side is ``size`` (never up)."""
    path = Path(data)
    if not path.exists():
        raise InputError(f"training data {str(path)!r} does not exist (give a clip or a folder of frames)")
    clip = media.read_clip(path)
    frames = [_short_side(f, size) for f in clip.frames]
    if len(frames) < 2:
        raise InputError(f"training data {str(path)!r} has {len(frames)} frame(s); --coherent needs a clip "
                         f"or a folder of at least 2 consecutive frames")
    if min(frames[0].shape[:2]) < size:
        raise InputError(f"training data {str(path)!r} is {frames[0].shape[1]}x{frames[0].shape[0]}, smaller "
                         f"than the crop --size {size}")
    return frames


def _short_side(img: np.ndarray, size: int) -> np.ndarray:
    h, w = img.shape[:2]
    if min(h, w) <= size:
        return img
    return media.resize_long_side(img, int(round(max(h, w) * size / min(h, w))))


class PairData:
    """Random crops of frame pairs (see the module docstring)."""

    def __init__(self, pairs: Sequence[Pair], size: int):
        if not pairs:
            raise InputError("no frame pairs to train on")
        self.pairs = list(pairs)
        self.size = size

    @classmethod
    def build(cls, data: Union[str, os.PathLike], size: int, method: str, synthetic: int, seed: int,
              progress: Optional[Callable[[int, int], None]] = None) -> "PairData":
        frames = read_frames(data, size)
        pairs = real_pairs(frames, method)
        if progress is not None:
            progress(1, 2)
        h, w = frames[0].shape[:2]
        pairs += synthetic_pairs(synthetic, h, w, method, seed)
        if progress is not None:
            progress(2, 2)
        return cls(pairs, size)

    def __len__(self) -> int:
        return len(self.pairs)

    def batch(self, rng: np.random.Generator, n: int, device: torch.device) -> PairBatch:
        items = [self._crop(self.pairs[int(i)], rng) for i in rng.integers(0, len(self.pairs), size=n)]

        def stack(k: int, image: bool = False) -> torch.Tensor:
            arrs = [it[k] for it in items]
            if image:
                return torch.cat([media.image_to_tensor(a, device) for a in arrs], dim=0)
            t = torch.from_numpy(np.stack(arrs)).to(device)
            return t if t.dim() == 4 else t.unsqueeze(1)

        has = torch.tensor([float(it[7]) for it in items], device=device).view(-1, 1, 1, 1)
        return PairBatch(stack(0, True), stack(1, True), stack(2), stack(3), stack(4), stack(5), stack(6), has)

    def _crop(self, p: Pair, rng: np.random.Generator) -> tuple:
        s = self.size
        h, w = p.cur.shape[:2]
        y = int(rng.integers(0, h - s + 1))
        x = int(rng.integers(0, w - s + 1))
        flip = bool(rng.random() < 0.5)
        mask = p.mask_target if p.mask_target is not None else np.zeros((h, w), np.float32)
        arrs = [p.prev, p.cur, p.flow, p.c, p.target_flow, p.valid, mask]
        out = [a[y:y + s, x:x + s] for a in arrs]
        if flip:
            out = [a[:, ::-1] for a in out]
            for k in (2, 4):
                out[k] = out[k] * np.array([-1.0, 1.0], np.float32)
        out = [np.ascontiguousarray(a, dtype=a.dtype if a.dtype == np.uint8 else np.float32) for a in out]
        return (*out, p.mask_target is not None)


__all__ = ["GOOD_FLOW_PX", "Pair", "PairBatch", "PairData", "estimated_pair", "read_frames", "real_pairs",
           "synthetic_pairs"]
