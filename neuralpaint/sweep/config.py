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
TOML file's folder. Every key is checked: top-level keys, option names (against the settings
dataclasses), value types (an integer option given ``128.0`` or ``"128"`` is an error) and values
(each combination's settings are built, so their own checks run). Errors are
:class:`~neuralpaint.errors.InputError` naming the file and the key, e.g.
``sweep.toml: unknown key 'grid.stlye_weight' (did you mean 'style_weight'?)``.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import itertools
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence, Union

from .. import settings
from ..errors import InputError
from ..settings import ImageSettings, ModelSettings, RuntimeSettings, VideoSettings

TOP_LEVEL = ("title", "inputs", "styles", "output", "offsets", "options", "grid", "runs")
IMAGE_CLASSES = (ImageSettings, ModelSettings, RuntimeSettings)
VIDEO_CLASSES = (ImageSettings, VideoSettings, ModelSettings, RuntimeSettings)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".jpe", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm",
                  ".pnm", ".tga", ".qoi", ".avif")


def _fields() -> dict[str, tuple[type, str]]:
    """option name -> (settings class, annotation text)."""
    out: dict[str, tuple[type, str]] = {}
    for cls in VIDEO_CLASSES:
        for f in dataclasses.fields(cls):
            out[f.name] = (cls, str(f.type))
    return out


FIELDS = _fields()
VIDEO_ONLY = frozenset(settings.field_names(VideoSettings))


@dataclass
class Run:
    """One combination: what to stylise with which options, and where its folder is."""

    id: str  #: folder name: readable slug + hash of the combination
    input: str  #: absolute path
    input_label: str  #: as written in the TOML
    kind: str  #: "image" | "video"
    styles: list[str]  #: absolute paths (several = blended)
    style_label: str
    options: dict[str, Any]  #: everything passed to the stylizer (fixed + varied)
    varied: dict[str, Any]  #: the values of the sweep's varied parameters for this run

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Run":
        return cls(**data)


@dataclass
class Sweep:
    path: Path
    title: str
    output: Optional[Path]
    runs: list[Run]
    #: Names of the varied parameters, in file order ("input" / "style" when there are several).
    parameters: list[str]
    offsets: tuple[int, ...]
    fixed: dict[str, Any] = field(default_factory=dict)


class _Errors:
    def __init__(self, name: str):
        self.name = name

    def __call__(self, message: str) -> InputError:
        return InputError(f"{self.name}: {message}")


