"""Compare the video methods on one clip: time, temporal stability and losses, one table + a page.

Every method runs on the same clip with the same settings; only what names the method differs:

============  =========================================================================
naive         every frame on its own: ``temporal_init=False, short_term=False``
init          temporal init only (previous result warped by the flow), no temporal loss
short         temporal init + short-term temporal loss (offset 1): the ``video`` defaults
long          + long-term temporal loss over ``offsets`` (``--offsets``, default 1,2,4)
multipass     ``short`` with ``passes`` passes (default :data:`COMPARE_PASSES` = 3; the
              reference's 15 are too slow for a comparison), alternating direction
fast          the feed-forward network (Johnson et al.), per frame; trained on the clip's
              own frames for ``fast_steps`` steps (default :data:`FAST_STEPS`) unless a
              model file is given
fast-blend    the same network with the flow-guided composition (``video --fast-blend``)
coherent      the coherent online network (``train --coherent``, Chen et al. 2017) given as
              ``coherent_model``; its learned masks go to ``DIR/coherent/masks/``. Without a
              ``fast_model``, fast and fast-blend then use its own stylisation network, so the
              three fast rows differ only in how the previous frame is used
============  =========================================================================

Layout of the output folder ``DIR`` (re-running the same command resumes every method)::

    DIR/compare.json            the table and every measurement (schema below)
    DIR/report.html             table, plots, frames side by side; images in report_files/
    DIR/<method>/<output>       each method's clip (GIF for a GIF input, folder for a folder,
                                else MP4)
    DIR/<method>/work/          its run folder (resumable; see neuralpaint.runstate)
    DIR/fast/model.pt           the fast network trained here (when no model is given)
    DIR/flows/                  flows of the source used by the metric (computed once)

Measurements, the same for every method:

- seconds/frame: for the optimisation methods the optimisation, flow-wait and I/O seconds the
  run folder records per frame (so a resumed run keeps its real cost), summed over passes;
  for ``fast``, the inference time (its training time is reported apart as ``train_seconds``).
- E_k: :mod:`neuralpaint.metrics` warping error with flows of the source frames (``eval_flow``,
  default the run's ``flow``), from the lossless frames (run folder PNGs / network output).
  Using the same flow method as the runs favours the flow-based methods a little: they were
  optimised against exactly those warps; pass another ``eval_flow`` to avoid that.
- style / content loss: :class:`neuralpaint.metrics.LossMeter` with the run's VGG, layers and
  weights (weighted like the run's objective), mean over frames.
- the measures E_k cannot see (:mod:`neuralpaint.quality`, one pass for every method with the
  same flows and the same loss network): the source clip's own E_k and the ratio, the error
  inside disoccluded pixels, the unstylised share, the sharpness drift and the style-loss drift.
  The table shows them at k = 1 and for the last frame (:data:`QUALITY_COLUMNS`).

``compare.json``::

    {"format": "neuralpaint-compare", "version": 1, "input": str, "style": str,
     "frames": int, "size": [H, W], "settings": {...}, "eval": {"flow": str, "offsets": [int]},
     "columns": ["method", "seconds_per_frame", "E_1", "E_4", "E_16", "style_loss", "content_loss",
                 "E_1_vs_source", "disoccluded_E_1", "unstylised_last", "sharpness_last",
                 "style_drift_mean"],
     "table": [{column: value | null}],
     "source": {"E": {"<k>": float|null}, "per_frame": {...}},    # the source clip's own E_k
     "methods": {name: {"seconds_per_frame", "seconds", "iterations", "train_seconds",
                        "E": {"<k>": float|null}, "per_frame": {"<k>": [float|null]|null},
                        "style_loss", "content_loss", "output", "work_dir", "options",
                        "records": [per-frame record],
                        "quality": {"ratio", "disoccluded", "unstylised", "sharpness", "style",
                                    "flags"}}}}   # QualityReport.to_json() less E/per_frame/frames/source
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Optional, Sequence, Union

import numpy as np

from . import atomic, guard, media, settings
from .errors import InputError
from .events import Callback, StageEvent, emit
from .metrics import OFFSETS, LossMeter, SourceFlows, check_offsets
from .quality import UNSTYLISED_DELTAS, quality_reports
from .runstate import frame_name
from .settings import ImageSettings, ModelSettings, RuntimeSettings, VideoSettings
from .vgg import resolve_model

# The defaults live in settings (the command line reads them without importing this module).
from .settings import COMPARE_DEFAULT_METHODS as DEFAULT_METHODS  # noqa: E402
from .settings import COMPARE_FAST_STEPS as FAST_STEPS  # noqa: E402
from .settings import COMPARE_METHODS as METHODS  # noqa: E402
from .settings import COMPARE_PASSES  # noqa: E402,F401
from .settings import COMPARE_TABLE_OFFSETS as TABLE_OFFSETS  # noqa: E402
#: Crops per training step of that network.
FAST_BATCH = 2

_PER_METHOD = ("temporal_init", "short_term", "long_term", "passes")


def method_options(name: str, passes: int = COMPARE_PASSES) -> dict[str, Any]:
    """The video settings that define an optimisation method."""
    table = {
        "naive": dict(temporal_init=False, short_term=False, long_term=False, passes=1),
        "init": dict(temporal_init=True, short_term=False, long_term=False, passes=1),
        "short": dict(temporal_init=True, short_term=True, long_term=False, passes=1),
        "long": dict(temporal_init=True, short_term=True, long_term=True, passes=1),
        "multipass": dict(temporal_init=True, short_term=True, long_term=False, passes=passes),
    }
    if name not in table:
        raise InputError(f"{name!r} is not an optimisation method; those are {', '.join(table)}")
    return table[name]


def parse_methods(text: Union[str, Sequence[str]]) -> tuple[str, ...]:
    """``"naive,short"`` or a list -> validated names, order kept, no repeats."""
    names = [p.strip() for p in text.split(",")] if isinstance(text, str) else [str(p).strip() for p in text]
    names = [n for n in names if n]
    if not names:
        raise InputError(f"--methods needs at least one of {', '.join(METHODS)}, got {text!r}")
    for n in names:
        if n not in METHODS:
            raise InputError(f"unknown method {n!r} in --methods; choose from {', '.join(METHODS)}")
    if len(set(names)) != len(names):
        raise InputError(f"--methods names a method twice: {text!r}")
    return tuple(names)


def default_out_dir(input_path: Path) -> Path:
    name = input_path.name.rstrip("/") if input_path.is_dir() else input_path.stem
    return input_path.parent / f"{name}_compare"


def _output_target(input_path: Path, method_dir: Path) -> str:
    """The output of a method: GIF for a GIF, a folder of PNGs (``output/``) for a folder, else MP4."""
    if input_path.is_dir():
        return os.fspath(method_dir / "output") + "/"
    return os.fspath(method_dir / f"{input_path.stem}{'.gif' if input_path.suffix.lower() == '.gif' else '.mp4'}")


from .compare_results import (COLUMNS, FORMAT, QUALITY_COLUMNS, VERSION, CompareResult,  # noqa: E402,F401
                              MethodResult, _clean, quality_row)


# ---------------------------------------------------------------------------------------------
# running the methods


def _run_optimisation(name: str, input_path: Path, style: Path, method_dir: Path,
                      base_options: dict[str, Any], passes: int, restart: bool,
                      callback: Callback) -> MethodResult:
    from .video import stylize_video

    opts = dict(base_options)
    opts.update(method_options(name, passes))
    work = method_dir / "work"
    res = stylize_video(input_path, [style], _output_target(input_path, method_dir), work_dir=work, restart=restart,
                        callback=callback, **opts)
    frames = [media.load_image(work / "frames" / frame_name(t)) for t in range(res.frames)]
    seconds = sum(r.seconds + r.flow_seconds + r.io_seconds for r in res.records)
    its = sum(r.iterations for r in res.records)
    return MethodResult(name=name, frames=frames, seconds=seconds, iterations=its, output=res.output,
                        work_dir=work, options=method_options(name, passes), records=list(res.records))


def _train_fast(style: Path, frames: list[np.ndarray], out_dir: Path, steps: int, image_s: ImageSettings,
                model_s: ModelSettings, runtime_s: RuntimeSettings, restart: bool,
                callback: Callback) -> tuple[Path, Optional[float]]:
    from .fast.train import train
    from .settings import TrainSettings

    h, w = frames[0].shape[:2]
    crop = max(16, min(256, min(h, w)) // 4 * 4)
    ts = TrainSettings(steps=steps, size=crop, batch=FAST_BATCH, style_size=max(16, image_s.size),
                       seed=image_s.seed, checkpoint_every=max(1, min(steps, 500)), sample_every=0)
    path = out_dir / "fast" / "model.pt"
    path.parent.mkdir(parents=True, exist_ok=True)
    info = out_dir / "fast" / "train.json"
    emit(callback, StageEvent("training fast network", 0, 1, f"{steps} steps on the clip's frames"))
    res = train(style, frames, path, ts, callback=callback, resume=not restart, model=model_s, runtime=runtime_s)
    seconds: Optional[float]
    if res.step > res.start_step:
        seconds = res.seconds
        previous = _read_json(info).get("seconds") if res.start_step else None
        if isinstance(previous, (int, float)):
            seconds += float(previous)
        atomic.write_text(info, json.dumps({"seconds": seconds, "steps": res.step}))
    else:
        prev = _read_json(info).get("seconds")
        seconds = float(prev) if isinstance(prev, (int, float)) else None
    emit(callback, StageEvent("training fast network", 1, 1, f"{res.step} steps"))
    return path, seconds


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _run_fast(name: str, input_path: Path, model: Union[Path, Any], clip: media.Clip, method_dir: Path,
              video_s: VideoSettings, device: Any, train_seconds: Optional[float],
              callback: Callback) -> MethodResult:
    from .fast.infer import load_model, stylize_video_frames

    blend = name == "fast-blend"
    emit(callback, StageEvent(name, 0, len(clip.frames)))
    t0 = time.perf_counter()
    # loaded as the per-frame network even from a coherent model's file (whose path alone would run online)
    net = load_model(model, device) if isinstance(model, (str, os.PathLike)) else model
    frames = stylize_video_frames(net, clip.frames, blend=blend, method=video_s.flow, device=device,
                                  callback=callback)
    seconds = time.perf_counter() - t0
    target = _output_target(input_path, method_dir)
    out = Path(media.write_clip(target, frames, clip, audio=video_s.audio))
    return MethodResult(name=name, frames=frames, seconds=seconds, iterations=0, output=out, work_dir=None,
                        options={"blend": blend}, train_seconds=train_seconds)


def _run_coherent(input_path: Path, model: Path, clip: media.Clip, method_dir: Path, video_s: VideoSettings,
                  device: Any, callback: Callback) -> MethodResult:
    from .fast.online import stylize_clip_online

    emit(callback, StageEvent("coherent", 0, len(clip.frames)))
    t0 = time.perf_counter()
    frames, _ = stylize_clip_online(model, clip.frames, method=video_s.flow, device=device, callback=callback,
                                    mask_dir=method_dir / "masks")
    seconds = time.perf_counter() - t0
    out = Path(media.write_clip(_output_target(input_path, method_dir), frames, clip, audio=video_s.audio))
    return MethodResult(name="coherent", frames=frames, seconds=seconds, iterations=0, output=out, work_dir=None,
                        options={"online": True, "masks": "masks/"})


def _check_coherent_model(path: Optional[Path], needed: bool) -> None:
    from .fast.checkpoint import is_coherent, load_checkpoint

    if path is None:
        if needed:
            raise InputError("method coherent needs --coherent-model (a model of `neuralpaint train --coherent`)")
        return
    if not path.is_file():
        raise InputError(f"coherent model {str(path)!r} does not exist")
    if not is_coherent(load_checkpoint(path)):
        raise InputError(f"{str(path)!r} is a per-frame model; --coherent-model needs one of "
                         f"`neuralpaint train --coherent`")


def compare(input: Union[str, Path], style: Union[str, Path, None] = None, out_dir: Union[str, Path, None] = None,
            *, methods: Union[str, Sequence[str]] = DEFAULT_METHODS, fast_model: Union[str, Path, None] = None,
            coherent_model: Union[str, Path, None] = None,
            fast_steps: int = FAST_STEPS, eval_offsets: Sequence[int] = OFFSETS, eval_flow: Optional[str] = None,
            restart: bool = False, write_report: bool = True, callback: Callback = None,
            **options: Any) -> CompareResult:
    """Run ``methods`` on the clip ``input`` with one ``style`` and the same ``options`` (fields of
    the settings classes, e.g. ``size=64, later_iters=20, weights="random"``; ``passes`` is the number
    of passes of ``multipass``), measure them and write ``compare.json`` and ``report.html``
    into ``out_dir`` (default ``<input>_compare`` beside the input)."""
    roles = [(input, "input"), (style, "style image"), (fast_model, "fast model"), (coherent_model, "coherent model"),
             (options.get("weights"), "weights file")]
    with guard.reading(*roles):
        return _compare(input, style, out_dir, methods=methods, fast_model=fast_model, coherent_model=coherent_model,
                        fast_steps=fast_steps,
                        eval_offsets=eval_offsets, eval_flow=eval_flow, restart=restart,
                        write_report=write_report, callback=callback, **options)


def _compare(input: Union[str, Path], style: Union[str, Path, None], out_dir: Union[str, Path, None],
             *, methods: Union[str, Sequence[str]], fast_model: Union[str, Path, None],
             coherent_model: Union[str, Path, None], fast_steps: int,
             eval_offsets: Sequence[int], eval_flow: Optional[str], restart: bool, write_report: bool,
             callback: Callback, **options: Any) -> CompareResult:
    input_path = Path(input)
    if not input_path.exists():
        raise InputError(f"input {str(input_path)!r} does not exist")
    style_path = Path(style) if style is not None else media.default_style_path()
    if not style_path.exists():
        raise InputError(f"style image {str(style_path)!r} does not exist")
    if style_path.is_dir():
        raise InputError(f"style image {str(style_path)!r} is a directory, expected an image file")
    names = parse_methods(methods)
    eval_offsets = check_offsets(eval_offsets, "--eval-offsets")
    if isinstance(fast_steps, bool) or not isinstance(fast_steps, int) or fast_steps < 1:
        raise InputError(f"fast steps must be a positive integer, got {fast_steps!r}")
    for key in _PER_METHOD[:3]:
        if key in options:
            raise InputError(f"compare sets {key} per method; do not pass it (methods: {', '.join(METHODS)})")
    opts = dict(options)
    passes = opts.pop("passes", None)
    passes = COMPARE_PASSES if passes is None else passes
    if "multipass" in names and (isinstance(passes, bool) or not isinstance(passes, int) or passes < 2):
        raise InputError(f"multipass needs --passes of at least 2, got {passes!r}")
    image_s, video_s, model_s, runtime_s = settings.split(
        opts, ImageSettings, VideoSettings, ModelSettings, RuntimeSettings)
    model_s = resolve_model(model_s, callback)
    opts["weights"] = model_s.weights  # every method on the same, concrete features
    eval_flow = eval_flow or video_s.flow
    if eval_flow not in settings.FLOW_METHODS:
        raise InputError(f"unknown flow method {eval_flow!r}; choose one of {', '.join(settings.FLOW_METHODS)}")
    out = Path(out_dir) if out_dir is not None else default_out_dir(input_path)
    if out.exists() and not out.is_dir():
        raise InputError(f"output folder {str(out)!r} exists and is not a folder")
    fast_path = Path(fast_model) if fast_model is not None else None
    if fast_path is not None:
        if not fast_path.is_file():
            raise InputError(f"fast model {str(fast_path)!r} does not exist")
        from .fast.checkpoint import load_checkpoint
        load_checkpoint(fast_path)  # refused here, before any folder exists, not after other methods ran
    coherent_path = Path(coherent_model) if coherent_model is not None else None
    _check_coherent_model(coherent_path, "coherent" in names)

    from .device import resolve_device
    device = resolve_device(runtime_s.device)
    emit(callback, StageEvent("reading", 0, 1, str(input_path)))
    clip = media.read_clip(input_path, size=image_s.size, start=video_s.start, end=video_s.end,
                           upscale=image_s.upscale)
    source = clip.frames
    if not source:
        raise InputError(f"input {str(input_path)!r} has no frames")
    emit(callback, StageEvent("reading", 1, 1, f"{len(source)} frames {source[0].shape[1]}x{source[0].shape[0]}"))

    # The loss network first (it reads the style and the weights, so both are checked before the
    # folder exists); it also warms the convolutions up at the working size, so that the first
    # method does not pay the one-time setup cost (oneDNN primitives, allocations) alone.
    meter = LossMeter(style_path, model_s, image_s, device)
    meter.warm_up(source[0])
    guard.check_write(out)
    out.mkdir(parents=True, exist_ok=True)

    results: dict[str, MethodResult] = {}
    model_for_fast: Any = fast_path if fast_path is not None else coherent_path
    train_seconds: Optional[float] = None
    for i, name in enumerate(names):
        emit(callback, StageEvent("methods", i, len(names), name))
        method_dir = out / name
        method_dir.mkdir(parents=True, exist_ok=True)
        if name in ("fast", "fast-blend"):
            if model_for_fast is None:
                model_for_fast, train_seconds = _train_fast(style_path, source, out, fast_steps, image_s, model_s,
                                                            runtime_s, restart, callback)
            results[name] = _run_fast(name, input_path, model_for_fast, clip, method_dir, video_s, device,
                                      train_seconds, callback)
        elif name == "coherent":
            assert coherent_path is not None
            results[name] = _run_coherent(input_path, coherent_path, clip, method_dir, video_s, device, callback)
        else:
            results[name] = _run_optimisation(name, input_path, style_path, method_dir, opts,
                                              passes, restart, callback)
        emit(callback, StageEvent("methods", i + 1, len(names), name))

    # one pass over the source flows for every method
    sf = SourceFlows.estimated(source, eval_flow, cache_dir=out / "flows")
    for name, r in results.items():
        if len(r.frames) != len(source) or r.frames[0].shape != source[0].shape:
            raise InputError(f"method {name} produced {len(r.frames)} frames of {r.frames[0].shape}, "
                             f"the source has {len(source)} of {source[0].shape}")
    quality = quality_reports({n: r.frames for n, r in results.items()}, source, sf, meter, offsets=eval_offsets,
                              deltas=UNSTYLISED_DELTAS, callback=callback)
    for name, r in results.items():
        r.quality = quality[name]
        r.warping, r.losses = r.quality.warping, r.quality.losses

    base_settings = settings.as_dict(image_s, video_s, model_s, runtime_s)
    for key in _PER_METHOD:
        base_settings.pop(key, None)
    base_settings["multipass_passes"] = passes
    if "fast" in names or "fast-blend" in names:
        base_settings["fast_model"] = str(fast_path or coherent_path) if (fast_path or coherent_path) else None
        base_settings["fast_steps"] = fast_steps if fast_path is None and coherent_path is None else None
    if coherent_path is not None:
        base_settings["coherent_model"] = str(coherent_path)
    result = CompareResult(out_dir=out, input=input_path, style=style_path, source_frames=source, methods=results,
                           settings=_clean(base_settings), eval_flow=eval_flow, eval_offsets=eval_offsets)
    result.json_path = out / "compare.json"
    atomic.write_text(result.json_path, json.dumps(_clean(result.to_json()), indent=1))
    if write_report:
        emit(callback, StageEvent("report", 0, 1))
        result.report_path = write_compare_report(result)
        emit(callback, StageEvent("report", 1, 1, str(result.report_path)))
    return result


from .compare_page import write_compare_report  # noqa: E402  (the page, in its own module)


__all__ = ["METHODS", "DEFAULT_METHODS", "COMPARE_PASSES", "FAST_STEPS", "TABLE_OFFSETS", "COLUMNS",
           "MethodResult", "CompareResult", "compare", "method_options", "parse_methods", "write_compare_report",
           "default_out_dir"]
