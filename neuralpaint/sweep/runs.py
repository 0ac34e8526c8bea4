"""A sweep's runs: the :class:`Run` and :class:`Sweep` records, and the names of run folders."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence, Union

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".jpe", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm",
                  ".pnm", ".tga", ".qoi", ".avif")


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


def input_kind(path: Union[str, Path]) -> str:
    p = Path(path)
    if p.is_dir():
        return "video"
    if p.suffix.lower() in IMAGE_SUFFIXES:
        return "image"
    return "video"  # GIF, MP4, MOV, ...


def label_value(v: Any) -> str:
    if isinstance(v, float):
        text = f"{v:.4g}".replace("e+0", "e").replace("e+", "e").replace("e-0", "e-")
    elif isinstance(v, (list, tuple)):
        text = "-".join(label_value(x) for x in v)
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
    parts += [f"{k}={label_value(v)}" for k, v in varied.items() if k not in ("input", "style") and v is not None]
    return f"{slug('_'.join(parts))}-{digest}"
