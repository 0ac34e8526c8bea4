"""Every default of neuralpaint lives here, once, with everything else an option says about itself.

Frozen dataclasses, one per concern, each field one :func:`~neuralpaint.settings.spine.option`
line: its default, type, help, flag, choices and checks. From these declarations

- each class validates itself (``__post_init__``) and raises
  :class:`~neuralpaint.errors.InputError` naming the bad value, so every entry point gets the
  same checks and the same messages;
- the command line builds every command's options (:mod:`neuralpaint.cli.spine`) and hands the
  command settings objects;
- the Python API builds them from keyword arguments (:func:`build`, :func:`split`);
- sweeps check their TOML against the fields' types (:func:`~neuralpaint.settings.spine.value_kind`).

Modules: :mod:`.spine` (the declaration, checks, build/split), :mod:`.text` (command-line text
forms), :mod:`.image` (Model, Runtime, Image), :mod:`.video` (Video, Progress, Chunk),
:mod:`.fast` (Train, Fast), :mod:`.evaluation` (Eval, Compare, Report, FlowExport).

The flow-related constants (reliability thresholds, DIS presets, ...) live in the standalone
``flows`` package as keyword defaults of its functions; neuralpaint passes only what a user set.
"""

from __future__ import annotations

from dataclasses import field

from .evaluation import (COMPARE_DEFAULT_METHODS, COMPARE_FAST_STEPS, COMPARE_METHODS, COMPARE_PASSES,
                         COMPARE_TABLE_OFFSETS, EVAL_OFFSETS, CompareSettings, EvalSettings, FlowExportSettings,
                         ReportSettings)
from .fast import FAST_BLEND_AT, FastSettings, TrainSettings
from .image import (IMAGENET_MEAN, IMAGENET_STD, INITS, MAX_SEED, MAX_SIZE, OPTIMIZERS, POOLINGS, PRECISIONS,
                    VGG19_LAYERS, VGG19_URL, ImageSettings, ModelSettings, RuntimeSettings)
from .spine import Option, as_dict, as_options, build, changed, default, field_names, option, spec, split
from .video import (DEFAULT_FLOW, EXECUTORS, FLOW_METHODS, H264_CRF, H264_CRF_MAX, INIT_FILLS, MAX_FPS, VP9_CRF,
                    VP9_CRF_MAX, ChunkSettings, ProgressSettings, VideoSettings, refuse_image_cap)

SETTINGS_CLASSES: tuple[type, ...] = (ModelSettings, RuntimeSettings, ImageSettings, VideoSettings, TrainSettings,
                                      FastSettings)

__all__ = [
    "ProgressSettings", "ModelSettings", "RuntimeSettings", "ImageSettings", "VideoSettings", "ChunkSettings",
    "TrainSettings", "FastSettings", "EvalSettings", "CompareSettings", "ReportSettings", "FlowExportSettings",
    "SETTINGS_CLASSES", "refuse_image_cap",
    "build", "split", "default", "as_dict", "as_options", "changed", "field_names", "option", "spec", "Option",
    "field", "VGG19_URL", "VGG19_LAYERS", "IMAGENET_MEAN", "IMAGENET_STD", "OPTIMIZERS", "INITS", "POOLINGS",
    "PRECISIONS", "FLOW_METHODS", "DEFAULT_FLOW", "FAST_BLEND_AT", "INIT_FILLS", "EXECUTORS", "MAX_SIZE", "MAX_SEED",
    "MAX_FPS", "H264_CRF", "H264_CRF_MAX", "VP9_CRF", "VP9_CRF_MAX", "EVAL_OFFSETS", "COMPARE_METHODS",
    "COMPARE_DEFAULT_METHODS", "COMPARE_PASSES", "COMPARE_FAST_STEPS", "COMPARE_TABLE_OFFSETS",
]
