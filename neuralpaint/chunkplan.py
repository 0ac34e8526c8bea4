"""The plan of a chunked render and the join of its chunks: pure functions on frame indices and
frames (no rendering). Why chunks are planned this way: :mod:`neuralpaint.chunks`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from .errors import InputError
from .settings import ChunkSettings, default

SEAMS = ("keyframe", "crossfade")
#: Frames each chain runs past a meeting point (the cross-fade is 2·overlap frames long).
DEFAULT_OVERLAP: int = default(ChunkSettings, "overlap")
#: Frames that settle a shared keyframe before its two chains start (k+1, k, k−1, k).
DEFAULT_SETTLE = 4

@dataclass
class Chunk:
    """One render: ``frames`` (0-based source indices) in render order. The first ``warmup``
    entries only settle the shared keyframe (k, k+1, k, k−1, ...) and are not output; from
    ``frames[warmup]`` on, each frame appears once."""

    index: int
    frames: list[int]
    direction: str  #: "forward" | "backward"
    owns: tuple[int, int]  #: [first, last] source frames this chunk is the main source of
    warmup: int = 0

    @property
    def rendered(self) -> list[int]:
        return self.frames[self.warmup:]

    @property
    def first(self) -> int:
        return min(self.rendered)

    @property
    def last(self) -> int:
        return max(self.rendered)

    def position(self, t: int) -> int:
        """0-based index in the render order of the output frame t."""
        return self.warmup + self.rendered.index(t)

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "frames": [self.first + 1, self.last + 1], "direction": self.direction,
                "owns": [self.owns[0] + 1, self.owns[1] + 1], "count": len(self.frames), "warmup": self.warmup}


@dataclass
class Seam:
    """Where two chunks join: ``kind`` "keyframe" (shared start, nothing blended) or "blend"
    (cross-fade over frames ``blend`` = [first, last], 0-based; empty = hard cut)."""

    left: int
    right: int
    kind: str
    at: int  #: first frame owned by the right chunk
    blend: tuple[int, int] = (0, -1)

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"chunks": [self.left + 1, self.right + 1], "kind": self.kind, "at": self.at + 1}
        if self.kind == "blend":
            d["blend"] = [self.blend[0] + 1, self.blend[1] + 1] if self.blend[1] >= self.blend[0] else []
        return d


def boundaries(n: int, chunks: int) -> list[int]:
    """b_0 = 0 < b_1 < ... < b_N = n, chunk i owning [b_i, b_{i+1})."""
    return [int(round(i * n / chunks)) for i in range(chunks + 1)]


def settle_frames(k: int, settle: int, n: int) -> list[int]:
    """The shared start of both chains of keyframe k: k, then ``settle`` frames going
    k+1, k, k−1, k, k+1, ... (ending on k), so both chains start from a keyframe that has been
    through the warp-and-optimise cycle of its neighbours like every other frame of a chain."""
    pattern = [k + 1, k, k - 1, k]
    out = [k] + [pattern[i % 4] for i in range(settle)]
    return [t for t in out if 0 <= t < n]


def plan(n: int, chunks: int, overlap: int, seam: str, settle: int = 0) -> tuple[list[Chunk], list[Seam]]:
    """The chunks (their frames in render order) and seams for an n-frame clip."""
    if isinstance(settle, bool) or not isinstance(settle, int) or settle < 0 or settle % 2:
        raise InputError(f"settle must be an even number >= 0, got {settle!r}")
    if chunks < 1:
        raise InputError(f"--chunks must be >= 1, got {chunks}")
    if overlap < 0:
        raise InputError(f"--overlap must be >= 0, got {overlap}")
    if seam not in SEAMS:
        raise InputError(f"unknown seam method {seam!r}; choose one of {', '.join(SEAMS)}")
    if n < 2 * chunks:
        raise InputError(f"--chunks {chunks} needs at least {2 * chunks} frames, the clip has {n}")
    b = boundaries(n, chunks)
    if chunks == 1:
        return [Chunk(0, list(range(n)), "forward", (0, n - 1))], []
    owned = [(b[i], b[i + 1] - 1) for i in range(chunks)]
    length = [hi - lo + 1 for lo, hi in owned]
    seams: list[Seam] = []
    for i in range(chunks - 1):
        at = b[i + 1]
        if seam == "keyframe" and i % 2 == 0:
            seams.append(Seam(i, i + 1, "keyframe", at))
            continue
        # The cross-fade window [at-k, at+k-1] must stay clear of the chunks' other seams: the
        # keyframe frame (keyframe mode), or the neighbouring window (crossfade: 2k <= length).
        if seam == "keyframe":
            k = min(overlap, length[i] - 1, length[i + 1] - 1)
        else:
            k = min(overlap, length[i] // 2 if i > 0 else length[i], length[i + 1] // 2 if i + 1 < chunks - 1
                    else length[i + 1])
        seams.append(Seam(i, i + 1, "blend", at, (at - k, at + k - 1)))
    out: list[Chunk] = []
    for i, (lo, hi) in enumerate(owned):
        left = seams[i - 1] if i > 0 else None
        right = seams[i] if i < chunks - 1 else None
        first = left.blend[0] if left is not None and left.kind == "blend" and left.blend[1] >= left.blend[0] else lo
        last = (right.blend[1] if right is not None and right.kind == "blend" and right.blend[1] >= right.blend[0]
                else hi)
        if seam == "keyframe" and i % 2 == 0:
            # backward from the next chunk's first frame (the shared keyframe), or from the clip's
            # end (an odd last chunk: nothing shared, nothing to settle)
            if i + 1 < chunks:
                pre = settle_frames(b[i + 1], settle, n)
            else:
                pre = [n - 1]
            out.append(Chunk(i, pre[:-1] + list(range(pre[-1], first - 1, -1)), "backward", (lo, hi),
                             warmup=len(pre) - 1))
        elif seam == "keyframe":
            pre = settle_frames(lo, settle, n)
            out.append(Chunk(i, pre[:-1] + list(range(lo, last + 1)), "forward", (lo, hi), warmup=len(pre) - 1))
        else:
            out.append(Chunk(i, list(range(first, last + 1)), "forward", (lo, hi)))
    return out, seams


def blend_weight(t: int, lo: int, hi: int) -> float:
    """Weight of the right chunk at frame t of a cross-fade over [lo, hi]: (t−lo+1)/(W+1)."""
    return (t - lo + 1) / (hi - lo + 2)


def assemble(n: int, chunks: Sequence[Chunk], seams: Sequence[Seam],
             frame_of: Callable[[int, int], np.ndarray]) -> tuple[list[np.ndarray], list[str]]:
    """Output frames from the chunks' frames (``frame_of(chunk, t)``) by the seam rules."""
    owner = [0] * n
    for c in chunks:
        for t in range(c.owns[0], c.owns[1] + 1):
            owner[t] = c.index
    frames: list[np.ndarray] = []
    prov: list[str] = []
    blends = {s.left: s for s in seams if s.kind == "blend" and s.blend[1] >= s.blend[0]}
    for t in range(n):
        s = next((s for s in blends.values() if s.blend[0] <= t <= s.blend[1]), None)
        if s is not None:
            a = blend_weight(t, *s.blend)
            left = frame_of(s.left, t).astype(np.float32)
            right = frame_of(s.right, t).astype(np.float32)
            frames.append(np.clip(np.rint((1 - a) * left + a * right), 0, 255).astype(np.uint8))
            prov.append(f"blend {s.left + 1}-{s.right + 1} ({a:.2f})")
        else:
            frames.append(frame_of(owner[t], t))
            prov.append(f"chunk {owner[t] + 1}")
    return frames, prov


