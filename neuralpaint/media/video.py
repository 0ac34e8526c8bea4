"""Videos through PyAV (FFmpeg): decoding and probing (encoding: :mod:`.encode`).

- Videos: frames are rotated upright from the display matrix; non-square pixels are resampled to
  square ones; full-range (JPEG) YUV is honoured.
- Reading videos decodes every frame up to ``end`` (no seeking), resizing each on the way.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any, Optional

import numpy as np

from ..errors import InputError
from .clip import Clip, ClipInfo
from .images import _resize_to
from .limits import _beyond, _check_pixels, _one_line, _q, _size_for_long_side

#: Suffixes of videos that we write; reading accepts anything FFmpeg can demux.
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".mkv", ".webm", ".avi"})
READ_VIDEO_SUFFIXES = VIDEO_SUFFIXES | {".m4v", ".mpg", ".mpeg", ".ts", ".mts", ".m2ts", ".wmv",
                                        ".flv", ".3gp", ".ogv", ".mxf", ".y4m"}


# -- decoding ---------------------------------------------------------------------------------

def _av():
    import av  # imported lazily: PyAV loads FFmpeg's shared libraries
    try:
        av.logging.set_level(None)  # no FFmpeg chatter on stderr
    except Exception:  # noqa: BLE001
        pass
    return av


_BMFF_TOP_BOXES = frozenset({b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"uuid",
                             b"meta", b"moof", b"mfra", b"sidx", b"styp", b"pdin", b"emsg",
                             b"prft", b"pnot", b"udta"})


def _bmff_truncated(path: Path) -> bool:
    """True for an MP4/MOV (ISO BMFF) file whose top-level boxes run past its end.

    FFmpeg reports such a file only as "invalid data" (no moov) or, when the index comes first,
    silently decodes fewer frames; walking the box headers tells the user what happened.
    """
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(12)
            if len(head) < 8 or head[4:8] != b"ftyp":
                return False
            pos = 0
            for _ in range(10_000):
                if pos >= size:
                    return False
                fh.seek(pos)
                hdr = fh.read(16)
                if len(hdr) < 8:
                    return True
                box = int.from_bytes(hdr[:4], "big")
                if hdr[4:8] not in _BMFF_TOP_BOXES:
                    return False  # trailing data we do not know: let FFmpeg judge
                if box == 1:
                    if len(hdr) < 16:
                        return True
                    box = int.from_bytes(hdr[8:16], "big")
                elif box == 0:  # extends to the end of the file
                    return False
                if box < 8:
                    return False  # not a box structure we understand: let FFmpeg judge
                pos += box
                if pos > size:
                    return True
    except OSError:
        return False
    return False


def _open_video(path: Path) -> Any:
    av = _av()
    if _bmff_truncated(path):
        raise InputError(f"cannot read video {_q(path)}: file is truncated (its last MP4 box "
                         f"runs past the end of the file)")
    try:
        return av.open(str(path), mode="r", metadata_errors="replace")
    except Exception as exc:  # noqa: BLE001 - av.FFmpegError, OSError, ...
        raise InputError(f"cannot read video {_q(path)}: {_video_reason(exc)}") from None


def _video_reason(exc: BaseException) -> str:
    text = _one_line(exc)
    low = text.lower()
    if "moov atom not found" in low or "truncat" in low or "end of file" in low:
        return "file is truncated or not finished (moov atom missing)" if "moov" in low else "file is truncated"
    if "invalid data" in low:
        return "not a video file FFmpeg can read (invalid data)"
    return f"{type(exc).__name__}: {text}"


def _stream_rate(vs: Any) -> Optional[Fraction]:
    for name in ("average_rate", "guessed_rate", "base_rate"):
        try:
            r = getattr(vs, name)
        except Exception:  # noqa: BLE001
            r = None
        if r and r > 0:
            return Fraction(r)
    return None


def _display_size(w: int, h: int, sar: Optional[Fraction]) -> tuple[int, int]:
    """Width and height after non-square pixels are made square (what _upright will produce,
    up to the rotation, which keeps the pixel count): the pixel limit applies to this size."""
    if sar is not None and sar > 0 and sar != 1:
        w = max(1, int(round(w * sar)))
    return w, h


def _upright(arr: np.ndarray, rotation: int, sar: Optional[Fraction]) -> np.ndarray:
    if sar is not None and sar > 0 and sar != 1:
        h, w = arr.shape[:2]
        arr = _resize_to(arr, h, max(1, int(round(w * sar))))
    k = (-rotation // 90) % 4  # rotation is clockwise; np.rot90 turns counter-clockwise
    if k:
        arr = np.ascontiguousarray(np.rot90(arr, k))
    return arr


def _frame_rotation(frame: Any) -> int:
    """Clockwise degrees (multiple of 90) that make a decoded frame upright."""
    try:
        ccw = int(frame.rotation)  # counter-clockwise angle of the display matrix, [-180, 180]
    except Exception:  # noqa: BLE001
        return 0
    # FFmpeg's autorotate: theta = -ccw; 90 -> transpose clock, 270 -> transpose cclock.
    return (int(round(-ccw / 90.0)) * 90) % 360


def _frame_rgb(frame: Any) -> np.ndarray:
    kwargs: dict[str, Any] = {}
    try:
        if int(frame.color_range) == 2:  # AVCOL_RANGE_JPEG: full-range YUV
            kwargs["src_color_range"] = 2
    except Exception:  # noqa: BLE001
        pass
    return frame.to_ndarray(format="rgb24", **kwargs)


def _video_stream(container: Any, path: Path) -> tuple[Any, Optional[Fraction], bool]:
    """The first video stream of an open container, its exact rate, and whether audio exists."""
    if not container.streams.video:
        raise InputError(f"cannot read video {_q(path)}: it has no video stream")
    vs = container.streams.video[0]
    return vs, _stream_rate(vs), bool(container.streams.audio)


def read_video(path: Path, size: Optional[int], s: int, e: Optional[int], max_pixels: int) -> Clip:
    container = _open_video(path)
    frames: list[np.ndarray] = []
    idx = 0
    rotation = 0
    size_source = (0, 0)
    target: Optional[tuple[int, int]] = None
    t0: Optional[float] = None
    t_last: Optional[float] = None
    reached_end = True
    try:
        with container:
            vs, fps, audio = _video_stream(container, path)
            try:
                sar = vs.sample_aspect_ratio
            except Exception:  # noqa: BLE001
                sar = None
            w, h = vs.codec_context.width, vs.codec_context.height
            if w and h:  # the limit applies to the decoded size: a pixel aspect ratio stretches it
                _check_pixels(path, "video", *_display_size(w, h, sar), max_pixels)
            vs.thread_type = "AUTO"
            for frame in container.decode(vs):
                idx += 1
                if idx == 1:
                    _check_pixels(path, "video", *_display_size(frame.width, frame.height, sar), max_pixels)
                    rotation = _frame_rotation(frame)
                if e is not None and idx > e:
                    reached_end = False
                    break
                if idx < s:
                    continue
                arr = _upright(_frame_rgb(frame), rotation, sar)
                if target is None:
                    size_source = arr.shape[:2]
                    target = _size_for_long_side(*size_source, size) if size is not None else size_source
                elif arr.shape[:2] != size_source:  # a mid-stream resolution change
                    arr = _resize_to(arr, *size_source)
                frames.append(_resize_to(arr, *target))
                ft = frame.time
                if ft is not None:
                    if t0 is None:
                        t0 = float(ft)
                    t_last = float(ft)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - av.FFmpegError, MemoryError, ...
        where = f" at frame {idx}" if idx else ""
        raise InputError(f"cannot read video {_q(path)}{where}: {_video_reason(exc)}") from None
    if not frames:
        if idx == 0:
            raise InputError(f"cannot read video {_q(path)}: it has no frames")
        raise _beyond(path, s, idx)
    time_range = None
    if t0 is not None and t_last is not None:
        step = float(1 / fps) if fps else 0.0
        time_range = (t0, t_last + step)
    return Clip(frames=frames, kind="video", source=path, fps=fps, audio=audio,
                rotation=rotation, size_source=tuple(size_source), first=s,  # type: ignore[arg-type]
                time_range=time_range, source_frames=idx if reached_end else None)


# -- probe ------------------------------------------------------------------------------------


def probe_video(path: Path, max_pixels: int) -> ClipInfo:
    """Videos decode only their first frame (for rotation); the count comes from the container
    or, when it does not say, from counting packets."""
    container = _open_video(path)
    try:
        with container:
            vs, fps, audio = _video_stream(container, path)
            n = int(vs.frames or 0)
            rotation = 0
            w, h = vs.codec_context.width, vs.codec_context.height
            first = next(iter(container.decode(vs)), None)
            if first is None:
                raise InputError(f"cannot read video {_q(path)}: it has no frames")
            rotation = _frame_rotation(first)
            w, h = _display_size(first.width, first.height, vs.sample_aspect_ratio)
            _check_pixels(path, "video", w, h, max_pixels)
            if n <= 0:
                container.seek(0)
                n = sum(1 for p in container.demux(vs) if p.size)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"cannot read video {_q(path)}: {_video_reason(exc)}") from None
    if rotation in (90, 270):
        w, h = h, w
    return ClipInfo(kind="video", frame_count=n, size=(h, w), fps=fps, audio=audio,
                    rotation=rotation)
