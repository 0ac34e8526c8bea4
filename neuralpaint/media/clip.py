"""The :class:`Clip` a reader returns and a writer reproduces, what a probe finds
(:class:`ClipInfo`), and the timing rules shared by every writer.

- GIF/APNG/animated WebP -> video: constant frame rate ``1000 / duration`` when every frame has
  the same duration, else variable frame timing (millisecond timestamps, no B-frames) whose
  average rate is ``1000 / mean duration`` (AVI, which cannot hold that, gets the mean rate).
  Frame folders and still images have no timing: :data:`DEFAULT_FPS` unless ``fps=`` is given.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Optional, Union

import numpy as np

from ..errors import InputError
from ..settings import MAX_FPS

PathLike = Union[str, "os.PathLike[str]"]
Progress = Optional[Callable[[int, int], None]]

#: Frame rate of an output video whose source has no timing (frame folder, still image).
DEFAULT_FPS = Fraction(25)


@dataclass
class Clip:
    """Frames and timing of a clip (what :func:`write_clip` needs to reproduce its timing).

    ``frames``: uint8 HxWx3 RGB, all the same size, upright. ``kind``: ``gif`` (GIF, or any
    animated image with per-frame durations: APNG, animated WebP), ``video``, ``folder`` or
    ``image`` (a still, one frame). ``durations_ms``: per-frame durations (gif). ``loop``: GIF
    loop count (0 = forever, None = play once). ``fps``: exact frame rate (video).
    ``audio``: the source has an audio stream. ``names``: frame file names (folder).
    ``rotation``: clockwise degrees (0/90/180/270) applied to the decoded frames to make them
    upright. ``size_source``: (H, W) of the upright source before resizing. ``first``: 1-based
    source index of ``frames[0]``. ``time_range``: (start, end) seconds of the source's video
    timeline the frames cover (video; used to cut the audio to match). ``source_frames``: the
    number of frames in the source when reading reached its end, else None.
    """

    frames: list[np.ndarray]
    kind: str
    source: Path
    durations_ms: Optional[list[int]] = None
    loop: Optional[int] = None
    fps: Optional[Fraction] = None
    audio: bool = False
    names: Optional[list[str]] = None
    rotation: int = 0
    size_source: tuple[int, int] = (0, 0)
    first: int = 1
    time_range: Optional[tuple[float, float]] = None
    source_frames: Optional[int] = None

    @property
    def size(self) -> tuple[int, int]:
        """(H, W) of the frames."""
        return tuple(self.frames[0].shape[:2]) if self.frames else (0, 0)  # type: ignore[return-value]

    @property
    def duration_s(self) -> Optional[float]:
        """Total duration in seconds (None for a folder or a still: no timing)."""
        if self.durations_ms is not None:
            return sum(_playable_ms(d) for d in self.durations_ms) / 1000.0
        if self.fps:
            return float(len(self.frames) / self.fps)
        return None

    @property
    def output_fps(self) -> Fraction:
        """The constant frame rate a video made from this clip gets (see module notes)."""
        return _clip_rate(self)


@dataclass
class ClipInfo:
    """What :func:`probe_clip` finds without decoding every frame (sizes are upright)."""

    kind: str
    frame_count: int
    size: tuple[int, int]
    fps: Optional[Fraction] = None
    durations_ms: Optional[list[int]] = None
    loop: Optional[int] = None
    audio: bool = False
    rotation: int = 0
    names: Optional[list[str]] = field(default=None, repr=False)


@dataclass(frozen=True)
class Encoding:
    """What a writer is asked for beside the frames and the source clip: an ``rate`` overriding
    the source's timing, whether to carry the source's ``audio``, the video ``crf``."""

    rate: Optional[Fraction] = None
    audio: bool = True
    crf: Optional[int] = None


# -- timing -----------------------------------------------------------------------------------

def _playable_ms(d: int) -> int:
    """How long browsers show a GIF frame: 0 and 10 ms are played as 100 ms."""
    return 100 if d <= 10 else int(d)


def _clip_durations(clip: Optional[Clip], n: int) -> Optional[list[int]]:
    if clip is not None and clip.durations_ms is not None and len(clip.durations_ms) == n:
        return [max(0, int(d)) for d in clip.durations_ms]
    return None


def _clip_rate(clip: Optional[Clip]) -> Fraction:
    if clip is not None and clip.fps:
        return Fraction(clip.fps)
    if clip is not None and clip.durations_ms:
        total = sum(_playable_ms(d) for d in clip.durations_ms)
        if total > 0:
            return Fraction(1000 * len(clip.durations_ms), total)
    return DEFAULT_FPS


def _as_fraction(fps: Any) -> Fraction:
    try:
        r = Fraction(fps) if not isinstance(fps, float) else Fraction(fps).limit_denominator(1001)
    except (TypeError, ValueError):
        raise InputError(f"fps must be a positive number, got {fps!r}") from None
    if not (r > 0) or not math.isfinite(float(r)) or r > MAX_FPS:
        raise InputError(f"fps must be a positive number up to {MAX_FPS}, got {fps!r}")
    return r


def _rate_text(r: Fraction) -> str:
    return f"{r.numerator}/{r.denominator} ({float(r):.4g})" if r.denominator != 1 else str(r.numerator)
