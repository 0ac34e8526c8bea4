"""Pillow sequences: GIF, APNG and animated WebP (per-frame durations), and stills read as a
sequence of one; GIF output.

- GIF timing is in 10 ms units: durations are rounded cumulatively (so a 30000/1001 fps clip gets
  30/40/30 ms and keeps its total length), with a floor of 20 ms (browsers play 0-10 ms as 100 ms).
  GIFs use one palette for the whole clip (no per-frame palette flicker) and no dithering (error
  diffusion shimmers from frame to frame). Pillow merges identical consecutive frames into one
  longer frame; the total duration is kept.
"""

from __future__ import annotations

import math
import struct
from fractions import Fraction
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
from PIL import Image

from ..atomic import atomic_path, remove_stale_temps
from ..errors import InputError
from .clip import Clip, ClipInfo, Encoding, Progress, _clip_durations, _clip_rate
from .images import _exif_upright, _open_pil, _resize_to, _to_rgb, _upright_size
from .limits import _beyond, _one_line, _pillow_guard, _q, _reason, _size_for_long_side

#: Shortest GIF frame we write, ms (browsers play 0 and 10 ms as 100 ms).
GIF_MIN_DURATION_MS = 20
#: Longest GIF frame (the format stores 16-bit centiseconds).
GIF_MAX_DURATION_MS = 655_350
#: First bytes of a GIF (a ``.gif`` file's kind, whatever its suffix).
GIF_MAGIC = (b"GIF87a", b"GIF89a")


def _check_gif(im: Image.Image, path: Path, kind: str) -> bool:
    """A ``.gif`` must really be a GIF; returns whether the image is animated."""
    if kind == "gif" and im.format != "GIF":
        raise InputError(f"cannot read GIF {_q(path)}: it is a {im.format} file, not a GIF")
    return bool(getattr(im, "is_animated", False))


def read_sequence(path: Path, size: Optional[int], s: int, e: Optional[int], max_pixels: int,
                  kind: str) -> Clip:
    """Frames ``s``..``e`` of a GIF (``kind="gif"``) or of an image (``"image"``: a still, or an
    animated PNG/WebP/GIF under another suffix, which comes back as a ``gif`` clip)."""
    what = "GIF" if kind == "gif" else "image"
    frames: list[np.ndarray] = []
    durations: list[int] = []
    with _pillow_guard():
        im = _open_pil(path, what, max_pixels)
        try:
            with im:
                animated = _check_gif(im, path, kind)
                if kind == "image" and animated and im.format in ("PNG", "WEBP", "GIF"):
                    kind = "gif"
                loop = im.info.get("loop") if kind == "gif" else None
                idx = 0
                while True:
                    idx += 1
                    if e is not None and idx > e:
                        break
                    if idx > 1:
                        if not animated:
                            break
                        try:
                            im.seek(idx - 1)
                        except EOFError:
                            break
                    dur = im.info.get("duration")
                    if idx < s:
                        im.load()  # GIF frames build on the previous one
                        continue
                    im.load()
                    frame = im if kind == "gif" else _exif_upright(im)
                    arr = _to_rgb(frame)
                    if frames and arr.shape[:2] != frames[0].shape[:2]:
                        arr = _resize_to(arr, *frames[0].shape[:2])
                    frames.append(arr)
                    durations.append(int(round(float(dur))) if dur is not None else 100)
                    if kind == "image":
                        break
        except InputError:
            raise
        except Exception as exc:  # noqa: BLE001 - Pillow raises many kinds for bad data
            raise InputError(f"cannot read {what} {_q(path)}: {_reason(exc)}") from None
    count = idx - 1 if (e is None or idx <= e) else None
    if not frames:
        if count is not None and count >= 1 and s > count:
            raise _beyond(path, s, count)
        raise InputError(f"cannot read {what} {_q(path)}: it has no frames")
    h_src, w_src = frames[0].shape[:2]
    if size is not None:
        th, tw = _size_for_long_side(h_src, w_src, size)
        frames = [_resize_to(f, th, tw) for f in frames]
    if kind == "image":
        return Clip(frames=frames, kind="image", source=path, size_source=(h_src, w_src),
                    first=1, source_frames=1)
    return Clip(frames=frames, kind="gif", source=path, durations_ms=durations,
                loop=None if loop is None else int(loop), size_source=(h_src, w_src), first=s,
                source_frames=count)


