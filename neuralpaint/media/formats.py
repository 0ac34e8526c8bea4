"""The one table of clip formats, and the entry points that dispatch on it.

Each row of :data:`FORMATS` says how a kind of clip is recognised (suffixes, first bytes, a
folder), read, probed and written, and which encoding options it takes. :func:`read_clip`,
:func:`probe_clip`, :func:`write_clip`, :func:`output_kind`, :func:`planned_files` and
:func:`check_encoding` look the row up once and never test the kind themselves: a new format
is one reader/writer pair and one row.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import numpy as np

from ..errors import InputError
from . import encode, folders, gif, video
from .clip import Clip, ClipInfo, Encoding, PathLike, Progress, _as_fraction, _rate_text
from .images import IMAGE_SUFFIXES, _check_uint8_image
from .limits import MAX_PIXELS, _check_file, _check_range, _check_size, _missing_clip, _q, working_long_side

#: (path, size, start, end, max_pixels) -> Clip; ``start``/``end`` 1-based, checked.
Reader = Callable[[Path, Optional[int], int, Optional[int], int], Clip]
#: (path, max_pixels) -> ClipInfo
Prober = Callable[[Path, int], ClipInfo]
#: (path, frames, source clip or None, encoding, progress): writes atomically.
Writer = Callable[[Path, Sequence[np.ndarray], Optional[Clip], Encoding, Progress], None]


@dataclass(frozen=True)
class Format:
    """One row of the format table."""

    kind: str  #: ``Clip.kind`` of what :attr:`read` returns (``image`` may come back as ``gif``)
    read: Reader
    probe: Prober
    #: input suffixes that select this row (lower case)
    suffixes: frozenset[str] = frozenset()
    #: first bytes that select it for a file whose suffix no row claims
    magic: tuple[bytes, ...] = ()
    #: a folder rather than a file (selected by being a folder, or by an output path without suffix)
    folder: bool = False
    write: Optional[Writer] = None  #: None: an input-only format
    #: output suffixes this row writes (a folder has none)
    out_suffixes: frozenset[str] = frozenset()
    timed: bool = True  #: an output with frame timing (``--fps`` applies)
    #: checks a ``--crf`` for an output path; None: ``--crf`` does not apply
    check_crf: Optional[Callable[[str, Any], None]] = None
    audio: bool = False  #: a video output that carries the source's audio
    #: what writing ``n`` frames creates, numbered from ``first``; None: the file itself
    planned: Optional[Callable[[Path, int, int], list[Path]]] = None


#: The formats, in the order of :data:`CLIP_KINDS`.
FORMATS: tuple[Format, ...] = (
    Format("gif", gif.read_gif, gif.probe_gif, suffixes=frozenset({".gif"}), magic=gif.GIF_MAGIC,
           write=gif.write_gif, out_suffixes=frozenset({".gif"})),
    Format("video", video.read_video, video.probe_video, suffixes=video.READ_VIDEO_SUFFIXES,
           write=encode.write_video, out_suffixes=video.VIDEO_SUFFIXES, check_crf=encode.check_crf,
           audio=True),
    Format("folder", folders.read_folder, folders.probe_folder, folder=True, write=folders.write_folder,
           timed=False, planned=folders.planned_folder),
    Format("image", gif.read_still, gif.probe_still, suffixes=IMAGE_SUFFIXES),
)
#: Kinds of clip a reader returns.
CLIP_KINDS = tuple(f.kind for f in FORMATS)
_BY_KIND = {f.kind: f for f in FORMATS}
#: a file that no suffix or first bytes place: let FFmpeg sniff it (a failure names the path)
_FALLBACK = _BY_KIND["video"]
_FOLDER = next(f for f in FORMATS if f.folder)


def input_format(path: Path) -> Format:
    """The row that reads ``path``: a folder, then by suffix, then by first bytes."""
    if path.is_dir():
        return _FOLDER
    sfx = path.suffix.lower()
    for fmt in FORMATS:
        if sfx in fmt.suffixes:
            return fmt
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError:
        head = b""
    for fmt in FORMATS:
        if any(head.startswith(m) for m in fmt.magic):
            return fmt
    return _FALLBACK


def output_format(path: PathLike) -> Format:
    """The row that writes ``path`` (by suffix; ``/`` or none: folder)."""
    text = os.fspath(path)
    if text.endswith(("/", os.sep)):
        return _FOLDER
    p = Path(text)
    sfx = p.suffix.lower()
    for fmt in FORMATS:
        if fmt.write is not None and sfx in fmt.out_suffixes:
            return fmt
    if not sfx or p.is_dir():
        return _FOLDER
    hint = " (for frames as images give a folder, e.g. out/)" if sfx in IMAGE_SUFFIXES else ""
    choices = ", ".join(s for f in FORMATS for s in sorted(f.out_suffixes))
    raise InputError(f"cannot write {_q(text)}: unknown suffix {p.suffix!r}; use {choices} or a folder{hint}")


def output_kind(path: PathLike) -> str:
    """``gif``, ``video`` or ``folder`` for an output path (by suffix; ``/`` or none: folder)."""
    return output_format(path).kind


def read_clip(path: PathLike, size: Optional[int] = None, start: Optional[int] = None,
              end: Optional[int] = None, *, max_pixels: int = MAX_PIXELS, upscale: bool = True) -> Clip:
    """Decode a GIF / animated image, a video, a folder of frames or a still image.

    ``size``: long side every frame is resized to while decoding (memory stays small); with
    ``upscale=False`` a smaller clip keeps its size (:func:`working_long_side`).
    ``start``/``end``: 1-based inclusive frame range; ``end`` past the clip is clamped, ``start``
    past it is an error. Raises :class:`InputError` naming ``path`` for anything unreadable.
    """
    path = Path(path)
    size = _check_size(size)
    s, e = _check_range(start, end)
    if not path.exists():
        _missing_clip(path)
    if size is not None and not upscale:
        size = working_long_side(size, *probe_clip(path, max_pixels=max_pixels).size, upscale=False)
    fmt = input_format(path)
    if not fmt.folder:
        _check_file(path, "clip")
    return fmt.read(path, size, s, e, max_pixels)


def probe_clip(path: PathLike, *, max_pixels: int = MAX_PIXELS) -> ClipInfo:
    """Frame count, upright size, timing and audio of a clip, without keeping its frames.

    Videos decode only their first frame (for rotation); the count comes from the container or,
    when it does not say, from counting packets. GIFs are walked frame by frame for durations.
    """
    path = Path(path)
    if not path.exists():
        _missing_clip(path)
    fmt = input_format(path)
    if not fmt.folder:
        _check_file(path, "clip")
    return fmt.probe(path, max_pixels)


def planned_files(path: PathLike, n: int, first: int = 1) -> list[Path]:
    """What :func:`write_clip` of ``n`` frames to ``path`` creates: the file, or the folder and
    each of its ``frame_%05d.png`` (checked against the inputs before any work, see guard)."""
    text = os.fspath(path)
    fmt = output_format(text)
    return fmt.planned(Path(text), n, first) if fmt.planned is not None else [Path(text)]


def check_encoding(path: PathLike, *, crf: Optional[int] = None, fps: Any = None, source: Any = None,
                   audio: bool = True) -> None:
    """Refuse, before any work, encoding options that the output ``path`` cannot take.

    ``crf``: video outputs only, 0..51 for H.264, 0..63 for WebM's VP9. ``fps``: GIF and video
    outputs (a folder of frames has no timing). ``source`` (a :class:`Clip` or :class:`ClipInfo`):
    when it has audio that would be copied (``audio``) into a video output, an ``fps`` other than
    the source's would play the frames faster or slower than the sound, so it is refused (the audio
    is never silently dropped or left out of sync).
    """
    text = os.fspath(path)
    fmt = output_format(text)
    if crf is not None:
        if fmt.check_crf is None:
            takes = ", ".join(sorted(s for f in FORMATS if f.check_crf is not None for s in f.out_suffixes))
            raise InputError(f"--crf {crf} applies to a video output ({takes}), not {_q(text)}")
        fmt.check_crf(text, crf)
    if fps is None:
        return
    rate = _as_fraction(fps)
    if not fmt.timed:
        raise InputError(f"--fps {float(rate):g} applies to a GIF or video output; a folder of frames "
                         f"({_q(text)}) has no timing")
    src_rate = getattr(source, "fps", None)
    if fmt.audio and audio and getattr(source, "audio", False) and (
            src_rate is None or rate != Fraction(src_rate)):
        was = _rate_text(Fraction(src_rate)) if src_rate else "unknown"
        raise InputError(f"--fps {_rate_text(rate)} differs from the source's {was} fps: the frames would play "
                         f"at another speed than its audio; add --no-audio (or give the source's rate)")


def _check_frames(frames: Sequence[np.ndarray], path: Path) -> tuple[int, int]:
    if frames is None or len(frames) == 0:
        raise InputError(f"cannot write {_q(path)}: there are no frames")
    shape = None
    for i, f in enumerate(frames):
        _check_uint8_image(f, f"frame {i + 1}")
        if shape is None:
            shape = f.shape
        elif f.shape != shape:
            raise ValueError(f"frame {i + 1} has shape {f.shape}, frame 1 has {shape}")
    assert shape is not None
    return shape[0], shape[1]


def write_clip(path: PathLike, frames: Sequence[np.ndarray], clip: Optional[Clip] = None,
               audio: bool = True, progress: Progress = None, *, fps: Any = None,
               crf: Optional[int] = None) -> Path:
    """Write ``frames`` (uint8 HxWx3, all one size) as a GIF, a video or a folder of PNGs.

    The kind comes from the suffix (:func:`output_kind`). Timing comes from ``clip`` (the source):
    GIF durations, or its exact fps; ``fps`` overrides it. A video output copies the source's
    audio (cut to ``clip.time_range``) unless ``audio`` is False; an ``fps`` other than the
    source's refuses that audio (:func:`check_encoding`). ``crf``: the video's constant rate
    factor (default :data:`H264_CRF` / :data:`VP9_CRF`). ``progress(done, total)`` is
    called after each frame. Files appear atomically. Returns the path written. A folder's PNGs are
    numbered by source frame (``clip.first`` onwards), so a ``--start 3`` render starts at 3.
    """
    path_text = os.fspath(path)
    fmt = output_format(path_text)
    path = Path(path_text)
    _check_frames(frames, path)
    check_encoding(path_text, crf=crf, fps=fps, source=clip, audio=audio)
    rate = _as_fraction(fps) if fps is not None else None
    assert fmt.write is not None
    fmt.write(path, frames, clip, Encoding(rate=rate, audio=audio, crf=crf), progress)
    return path
