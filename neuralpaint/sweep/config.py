"""Sweep files: TOML -> a validated list of runs.

Schema (see ``docs/sweeps.md`` and ``examples/sweep.toml``)::

    title   = "style weight vs optimiser"    # optional, the page's heading
    inputs  = ["content.png", "clip.gif"]    # images and/or clips (GIF, video, frame folder)
    styles  = ["style.png", ["a.png", "b.png"]]   # each entry is one style; a list = a blend
    output  = "sweeps/demo"                  # optional; -o overrides; default <toml stem>_sweep
    offsets = [1, 2, 4]                      # optional; E_k offsets measured for clips

    [options]          # fixed options: any field of Image/Video/Model/RuntimeSettings
    size = 128

    [grid]             # varied options: every value list is one axis, runs = cartesian product
    style_weight = [1e5, 1e6]
    optimizer = ["lbfgs", "adam"]

    [[runs]]           # and/or an explicit list of option sets (crossed with [grid])
    iters = 50

Runs = inputs × styles × (runs or one empty set) × grid. Relative paths are relative to the
TOML file's folder. Every key is checked: top-level keys, option names and value types against
the settings fields' declarations (:mod:`neuralpaint.sweep.options`: an integer option given
``128.0`` or ``"128"`` is an error) and values (each combination's settings are built, so their own
checks run). Errors are
:class:`~neuralpaint.errors.InputError` naming the file and the key, e.g.
``sweep.toml: unknown key 'grid.stlye_weight' (did you mean 'style_weight'?)``.
"""

from __future__ import annotations

import itertools
import json
import tomllib
from pathlib import Path
from typing import Any, Optional, Union

from .. import settings
from ..errors import InputError
from .options import (FIELDS, IMAGE_CLASSES, IMAGE_ONLY, VIDEO_CLASSES, VIDEO_ONLY, Errors,  # noqa: F401
                      check_name, check_option_value, fmt, is_tuple_option, suggest, weights_file)
from .runs import Run, Sweep, label_value, input_kind, run_id, slug  # noqa: F401  (re-exported)

TOP_LEVEL = ("title", "inputs", "styles", "output", "offsets", "options", "grid", "runs")


