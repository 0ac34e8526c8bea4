#!/usr/bin/env python
"""Synthetic clips with exact ground truth, for tests, benchmarks and ``neuralpaint compare``.

A textured scene seen by a moving camera (pan, zoom, rotation), with textured objects that move
over it and hide/reveal it, and an optional brightness ramp (:mod:`flows.synthetic`). The same
seed gives the same files. Writes into ``-o DIR``::

    DIR/clip.gif  and/or  DIR/clip.mp4        the clip (GIF: one palette, 40 ms per frame;
                                              MP4: H.264 at 25 fps — both lossy)
    DIR/frames/frame_00001.png ...            the exact frames (lossless; a frame folder
                                              neuralpaint reads like any clip)
    DIR/flows/backward_00001_1.flo ...        ground-truth backward flow t→t−k (Middlebury .flo)
    DIR/flows/forward_00001_1.flo ...         ground-truth forward flow t−k→t
    DIR/masks/valid_00001_1.png ...           255 where the backward flow is valid (the pixel is
                                              visible in frame t−k), 0 where revealed/outside
    DIR/clip.json                             the parameters and the file lists

Flow and mask files use 0-based frame numbers t ≥ k (as ``flows.export``), one per offset k of
``--offsets``. Examples::

    python scripts/make_clips.py -o clips/pan --motion pan --frames 12 --size 128
    python scripts/make_clips.py -o clips/mixed --motion mixed --brightness 0.2 --format both
"""

from __future__ import annotations

import argparse
import json
import sys
from fractions import Fraction
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

import flows
from flows import synthetic
from flows.export import write_png

FORMATS = ("gif", "mp4", "both")


def parse_size(text: str) -> tuple[int, int]:
    """``"128"`` -> 128x96 (4:3), ``"160x90"`` -> 160x90; returns (width, height), even sides."""
    try:
        if "x" in text.lower():
            w, h = (int(v) for v in text.lower().split("x", 1))
        else:
            w = int(text)
            h = int(round(w * 3 / 4))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--size must be W or WxH, got {text!r}") from None
    w, h = w - w % 2, h - h % 2  # H.264 wants even sides
    if w < 16 or h < 16:
        raise argparse.ArgumentTypeError(f"--size must be at least 16x16, got {text!r}")
    return w, h


def parse_offsets(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"--offsets needs comma-separated integers, got {text!r}") from None
    if not values or any(v < 1 for v in values) or len(set(values)) != len(values):
        raise argparse.ArgumentTypeError(f"--offsets needs distinct positive integers, got {text!r}")
    return values


def make_clips(out_dir: Path, frames: int = 10, size: tuple[int, int] = (128, 96), motion: str = "mixed",
               seed: int = 0, brightness: float = 0.0, speed: float = 1.0, objects: Optional[int] = None,
               offsets: Sequence[int] = (1,), fmt: str = "gif") -> dict:
    """Render the clip and write every file; returns the contents of ``clip.json``."""
    from neuralpaint import media

    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    w, h = size
    clip = synthetic.make_clip(n_frames=frames, height=h, width=w, motion=motion, seed=seed,
                               brightness=brightness, speed=speed, n_objects=objects)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, list[str]] = {"clips": [], "frames": [], "flows": [], "masks": []}
    timing = media.Clip(frames=clip.frames, kind="gif", source=out_dir, durations_ms=[40] * frames, loop=0,
                        fps=Fraction(25))
    if fmt in ("gif", "both"):
        media.write_clip(out_dir / "clip.gif", clip.frames, timing)
        written["clips"].append("clip.gif")
    if fmt in ("mp4", "both"):
        media.write_clip(out_dir / "clip.mp4", clip.frames, None, fps=Fraction(25))
        written["clips"].append("clip.mp4")
    for t, f in enumerate(clip.frames):
        name = f"frames/frame_{t + 1:05d}.png"
        (out_dir / "frames").mkdir(exist_ok=True)
        media.save_image(out_dir / name, f)
        written["frames"].append(name)
    (out_dir / "flows").mkdir(exist_ok=True)
    (out_dir / "masks").mkdir(exist_ok=True)
    for k in offsets:
        for t in range(k, frames):
            for kind, flow in (("backward", clip.backward_flow(t, k)), ("forward", clip.forward_flow(t, k))):
                name = f"flows/{kind}_{t:05d}_{k}.flo"
                flows.write_flo(out_dir / name, flow)
                written["flows"].append(name)
            name = f"masks/valid_{t:05d}_{k}.png"
            write_png(out_dir / name, (clip.valid_mask(t, k).astype(np.uint8) * 255))
            written["masks"].append(name)
    info = {"generator": "neuralpaint scripts/make_clips.py", "frames": frames, "width": w, "height": h,
            "motion": motion, "seed": seed, "brightness": brightness, "speed": speed, "objects": objects,
            "offsets": list(offsets), "frame_numbers": "flow/mask files: 0-based t; frames/: 1-based",
            "files": written}
    from neuralpaint import atomic
    atomic.write_text(out_dir / "clip.json", json.dumps(info, indent=1))
    return info


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-o", "--output", type=Path, required=True, help="output folder")
    ap.add_argument("--frames", type=int, default=10, help="number of frames (default 10)")
    ap.add_argument("--size", type=parse_size, default=(128, 96), help="W (4:3) or WxH (default 128x96)")
    ap.add_argument("--motion", choices=synthetic.MOTIONS, default="mixed", help="camera/object motion (default mixed)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--brightness", type=float, default=0.0,
                    help="gain ramp: frame t is multiplied by 1 + b·t/(frames−1) (default 0)")
    ap.add_argument("--speed", type=float, default=1.0, help="scales every motion (default 1)")
    ap.add_argument("--objects", type=int, default=None, help="moving objects (default 3 for objects/mixed)")
    ap.add_argument("--offsets", type=parse_offsets, default=(1,), help="ground-truth offsets k (default 1)")
    ap.add_argument("--format", choices=FORMATS, default="gif", help="clip format (default gif)")
    args = ap.parse_args(argv)
    if args.frames < 2:
        ap.error(f"--frames must be at least 2, got {args.frames}")
    try:
        info = make_clips(args.output, frames=args.frames, size=args.size, motion=args.motion, seed=args.seed,
                          brightness=args.brightness, speed=args.speed, objects=args.objects,
                          offsets=args.offsets, fmt=args.format)
    except (ValueError, OSError) as exc:  # FlowError and InputError are ValueErrors
        print(f"error: {exc}", file=sys.stderr)
        return 2
    files = info["files"]
    print(f"{args.output}: {', '.join(files['clips'])}, {len(files['frames'])} frames, "
          f"{len(files['flows'])} flows, {len(files['masks'])} masks ({args.motion}, seed {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
