"""Evaluation and comparison (:mod:`neuralpaint.metrics`, :mod:`neuralpaint.compare`): the
defaults of ``evaluate`` and ``compare``, here so that the command line shows them without
importing torch. One :func:`~neuralpaint.settings.spine.option` line per field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Optional

from . import text
from .spine import check, option
from .video import DEFAULT_FLOW, FLOW_METHODS

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


@dataclass(frozen=True)
class EvalSettings:
    """``neuralpaint evaluate``: the warping error E_k of a stylised clip against its source."""

    PANEL: ClassVar[str] = "Measure"

    offsets: tuple[int, ...] = option(EVAL_OFFSETS, "Frame offsets k of E_k.", text=text.OFFSETS)
    flow: str = option(DEFAULT_FLOW, "Optical flow of the source: dis, farneback, deepflow or tvl1.",
                       choices=FLOW_METHODS, label="flow method")

    def __post_init__(self) -> None:
        check(self)


@dataclass(frozen=True)
class CompareSettings:
    """``neuralpaint compare``: which methods run, and how the comparison measures them."""

    PANEL: ClassVar[str] = "Compare"

    methods: str = option(",".join(COMPARE_DEFAULT_METHODS), f"Comma-separated, from: {', '.join(COMPARE_METHODS)}.")
    fast_model: Optional[str] = option(None, "A trained fast model (.pt) for fast/fast-blend \\[default: train one "
                                       "on the clip's frames].", text=text.PATH)
    fast_steps: int = option(COMPARE_FAST_STEPS, "Training steps of that network when no --fast-model is given.",
                             label="fast-steps", minimum=1)
    passes: int = option(COMPARE_PASSES, "Passes of the multipass method.")
    eval_offsets: tuple[int, ...] = option(EVAL_OFFSETS, "Frame offsets k of the warping error E_k.",
                                           text=text.OFFSETS)
    eval_flow: Optional[str] = option(None, "Optical flow of the metric \\[default: --flow].", choices=FLOW_METHODS,
                                      label="flow method")

    def __post_init__(self) -> None:
        check(self)


@dataclass(frozen=True)
class ReportSettings:
    """``neuralpaint report RUN_DIR``: what the page of a run folder measures."""

    PANEL: ClassVar[str] = "Measure"

    offsets: tuple[int, ...] = option((1,), "Frame offsets k of the warping error E_k.", text=text.OFFSETS)

    def __post_init__(self) -> None:
        check(self)


@dataclass(frozen=True)
class FlowExportSettings:
    """``neuralpaint flow``: the optical flow of a clip written as files (``flows.export_clip``)."""

    PANEL: ClassVar[str] = "Flow"

    #: Checked by ``flows`` (its backends are more than a render offers).
    method: str = option(DEFAULT_FLOW, "Optical flow: dis, farneback, deepflow or tvl1.")
    offsets: tuple[int, ...] = option((1,), "Frame offsets j: flows between frames t and t-j.", text=text.OFFSETS)
    size: Optional[int] = option(None, "Resize frames so the long side is SIZE pixels.")

    def __post_init__(self) -> None:
        check(self)