def _paths(err: Errors, base: Path, key: str, value: Any, what: str) -> list[tuple[str, str]]:
    """A list of path strings -> [(label, absolute path)], each existing."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise err(f"{key} must be a non-empty list of {what} paths, got {fmt(value)}")
    out = []
    for i, v in enumerate(value):
        if not isinstance(v, str) or not v:
            raise err(f"{key}[{i}] must be a path, got {fmt(v)}")
        p = Path(v).expanduser()
        p = p if p.is_absolute() else base / p
        if not p.exists():
            raise err(f"{key}[{i}]: {what} {v!r} does not exist (looked for {str(p)!r})")
        out.append((v, str(p.resolve())))
    return out


def load(path: Union[str, Path]) -> Sweep:
    """Read and validate a sweep file. Raises InputError naming the file and the key."""
    path = Path(path)
    err = Errors(str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"sweep file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read sweep file {str(path)!r}: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise err(f"not valid TOML: {exc}") from None
    return parse(data, path)


def parse(data: dict[str, Any], path: Union[str, Path] = "sweep.toml", base: Optional[Path] = None) -> Sweep:
    """Validate the parsed TOML ``data`` (see the module docstring)."""
    path = Path(path)
    err = Errors(str(path))
    base = base if base is not None else (path.parent if str(path.parent) else Path("."))
    base = base.resolve()
    for key in data:
        if key not in TOP_LEVEL:
            raise err(f"unknown key {key!r}{suggest(key, TOP_LEVEL)}; "
                      f"top-level keys are {', '.join(TOP_LEVEL)}")

    title = data.get("title", path.stem)
    if not isinstance(title, str):
        raise err(f"title must be a string, got {fmt(title)}")
    if "inputs" not in data:
        raise err("missing key 'inputs' (a list of images or clips)")
    inputs = _paths(err, base, "inputs", data["inputs"], "input")

    styles_raw = data.get("styles", [])
    if isinstance(styles_raw, str):
        styles_raw = [styles_raw]
    if not isinstance(styles_raw, list):
        raise err(f"styles must be a list of style image paths, got {fmt(styles_raw)}")
    styles: list[list[tuple[str, str]]] = []
    for i, s in enumerate(styles_raw):
        styles.append(_paths(err, base, f"styles[{i}]", s, "style image"))
    if not styles:
        from .. import media
        styles = [[("default", str(media.default_style_path()))]]

    output = data.get("output")
    if output is not None:
        if not isinstance(output, str) or not output:
            raise err(f"output must be a folder path, got {fmt(output)}")
        out_path: Optional[Path] = Path(output).expanduser()
        out_path = out_path if out_path.is_absolute() else base / out_path
    else:
        out_path = None

    offsets_raw = data.get("offsets")
    if offsets_raw is None:
        try:
            from ..metrics import OFFSETS as offsets_default
        except ImportError:  # pragma: no cover - metrics is optional for sweeps
            offsets_default = (1, 2, 4, 8, 16)
        offsets = tuple(offsets_default)
    else:
        if not isinstance(offsets_raw, list) or not offsets_raw or any(
                isinstance(k, bool) or not isinstance(k, int) or k < 1 for k in offsets_raw):
            raise err(f"offsets must be a list of positive integers, got {fmt(offsets_raw)}")
        if len(set(offsets_raw)) != len(offsets_raw):
            raise err(f"offsets must not repeat, got {fmt(offsets_raw)}")
        offsets = tuple(offsets_raw)

    any_video = any(input_kind(p) == "video" for _, p in inputs)
    any_image = any(input_kind(p) != "video" for _, p in inputs)

    def video_only_check(key: str, name: str) -> None:
        if name in VIDEO_ONLY and not any_video:
            raise err(f"{key}: {name!r} is a video option, but every input is an image")
        if name in IMAGE_ONLY and not any_image:
            raise err(f"{key}: {name!r} caps an image, but every input is a video: a video's frames take "
                      f"later_iters and first_iters")

    # -- fixed options
    weights_paths: dict[str, str] = {}  # weights paths as written -> absolute (see weights_file)
    fixed = data.get("options", {})
    if not isinstance(fixed, dict):
        raise err(f"options must be a table ([options]), got {fmt(fixed)}")
    for name, value in fixed.items():
        key = f"options.{name}"
        check_name(err, key, name)
        video_only_check(key, name)
        check_option_value(err, key, name, value)
        if name == "weights":
            weights_file(err, base, key, value, weights_paths)

    # -- grid
    grid = data.get("grid", {})
    if not isinstance(grid, dict):
        raise err(f"grid must be a table ([grid]) of option = [values], got {fmt(grid)}")
    axes: list[tuple[str, list[Any]]] = []
    for name, values in grid.items():
        key = f"grid.{name}"
        check_name(err, key, name)
        video_only_check(key, name)
        if name in fixed:
            raise err(f"{key} is also set in [options]; set it in one place")
        if not isinstance(values, list) or not values:
            raise err(f"{key} must be a non-empty list of values, got {fmt(values)}")
        checked = []
        for i, v in enumerate(values):
            if is_tuple_option(name) and not isinstance(v, list):
                v = [v]  # grid.offsets = [1, 2] means offsets 1 or 2; [[1], [1, 2]] also works
            check_option_value(err, f"{key}[{i}]", name, v)
            if name == "weights":
                weights_file(err, base, f"{key}[{i}]", v, weights_paths)
            checked.append(v)
        if len({json.dumps(v, sort_keys=True) for v in checked}) != len(checked):
            raise err(f"{key} lists a value twice: {fmt(values)}")
        axes.append((name, checked))

    # -- explicit runs
    runs_raw = data.get("runs", [])
    if not isinstance(runs_raw, list) or any(not isinstance(r, dict) for r in runs_raw):
        raise err("runs must be an array of tables ([[runs]] sections of option = value)")
    run_sets: list[dict[str, Any]] = []
    for i, r in enumerate(runs_raw):
        for name, value in r.items():
            key = f"runs[{i}].{name}"
            check_name(err, key, name)
            video_only_check(key, name)
            if name in grid:
                raise err(f"{key} is also a [grid] axis; set it in one place")
            check_option_value(err, key, name, value)
            if name == "weights":
                weights_file(err, base, key, value, weights_paths)
        run_sets.append(dict(r))
    if not run_sets:
        run_sets = [{}]

    # -- the varied parameters, in file order
    parameters: list[str] = []
    if len(inputs) > 1:
        parameters.append("input")
    if len(styles) > 1:
        parameters.append("style")
    for r in run_sets:
        for k in r:
            values = {json.dumps(rr[k], sort_keys=True) if k in rr else "(unset)" for rr in run_sets}
            if len(values) > 1 and k not in parameters:
                parameters.append(k)
    parameters += [name for name, _ in axes]

    # -- combinations
    runs: list[Run] = []
    seen: dict[str, int] = {}
    for (in_label, in_path), style, r in itertools.product(inputs, styles, run_sets):
        kind = input_kind(in_path)
        for values in itertools.product(*[vals for _, vals in axes]) if axes else [()]:
            options: dict[str, Any] = dict(fixed)
            options.update(r)
            options.update({name: v for (name, _), v in zip(axes, values)})
            # options that do not apply to this kind of input are left out of its runs
            skip = VIDEO_ONLY if kind == "image" else IMAGE_ONLY
            dropped = sorted(k for k in options if k in skip)
            options = {k: v for k, v in options.items() if k not in skip}
            classes = VIDEO_CLASSES if kind == "video" else IMAGE_CLASSES
            try:
                settings.split(options, *classes)
            except InputError as exc:
                desc = (", ".join(f"{k}={fmt(v)}" for k, v in options.items() if k in grid or k in r)
                        or "the fixed options")
                raise err(f"run with {desc} on {in_label!r}: {exc}") from None
            style_labels = [s for s, _ in style]
            varied: dict[str, Any] = {}
            if "input" in parameters:
                varied["input"] = in_label
            if "style" in parameters:
                varied["style"] = "+".join(style_labels)
            for k in parameters:
                if k in ("input", "style"):
                    continue
                if k in options:
                    varied[k] = options[k]
                elif (k in VIDEO_ONLY and kind == "image") or (k in IMAGE_ONLY and kind == "video"):
                    varied[k] = None
                else:
                    varied[k] = settings.default(FIELDS[k][0], k)
            rid = run_id(in_label, style_labels, options, varied)
            if rid in seen:
                if dropped:
                    continue  # a video-only axis does not multiply the runs of an image input
                raise err(f"two runs are identical ({rid}); check [grid] and [[runs]] for repeats")
            seen[rid] = len(runs)
            if options.get("weights") in weights_paths:
                # the id keeps the path as written (stable when the sweep folder moves); the run
                # gets the file beside the TOML, wherever the sweep is started from
                options["weights"] = weights_paths[options["weights"]]
            runs.append(Run(id=rid, input=in_path, input_label=in_label, kind=kind,
                            styles=[p for _, p in style], style_label="+".join(style_labels),
                            options=options, varied=varied))
    return Sweep(path=path, title=title, output=out_path, runs=runs, parameters=parameters,
                 offsets=offsets, fixed=dict(fixed))


__all__ = ["Run", "Sweep", "load", "parse", "input_kind", "run_id", "slug", "TOP_LEVEL", "FIELDS"]
