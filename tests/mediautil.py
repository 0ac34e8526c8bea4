"""Clip builders shared by the tests (written with PyAV/Pillow directly, independent of media)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image


def distinct_frame(i: int, h: int = 48, w: int = 64) -> np.ndarray:
    """Frames that differ a lot from each other (a moving block on a per-frame colour)."""
    a = np.zeros((h, w, 3), np.uint8)
    a[:] = ((i * 53) % 256, (i * 97 + 40) % 256, (i * 31 + 90) % 256)
    x = (i * 7) % max(1, w - 12)
    a[h // 4: h // 4 + 12, x: x + 12] = (255, 255, 255) if i % 2 else (0, 0, 0)
    return a


def write_gif(path: Path, frames: list[np.ndarray], durations: list[int], loop: int | None = 0) -> None:
    ims = [Image.fromarray(f) for f in frames]
    kw = {"save_all": True, "append_images": ims[1:], "duration": durations}
    if loop is not None:
        kw["loop"] = loop
    ims[0].save(path, format="GIF", **kw)


def make_video(path: Path, n: int = 12, w: int = 64, h: int = 48, fps: Fraction = Fraction(30000, 1001),
               audio: str | None = None, rotation: int = 0, codec: str = "libx264") -> list[np.ndarray]:
    """A test video written with PyAV directly (independent of media.write_clip)."""
    frames = [distinct_frame(i, h, w) for i in range(n)]
    out = av.open(str(path), "w")
    vs = out.add_stream(codec, rate=fps)
    vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
    if rotation:
        vs.set_display_rotation(rotation)
    a_st = None
    if audio:
        a_st = out.add_stream(audio, rate=44100)
        a_st.layout = "mono"
    for i, f in enumerate(frames):
        vf = av.VideoFrame.from_ndarray(f, format="rgb24")
        vf.pts = i
        for p in vs.encode(vf):
            out.mux(p)
    for p in vs.encode():
        out.mux(p)
    if a_st is not None:
        ns = int(round(44100 * n / float(fps)))
        x = (0.3 * np.sin(np.arange(ns) * 2 * np.pi * 440 / 44100)).astype(np.float32)
        fmt = "flt" if audio in ("aac", "libopus") else "s16"
        for s in range(0, ns, 1024):
            chunk = x[s:s + 1024][None]
            if fmt == "s16":
                chunk = (chunk * 32767).astype(np.int16)
            af = av.AudioFrame.from_ndarray(chunk, format=fmt, layout="mono")
            af.sample_rate = 44100
            af.pts = s
            for p in a_st.encode(af):
                out.mux(p)
        for p in a_st.encode():
            out.mux(p)
    out.close()
    return frames


def audio_info(path: Path) -> tuple[str, float] | None:
    with av.open(str(path)) as c:
        if not c.streams.audio:
            return None
        a = c.streams.audio[0]
        if a.duration is not None:
            dur = float(a.duration * a.time_base)
        else:
            dur = sum(float(p.duration * a.time_base) for p in c.demux(a) if p.duration)
        return a.codec_context.name, dur


def frame_times(path: Path) -> list[float]:
    with av.open(str(path)) as c:
        return [round(float(f.time), 4) for f in c.decode(video=0)]