def _suggest(name: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _fmt(v: Any) -> str:
    return repr(v)


def _check_type(err: _Errors, key: str, name: str, value: Any) -> Any:
    """Check a TOML value against the option's annotation; returns it (lists for tuples)."""
    _, ann = FIELDS[name]
    optional = "None" in ann
    base = ann.replace("| None", "").strip()
    if value is None and optional:
        return value

    def scalar(kind: str, v: Any, where: str) -> None:
        if kind == "bool":
            if not isinstance(v, bool):
                raise err(f"{where} must be true or false, got {_fmt(v)}")
        elif kind == "int":
            if isinstance(v, bool) or not isinstance(v, int):
                raise err(f"{where} must be an integer, got {_fmt(v)}")
        elif kind == "float":
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise err(f"{where} must be a number, got {_fmt(v)}")
        elif kind == "str":
            if not isinstance(v, str):
                raise err(f"{where} must be a string, got {_fmt(v)}")

    m = re.fullmatch(r"tuple\[(\w+), \.\.\.\]", base)
    if m:
        if not isinstance(value, list):
            raise err(f"{key} must be a list, got {_fmt(value)}")
        for i, v in enumerate(value):
            scalar(m.group(1), v, f"{key}[{i}]")
        return value
    scalar(base, value, key)
    return value


def _is_tuple_option(name: str) -> bool:
    return "tuple[" in FIELDS[name][1]


def _check_option_value(err: _Errors, key: str, name: str, value: Any) -> None:
    """Type check, then the settings class's own checks for this one value (names the key)."""
    _check_type(err, key, name, value)
    cls, _ = FIELDS[name]
    try:
        settings.build(cls, {name: value})
    except InputError as exc:
        raise err(f"{key}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise err(f"{key}: bad value {_fmt(value)} ({exc})") from None


def _weights_file(err: _Errors, base: Path, key: str, value: Any, resolved: dict[str, str]) -> None:
    """A ``weights`` value that is a path (it has a folder or a suffix, or names a file beside the
    TOML) is relative to the TOML's folder like every path here, and is loaded and checked now,
    not when its run starts. Named weights (``imagenet``, ``random``, ...) are left alone.
    ``resolved`` maps the value as written to the absolute path the runs use."""
    if not isinstance(value, str) or value in resolved:
        return
    p = Path(value).expanduser()
    p = p if p.is_absolute() else base / p
    if not ("/" in value or "\\" in value or Path(value).suffix or p.exists()):
        return
    from ..vgg import apply_state_dict, build_features, load_weights_file

    if not p.exists():
        raise err(f"{key}: weights file {value!r} does not exist (looked for {str(p)!r})")
    try:
        apply_state_dict(build_features(), load_weights_file(p), str(p))
    except InputError as exc:
        raise err(f"{key}: {exc}") from None
    resolved[value] = str(p.resolve())


def _check_name(err: _Errors, key: str, name: str) -> None:
    if name not in FIELDS:
        raise err(f"unknown key {key!r}{_suggest(name, list(FIELDS))}")


def _paths(err: _Errors, base: Path, key: str, value: Any, what: str) -> list[tuple[str, str]]:
    """A list of path strings -> [(label, absolute path)], each existing."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise err(f"{key} must be a non-empty list of {what} paths, got {_fmt(value)}")
    out = []
    for i, v in enumerate(value):
        if not isinstance(v, str) or not v:
            raise err(f"{key}[{i}] must be a path, got {_fmt(v)}")
        p = Path(v).expanduser()
        p = p if p.is_absolute() else base / p
        if not p.exists():
            raise err(f"{key}[{i}]: {what} {v!r} does not exist (looked for {str(p)!r})")
        out.append((v, str(p.resolve())))
    return out


def input_kind(path: Union[str, Path]) -> str:
    p = Path(path)
    if p.is_dir():
        return "video"
    if p.suffix.lower() in IMAGE_SUFFIXES:
        return "image"
    return "video"  # GIF, MP4, MOV, ...


def _label_value(v: Any) -> str:
    if isinstance(v, float):
        text = f"{v:.4g}".replace("e+0", "e").replace("e+", "e").replace("e-0", "e-")
    elif isinstance(v, (list, tuple)):
        text = "-".join(_label_value(x) for x in v)
    else:
        text = str(v)
    return text


def slug(text: str, limit: int = 100) -> str:
    s = re.sub(r"[^A-Za-z0-9._=+-]+", "_", text).strip("_.")
    return (s[:limit].rstrip("_.") or "run")


def run_id(input_label: str, style_labels: Sequence[str], options: dict[str, Any],
           varied: dict[str, Any]) -> str:
    """``<slug>-<hash8>``: the hash covers the input, styles and every option (stable across
    machines: labels are the paths as written in the file)."""
    canon = json.dumps({"input": input_label, "styles": list(style_labels), "options": options},
                       sort_keys=True, default=str)
    digest = hashlib.sha256(canon.encode()).hexdigest()[:8]
    parts = [Path(input_label).stem, "+".join(Path(s).stem for s in style_labels)]
    parts += [f"{k}={_label_value(v)}" for k, v in varied.items() if k not in ("input", "style") and v is not None]
    return f"{slug('_'.join(parts))}-{digest}"


def load(path: Union[str, Path]) -> Sweep:
    """Read and validate a sweep file. Raises InputError naming the file and the key."""
    path = Path(path)
    err = _Errors(str(path))
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
    err = _Errors(str(path))
    base = base if base is not None else (path.parent if str(path.parent) else Path("."))
    base = base.resolve()
    for key in data:
        if key not in TOP_LEVEL:
            raise err(f"unknown key {key!r}{_suggest(key, TOP_LEVEL)}; "
                      f"top-level keys are {', '.join(TOP_LEVEL)}")

    title = data.get("title", path.stem)
    if not isinstance(title, str):
        raise err(f"title must be a string, got {_fmt(title)}")
    if "inputs" not in data:
        raise err("missing key 'inputs' (a list of images or clips)")
    inputs = _paths(err, base, "inputs", data["inputs"], "input")

    styles_raw = data.get("styles", [])
    if isinstance(styles_raw, str):
        styles_raw = [styles_raw]
    if not isinstance(styles_raw, list):
        raise err(f"styles must be a list of style image paths, got {_fmt(styles_raw)}")
    styles: list[list[tuple[str, str]]] = []
    for i, s in enumerate(styles_raw):
        styles.append(_paths(err, base, f"styles[{i}]", s, "style image"))
    if not styles:
        from .. import media
        styles = [[("default", str(media.default_style_path()))]]

    output = data.get("output")
    if output is not None:
        if not isinstance(output, str) or not output:
            raise err(f"output must be a folder path, got {_fmt(output)}")
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
            raise err(f"offsets must be a list of positive integers, got {_fmt(offsets_raw)}")
        if len(set(offsets_raw)) != len(offsets_raw):
            raise err(f"offsets must not repeat, got {_fmt(offsets_raw)}")
        offsets = tuple(offsets_raw)

    any_video = any(input_kind(p) == "video" for _, p in inputs)

    def video_only_check(key: str, name: str) -> None:
        if name in VIDEO_ONLY and not any_video:
            raise err(f"{key}: {name!r} is a video option, but every input is an image")

    # -- fixed options
    weights_paths: dict[str, str] = {}  # weights paths as written -> absolute (see _weights_file)
    fixed = data.get("options", {})
    if not isinstance(fixed, dict):
        raise err(f"options must be a table ([options]), got {_fmt(fixed)}")
    for name, value in fixed.items():
        key = f"options.{name}"
        _check_name(err, key, name)
        video_only_check(key, name)
        _check_option_value(err, key, name, value)
        if name == "weights":
            _weights_file(err, base, key, value, weights_paths)

    # -- grid
    grid = data.get("grid", {})
    if not isinstance(grid, dict):
        raise err(f"grid must be a table ([grid]) of option = [values], got {_fmt(grid)}")
    axes: list[tuple[str, list[Any]]] = []
    for name, values in grid.items():
        key = f"grid.{name}"
        _check_name(err, key, name)
        video_only_check(key, name)
        if name in fixed:
            raise err(f"{key} is also set in [options]; set it in one place")
        if not isinstance(values, list) or not values:
            raise err(f"{key} must be a non-empty list of values, got {_fmt(values)}")
        checked = []
        for i, v in enumerate(values):
            if _is_tuple_option(name) and not isinstance(v, list):
                v = [v]  # grid.offsets = [1, 2] means offsets 1 or 2; [[1], [1, 2]] also works
            _check_option_value(err, f"{key}[{i}]", name, v)
            if name == "weights":
                _weights_file(err, base, f"{key}[{i}]", v, weights_paths)
            checked.append(v)
        if len({json.dumps(v, sort_keys=True) for v in checked}) != len(checked):
            raise err(f"{key} lists a value twice: {_fmt(values)}")
        axes.append((name, checked))

    # -- explicit runs
    runs_raw = data.get("runs", [])
    if not isinstance(runs_raw, list) or any(not isinstance(r, dict) for r in runs_raw):
        raise err("runs must be an array of tables ([[runs]] sections of option = value)")
    run_sets: list[dict[str, Any]] = []
    for i, r in enumerate(runs_raw):
        for name, value in r.items():
            key = f"runs[{i}].{name}"
            _check_name(err, key, name)
            video_only_check(key, name)
            if name in grid:
                raise err(f"{key} is also a [grid] axis; set it in one place")
            _check_option_value(err, key, name, value)
            if name == "weights":
                _weights_file(err, base, key, value, weights_paths)
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
            if kind == "image":
                dropped = sorted(k for k in options if k in VIDEO_ONLY)
                options = {k: v for k, v in options.items() if k not in VIDEO_ONLY}
            else:
                dropped = []
            classes = VIDEO_CLASSES if kind == "video" else IMAGE_CLASSES
            try:
                settings.split(options, *classes)
            except InputError as exc:
                desc = (", ".join(f"{k}={_fmt(v)}" for k, v in options.items() if k in grid or k in r)
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
                elif k in VIDEO_ONLY and kind == "image":
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