def probe_sequence(path: Path, max_pixels: int, kind: str) -> ClipInfo:
    what = "GIF" if kind == "gif" else "image"
    with _pillow_guard():
        im = _open_pil(path, what, max_pixels)
        try:
            with im:
                animated = _check_gif(im, path, kind)
                if kind == "image" and not animated:
                    w, h = _upright_size(im)
                    return ClipInfo(kind="image", frame_count=1, size=(h, w))
                n = int(getattr(im, "n_frames", 1))
                durations = []
                for i in range(n):
                    im.seek(i)
                    d = im.info.get("duration")
                    durations.append(int(round(float(d))) if d is not None else 100)
                loop = im.info.get("loop")
                w, h = im.size
        except InputError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise InputError(f"cannot read {what} {_q(path)}: {_reason(exc)}") from None
    return ClipInfo(kind="gif", frame_count=n, size=(h, w), durations_ms=durations,
                    loop=None if loop is None else int(loop))


# -- the rows of the format table ---------------------------------------------------------------

def read_gif(path: Path, size: Optional[int], s: int, e: Optional[int], max_pixels: int) -> Clip:
    return read_sequence(path, size, s, e, max_pixels, "gif")


def read_still(path: Path, size: Optional[int], s: int, e: Optional[int], max_pixels: int) -> Clip:
    return read_sequence(path, size, s, e, max_pixels, "image")


def probe_gif(path: Path, max_pixels: int) -> ClipInfo:
    return probe_sequence(path, max_pixels, "gif")


def probe_still(path: Path, max_pixels: int) -> ClipInfo:
    return probe_sequence(path, max_pixels, "image")


# -- writing ----------------------------------------------------------------------------------

def _gif_durations(times_ms: Sequence[float]) -> list[int]:
    """Cumulative rounding of frame boundaries to 10 ms, each frame at least 20 ms."""
    out = []
    prev = 0
    acc = 0.0
    for d in times_ms:
        acc += d
        t = max(prev + GIF_MIN_DURATION_MS, int(round(acc / 10.0)) * 10)
        out.append(t - prev)
        prev = t
    return out


def _gif_palette(frames: Sequence[np.ndarray]) -> Image.Image:
    """One adaptive 256-colour palette for the whole clip, from a montage of sampled frames."""
    n = len(frames)
    picks = sorted({int(round(i * (n - 1) / max(1, min(n, 16) - 1))) for i in range(min(n, 16))})
    h, w = frames[0].shape[:2]
    scale = min(1.0, math.sqrt(250_000 / (h * w * len(picks))))
    th, tw = max(1, int(h * scale)), max(1, int(w * scale))
    tiles = [frames[i] if scale >= 1.0 else
             np.asarray(Image.fromarray(frames[i]).resize((tw, th), Image.Resampling.BOX))
             for i in picks]
    montage = Image.fromarray(np.ascontiguousarray(np.concatenate(tiles, axis=0)))
    return montage.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)


def write_gif(path: Path, frames: Sequence[np.ndarray], clip: Optional[Clip], enc: Encoding,
              progress: Progress) -> None:
    remove_stale_temps(path)  # left by an encode that was killed (kill -9) before its rename
    rate: Optional[Fraction] = enc.rate
    n = len(frames)
    durations = None if rate is not None else _clip_durations(clip, n)
    if durations is not None and all(d % 10 == 0 for d in durations):
        pass  # the source's own GIF durations: already representable, written as they are
    elif durations is not None:
        durations = _gif_durations(durations)
    else:
        r = rate or _clip_rate(clip)
        durations = _gif_durations([1000.0 / float(r)] * n)
    durations = [min(d, GIF_MAX_DURATION_MS) for d in durations]
    if clip is not None and clip.kind == "gif":
        loop = clip.loop
    else:
        loop = 0
    palette = _gif_palette(frames)
    images = []
    for i, f in enumerate(frames, 1):
        images.append(Image.fromarray(f).quantize(palette=palette, dither=Image.Dither.NONE))
        if progress is not None and i < n:
            progress(i, n)
    params: dict[str, Any] = {"save_all": True, "append_images": images[1:],
                              "duration": durations, "optimize": False}
    if loop is not None:
        params["loop"] = min(65535, max(0, int(loop)))
    try:
        with atomic_path(path) as tmp:
            images[0].save(tmp, format="GIF", **params)
    except InputError:
        raise
    except (ValueError, TypeError, struct.error) as exc:  # e.g. wider than 65535 px
        raise InputError(f"cannot write GIF {_q(path)}: {_one_line(exc)}") from None
    if progress is not None:
        progress(n, n)
