"""Progress events: small dataclasses the core sends through a ``callback(event)``.

The core never prints; the CLI renders these with rich progress bars, sweeps log them, tests
collect them. Following crowsonkb/style-transfer-pytorch's ``STIterate``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional


@dataclass(frozen=True)
class IterationEvent:
    """An optimisation iteration of one image (or one video frame)."""

    iteration: int  #: 1-based, within the current scale
    max_iters: int  #: the cap of the current scale
    loss: float  #: total weighted loss
    losses: dict[str, float]  #: weighted parts: content, style, tv, temporal, ...
    elapsed: float  #: seconds since this image's optimisation started
    scale: int  #: 0-based index of the current scale
    scales: int  #: number of scales
    size: tuple[int, int]  #: (H, W) of the current scale
    #: ``snapshot()`` returns the current image, (1,3,H,W) in [0,1] at the output size (colours
    #: recombined); call it only while handling the event (``--save-every``, the preview).
    snapshot: Optional[Callable[[], Any]] = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class ScaleDone:
    """A scale of coarse-to-fine finished."""

    scale: int
    scales: int
    iterations: int
    stop_reason: str  #: "converged" | "max_iters" | "nonfinite"
    loss: float


@dataclass(frozen=True)
class FrameStarted:
    frame: int  #: 0-based index within the rendered range
    frames: int
    pass_index: int  #: 0-based
    passes: int
    max_iters: int


@dataclass(frozen=True)
class FrameDone:
    frame: int
    frames: int
    pass_index: int
    passes: int
    iterations: int
    loss: float
    stop_reason: str
    seconds: float
    resumed: bool = False  #: True when the frame came from the run folder instead of being computed


@dataclass(frozen=True)
class StageEvent:
    """A coarse stage of a long job: reading, flow, encoding, training, ... with a count."""

    stage: str
    done: int
    total: int
    message: str = ""


@dataclass(frozen=True)
class Notice:
    """Something the user should read (e.g. untrained weights); the CLI prints it once."""

    message: str
    level: str = "warning"


#: The one callback type of the project: every entry point that reports progress takes a
#: ``callback: Callback = None`` (None: nobody listens) and sends its events through :func:`emit`.
Callback = Optional[Callable[[Any], None]]


def emit(callback: Callback, event: Any) -> None:
    if callback is not None:
        callback(event)


__all__ = ["IterationEvent", "ScaleDone", "FrameStarted", "FrameDone", "StageEvent", "Notice",
           "Callback", "emit", "field"]
