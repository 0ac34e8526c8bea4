"""Files <-> arrays: still images, GIFs, videos (MP4/MOV/MKV/WebM/AVI) and frame folders.

This is the edge of the project. Everything here speaks numpy ``uint8`` HxWx3 RGB; the core speaks
float32 torch tensors (1,3,H,W) in [0,1]. :func:`image_to_tensor` and :func:`tensor_to_image` are
the only conversions between the two.

Every failure caused by a user's file (missing, empty, truncated, not an image, too large, an
unknown suffix) raises :class:`neuralpaint.errors.InputError` with a one-line message that repeats
the path; no Pillow, PyAV or numpy exception escapes for a bad file. Every final write is atomic
(:mod:`neuralpaint.atomic`): a temporary file beside the destination, then ``os.replace``.

Decisions (see also ``docs``):

- Alpha (RGBA, LA, PA, palette transparency) is composited over white: transparent pixels often
  hold arbitrary colours (black, leftovers of an editor) that dropping alpha would expose.
- 16-bit inputs are scaled, never clipped: ``v * 255 / 65535`` rounded for 16-bit grayscale;
  48/64-bit RGB(A) PNGs and TIFFs keep Pillow's high byte (``v >> 8``; differs from rounding by at
  most 1). 32-bit integer images (``I``) are read as 16-bit data; float images (``F``) as [0,1]
  when their maximum is at most 1, else [0,255]. ICC profiles are not applied.
- EXIF orientation is applied (``ImageOps.exif_transpose``); a broken EXIF block is ignored.
- Pixel limit: :data:`MAX_PIXELS` (100 MP) per image or frame, checked from the header before
  decoding. Pillow's own ``DecompressionBombWarning`` is silenced inside our reads (our limit
  replaces it) and its ``DecompressionBombError`` becomes an ``InputError``.
- Videos: frames are rotated upright from the display matrix; non-square pixels are resampled to
  square ones; full-range (JPEG) YUV is honoured.
- H.264 needs even dimensions: odd widths/heights are padded by one replicated edge row/column
  (no content is lost; the output is at most one pixel larger).
- GIF timing is in 10 ms units: durations are rounded cumulatively (so a 30000/1001 fps clip gets
  30/40/30 ms and keeps its total length), with a floor of 20 ms (browsers play 0-10 ms as 100 ms).
  GIFs use one palette for the whole clip (no per-frame palette flicker) and no dithering (error
  diffusion shimmers from frame to frame). Pillow merges identical consecutive frames into one
  longer frame; the total duration is kept.
- GIF/APNG/animated WebP -> video: constant frame rate ``1000 / duration`` when every frame has
  the same duration, else variable frame timing (millisecond timestamps, no B-frames) whose
  average rate is ``1000 / mean duration`` (AVI, which cannot hold that, gets the mean rate).
  Frame folders and still images have no timing: :data:`DEFAULT_FPS` unless ``fps=`` is given.
- Video output: H.264 (libx264, yuv420p, CRF 18, BT.709 tagged, ``+faststart``) in MP4, MOV, MKV
  and AVI; VP9 + Opus in WebM. The source's exact fps (e.g. 30000/1001) is the stream rate. Its
  first audio stream is copied packet for packet when the container can hold the codec, else
  re-encoded (AAC; Opus for WebM); a ``start``/``end`` slice cuts the audio to the same time
  span (to the packet, ~20 ms for AAC).
- Reading videos decodes every frame up to ``end`` (no seeking), resizing each on the way.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import re
import struct
import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence, Union

import numpy as np
import torch
from PIL import Image, ImageOps

from .atomic import atomic_path, remove_stale_temps
from .errors import InputError
# H.264 constant rate factor of MP4/MOV/MKV/AVI output, VP9 constant quality of WebM output, the
# ranges --crf accepts and the highest frame rate: defaults, so they live in settings
from .settings import H264_CRF, H264_CRF_MAX, MAX_FPS, VP9_CRF, VP9_CRF_MAX

PathLike = Union[str, "os.PathLike[str]"]
Progress = Optional[Callable[[int, int], None]]

#: Largest image or frame we decode, in pixels (width x height): a guard against decompression bombs.
MAX_PIXELS = 100_000_000
#: Frame rate of an output video whose source has no timing (frame folder, still image).
DEFAULT_FPS = Fraction(25)
#: Shortest GIF frame we write, ms (browsers play 0 and 10 ms as 100 ms).
GIF_MIN_DURATION_MS = 20
#: Longest GIF frame (the format stores 16-bit centiseconds).
GIF_MAX_DURATION_MS = 655_350
#: JPEG / WebP quality of :func:`save_image`.
JPEG_QUALITY = 95

#: Suffixes of still images (frame folders list only these).
IMAGE_SUFFIXES = frozenset({
    ".png", ".jpg", ".jpeg", ".jpe", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm",
    ".pnm", ".tga", ".qoi", ".avif",
})
#: Suffixes of videos that we write; reading accepts anything FFmpeg can demux.
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".mkv", ".webm", ".avi"})
READ_VIDEO_SUFFIXES = VIDEO_SUFFIXES | {".m4v", ".mpg", ".mpeg", ".ts", ".mts", ".m2ts", ".wmv",
                                        ".flv", ".3gp", ".ogv", ".mxf", ".y4m"}
_SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP",
                 ".bmp": "BMP", ".tif": "TIFF", ".tiff": "TIFF"}
#: Pillow formats we let Pillow open (no EPS: it runs Ghostscript).
_PIL_FORMATS = ("PNG", "JPEG", "MPO", "GIF", "WEBP", "BMP", "DIB", "TIFF", "PPM", "TGA", "QOI",
                "AVIF", "ICO", "PCX", "SGI", "JPEG2000", "PSD")

CLIP_KINDS = ("gif", "video", "folder", "image")


# ---------------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------------

def _q(path: Any) -> str:
    return repr(str(path))


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


def _reason(exc: BaseException) -> str:
    """A short reason for a decoding failure."""
    text = _one_line(exc)
    low = text.lower()
    if isinstance(exc, EOFError) or "truncated" in low or "end of file" in low or "eof" in low.split():
        return "file is truncated"
    if isinstance(exc, Image.DecompressionBombError):
        return f"image is too large ({text})"
    if isinstance(exc, MemoryError):
        return "not enough memory to decode it"
    return f"corrupt or unsupported data ({type(exc).__name__}: {text})"


def _missing_clip(path: Path) -> None:
    """Why a clip path that does not "exist" cannot be read: missing, or a symbolic-link loop."""
    try:
        path.stat()
    except FileNotFoundError:
        raise InputError(f"cannot read clip {_q(path)}: no such file or folder") from None
    except OSError as exc:
        raise InputError(f"cannot read clip {_q(path)}: {exc.strerror or exc}") from None


def _check_file(path: Path, what: str) -> None:
    """Missing file, a directory or an empty file -> InputError."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InputError(f"cannot read {what} {_q(path)}: no such file") from None
    except OSError as exc:
        raise InputError(f"cannot read {what} {_q(path)}: {exc.strerror or exc}") from None
    if path.is_dir():
        raise InputError(f"cannot read {what} {_q(path)}: it is a folder, not a file")
    if st.st_size == 0:
        raise InputError(f"cannot read {what} {_q(path)}: file is empty")


@contextlib.contextmanager
def _pillow_guard() -> Iterator[None]:
    # Our MAX_PIXELS check replaces Pillow's bomb warning; Pillow's decoding UserWarnings (corrupt
    # EXIF, palette transparency) must not reach the user as warnings either. (catch_warnings
    # changes process-wide filters; concurrent reads in other threads may miss a warning.)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\..*")
        yield


# ---------------------------------------------------------------------------------------------
# still images
# ---------------------------------------------------------------------------------------------

def _pil_formats() -> list[str]:
    Image.init()
    return [f for f in _PIL_FORMATS if f in Image.OPEN]


def _open_pil(path: Path, what: str, max_pixels: int) -> Image.Image:
    """Open (not decode) with Pillow and check the pixel limit. Caller holds _pillow_guard."""
    try:
        im = Image.open(path, formats=_pil_formats())
    except Image.UnidentifiedImageError:
        raise InputError(f"cannot read {what} {_q(path)}: not an image file Pillow can read") from None
    except Image.DecompressionBombError as exc:  # more than twice Pillow's own limit
        m = re.search(r"\((\d+) pixels\)", str(exc))
        count = f"{int(m.group(1))} pixels" if m else "its size"
        limit = min(max_pixels, 2 * (Image.MAX_IMAGE_PIXELS or max_pixels))
        raise InputError(
            f"cannot read {what} {_q(path)}: {count} is more than the limit of "
            f"{limit / 1e6:g} MP (a decompression bomb, or shrink it first)") from None
    except Exception as exc:  # noqa: BLE001 - any decoder failure is a bad file
        raise InputError(f"cannot read {what} {_q(path)}: {_reason(exc)}") from None
    _check_pixels(path, what, im.size[0], im.size[1], max_pixels, im)
    return im


def _check_pixels(path: Path, what: str, w: int, h: int, max_pixels: int, im: Any = None) -> None:
    if w < 1 or h < 1 or w * h > max_pixels:
        if im is not None:
            with contextlib.suppress(Exception):
                im.close()
        if w < 1 or h < 1:
            raise InputError(f"cannot read {what} {_q(path)}: it declares an empty size {w}x{h}")
        raise InputError(
            f"cannot read {what} {_q(path)}: {w}x{h} pixels is more than the limit of "
            f"{max_pixels / 1e6:g} MP (a decompression bomb, or shrink it first)")


def _to_rgb(im: Image.Image) -> np.ndarray:
    """Any Pillow mode -> uint8 HxWx3 RGB (alpha composited over white, 16-bit scaled)."""
    mode = im.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
            mode in ("P", "L", "RGB", "1") and "transparency" in im.info):
        rgba = np.asarray(im.convert("RGBA"), dtype=np.uint8)  # also un-premultiplies RGBa/La
        alpha = rgba[..., 3:4].astype(np.uint16)
        rgb = rgba[..., :3].astype(np.uint16)
        out = (rgb * alpha + 255 * (255 - alpha) + 127) // 255
        return np.ascontiguousarray(out.astype(np.uint8))
    if mode.startswith("I;16") or mode == "I":
        a = np.asarray(im).astype(np.int64)
        a = np.clip(a, 0, 65535)
        out = (a * 255 + 32767) // 65535
        g = out.astype(np.uint8)
        return np.ascontiguousarray(np.repeat(g[..., None], 3, axis=2))
    if mode == "F":
        a = np.asarray(im, dtype=np.float64)
        a = np.nan_to_num(a, nan=0.0, posinf=0.0, neginf=0.0)
        scale = 255.0 if a.size and float(a.max()) <= 1.0 else 1.0
        g = np.clip(np.rint(a * scale), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(g[..., None], 3, axis=2))
    if mode != "RGB":
        im = im.convert("RGB")
    arr = np.asarray(im, dtype=np.uint8)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f"unexpected array shape {arr.shape} from mode {mode}")
    return np.ascontiguousarray(arr)


def _exif_upright(im: Image.Image) -> Image.Image:
    try:
        out = ImageOps.exif_transpose(im)
    except Exception:  # noqa: BLE001 - a broken EXIF block: keep the stored orientation
        return im
    return out if out is not None else im


def load_image(path: PathLike, *, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Read any image Pillow can read as uint8 HxWx3 RGB, EXIF orientation applied.

    Palette, grayscale, 1-bit, CMYK and 16-bit images are converted (16-bit scaled, not clipped);
    alpha is composited over white. An animated image gives its first frame. Raises
    :class:`InputError` naming ``path`` for a missing, empty, truncated or non-image file and for
    more than ``max_pixels`` pixels.
    """
    path = Path(path)
    _check_file(path, "image")
    with _pillow_guard():
        im = _open_pil(path, "image", max_pixels)
        try:
            with im:
                im.load()
                im2 = _exif_upright(im)
                return _to_rgb(im2)
        except InputError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise InputError(f"cannot read image {_q(path)}: {_reason(exc)}") from None


def _check_uint8_image(img: Any, name: str = "image") -> np.ndarray:
    if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        desc = f"{img.dtype} array of shape {img.shape}" if isinstance(img, np.ndarray) else type(img).__name__
        raise ValueError(f"{name} must be a uint8 HxWx3 RGB array, got {desc}")
    if img.shape[0] < 1 or img.shape[1] < 1:
        raise ValueError(f"{name} is empty: shape {img.shape}")
    return img


def _size_for_long_side(h: int, w: int, size: int) -> tuple[int, int]:
    # An absurd --size must fail here, before a resize tries to allocate it (an upscale to
    # 100000 px would ask for 30 GB); the limit is the one for decoding (MAX_PIXELS).
    if size > MAX_PIXELS:
        raise InputError(f"size {size} is larger than the limit of {MAX_PIXELS / 1e6:g} MP for an image")
    scale = size / max(h, w)
    th, tw = max(1, int(round(h * scale))), max(1, int(round(w * scale)))
    if th * tw > MAX_PIXELS:
        raise InputError(f"size {size} would make a {tw}x{th} image, more than the limit of "
                         f"{MAX_PIXELS / 1e6:g} MP; choose a smaller --size")
    return th, tw


def _resize_to(img: np.ndarray, h: int, w: int) -> np.ndarray:
    if img.shape[0] == h and img.shape[1] == w:
        return img
    pil = Image.fromarray(img).resize((w, h), Image.Resampling.LANCZOS)
    return np.ascontiguousarray(np.asarray(pil, dtype=np.uint8))


def resize_long_side(img: np.ndarray, size: int) -> np.ndarray:
    """Resize so the long side is ``size`` px (down or up), keeping the aspect ratio.

    Pillow's Lanczos filter (antialiased when shrinking); each side stays >= 1 px. Returns the
    input unchanged when it already has that long side.
    """
    img = _check_uint8_image(img)
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise InputError(f"size must be a positive integer, got {size!r}")
    h, w = img.shape[:2]
    return _resize_to(img, *_size_for_long_side(h, w, int(size)))


def save_image(path: PathLike, img: np.ndarray, *, quality: int = JPEG_QUALITY) -> None:
    """Write uint8 HxWx3 RGB atomically; PNG / JPEG / WebP (also BMP, TIFF) chosen by suffix."""
    path = Path(path)
    fmt = _SAVE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"cannot write image {_q(path)}: unknown suffix {path.suffix!r}; "
            f"use .png, .jpg, .jpeg or .webp")
    img = _check_uint8_image(img)
    params: dict[str, Any] = {}
    if fmt in ("JPEG", "WEBP"):
        params["quality"] = int(quality)
    pil = Image.fromarray(img)
    try:
        with atomic_path(path) as tmp:
            pil.save(tmp, format=fmt, **params)
    except InputError:
        raise
    except (ValueError, TypeError) as exc:  # e.g. WebP wider than 16383 px
        raise InputError(f"cannot write image {_q(path)}: {_one_line(exc)}") from None


def image_to_tensor(img: np.ndarray, device: Union[str, torch.device] = "cpu") -> torch.Tensor:
    """uint8 HxWx3 RGB -> float32 (1,3,H,W) in [0,1] on ``device``. The only such conversion."""
    img = np.ascontiguousarray(_check_uint8_image(img))
    if not img.flags.writeable:  # e.g. frames decoded by PyAV; torch wants writable memory
        img = img.copy()
    t = torch.from_numpy(img).to(device)
    return t.permute(2, 0, 1).unsqueeze(0).to(torch.float32).div_(255.0).contiguous()


def tensor_to_image(t: torch.Tensor) -> np.ndarray:
    """float (1,3,H,W) or (3,H,W) in [0,1] -> uint8 HxWx3 (clamped, rounded; NaN -> 0)."""
    if not isinstance(t, torch.Tensor):
        raise ValueError(f"expected a torch tensor, got {type(t).__name__}")
    if t.dim() == 4:
        if t.shape[0] != 1:
            raise ValueError(f"expected a batch of one image, got shape {tuple(t.shape)}")
        t = t[0]
    if t.dim() != 3 or t.shape[0] != 3:
        raise ValueError(f"expected shape (1,3,H,W) or (3,H,W), got {tuple(t.shape)}")
    t = t.detach().to(torch.float32)
    t = torch.nan_to_num(t, nan=0.0).clamp_(0.0, 1.0).mul_(255.0).round_().to(torch.uint8)
    return np.ascontiguousarray(t.permute(1, 2, 0).cpu().numpy())


def default_style_path() -> Path:
    """The bundled default style image (a procedurally painted swirl; see scripts/make_assets.py)."""
    return Path(__file__).resolve().parent / "assets" / "default_style.png"


# ---------------------------------------------------------------------------------------------
# clips
# ---------------------------------------------------------------------------------------------

@dataclass
class Clip:
    """Frames and timing of a clip (what :func:`write_clip` needs to reproduce its timing).

    ``frames``: uint8 HxWx3 RGB, all the same size, upright. ``kind``: ``gif`` (GIF, or any
    animated image with per-frame durations: APNG, animated WebP), ``video``, ``folder`` or
    ``image`` (a still, one frame). ``durations_ms``: per-frame durations (gif). ``loop``: GIF
    loop count (0 = forever, None = play once). ``fps``: exact frame rate (video).
    ``audio``: the source has an audio stream. ``names``: frame file names (folder).
    ``rotation``: clockwise degrees (0/90/180/270) applied to the decoded frames to make them
    upright. ``size_source``: (H, W) of the upright source before resizing. ``first``: 1-based
    source index of ``frames[0]``. ``time_range``: (start, end) seconds of the source's video
    timeline the frames cover (video; used to cut the audio to match). ``source_frames``: the
    number of frames in the source when reading reached its end, else None.
    """

    frames: list[np.ndarray]
    kind: str
    source: Path
    durations_ms: Optional[list[int]] = None
    loop: Optional[int] = None
    fps: Optional[Fraction] = None
    audio: bool = False
    names: Optional[list[str]] = None
    rotation: int = 0
    size_source: tuple[int, int] = (0, 0)
    first: int = 1
    time_range: Optional[tuple[float, float]] = None
    source_frames: Optional[int] = None

    @property
    def size(self) -> tuple[int, int]:
        """(H, W) of the frames."""
        return tuple(self.frames[0].shape[:2]) if self.frames else (0, 0)  # type: ignore[return-value]

    @property
    def duration_s(self) -> Optional[float]:
        """Total duration in seconds (None for a folder or a still: no timing)."""
        if self.durations_ms is not None:
            return sum(_playable_ms(d) for d in self.durations_ms) / 1000.0
        if self.fps:
            return float(len(self.frames) / self.fps)
        return None

    @property
    def output_fps(self) -> Fraction:
        """The constant frame rate a video made from this clip gets (see module notes)."""
        return _clip_rate(self)


@dataclass
class ClipInfo:
    """What :func:`probe_clip` finds without decoding every frame (sizes are upright)."""

    kind: str
    frame_count: int
    size: tuple[int, int]
    fps: Optional[Fraction] = None
    durations_ms: Optional[list[int]] = None
    loop: Optional[int] = None
    audio: bool = False
    rotation: int = 0
    names: Optional[list[str]] = field(default=None, repr=False)


def _natural_key(name: str) -> tuple:
    parts = re.split(r"(\d+)", name)
    return tuple((int(p) if i % 2 else p.lower()) for i, p in enumerate(parts)) + (name,)


def _check_range(start: Any, end: Any) -> tuple[int, Optional[int]]:
    for name, v in (("start", start), ("end", end)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1):
            raise InputError(f"--{name} must be a frame number >= 1, got {v!r}")
    s = 1 if start is None else int(start)
    e = None if end is None else int(end)
    if e is not None and e < s:
        raise InputError(f"--end {e} is before --start {s}")
    return s, e


def _check_size(size: Any) -> Optional[int]:
    if size is None:
        return None
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise InputError(f"size must be a positive integer, got {size!r}")
    return int(size)


def _beyond(path: Path, start: int, count: int) -> InputError:
    return InputError(f"cannot read clip {_q(path)}: --start {start} is beyond its last frame ({count})")


def _detect_kind(path: Path) -> str:
    if path.is_dir():
        return "folder"
    sfx = path.suffix.lower()
    if sfx == ".gif":
        return "gif"
    if sfx in IMAGE_SUFFIXES:
        return "image"
    if sfx in READ_VIDEO_SUFFIXES:
        return "video"
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError:
        head = b""
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    return "video"  # let FFmpeg sniff it; failure names the path


def working_long_side(size: int, h: int, w: int, upscale: bool = True) -> int:
    """The long side to work at for a ``h`` x ``w`` source: ``size``, except that without
    ``upscale`` a smaller source keeps its own (but never below 16 px, VGG-19's minimum)."""
    long_side = max(int(h), int(w))
    if upscale or long_side >= size:
        return int(size)
    return max(long_side, 16)


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
    kind = _detect_kind(path)
    if kind == "folder":
        return _read_folder(path, size, s, e, max_pixels)
    _check_file(path, "clip")
    if kind in ("gif", "image"):
        return _read_pil_clip(path, size, s, e, max_pixels, kind)
    return _read_video(path, size, s, e, max_pixels)


# -- Pillow: GIF, APNG, animated WebP, stills ------------------------------------------------

def _check_gif(im: Image.Image, path: Path, kind: str) -> bool:
    """A ``.gif`` must really be a GIF; returns whether the image is animated."""
    if kind == "gif" and im.format != "GIF":
        raise InputError(f"cannot read GIF {_q(path)}: it is a {im.format} file, not a GIF")
    return bool(getattr(im, "is_animated", False))


def _read_pil_clip(path: Path, size: Optional[int], s: int, e: Optional[int], max_pixels: int,
                   kind: str) -> Clip:
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


# -- frame folders -----------------------------------------------------------------------------

def _folder_files(path: Path) -> list[Path]:
    try:
        entries = list(os.scandir(path))
    except OSError as exc:
        raise InputError(f"cannot read frame folder {_q(path)}: {exc.strerror or exc}") from None
    files = [Path(en.path) for en in entries
             if not en.name.startswith(".") and Path(en.name).suffix.lower() in IMAGE_SUFFIXES
             and en.is_file()]
    files.sort(key=lambda p: _natural_key(p.name))
    if not files:
        raise InputError(f"cannot read frame folder {_q(path)}: it holds no images "
                         f"(.png, .jpg, .webp, ... files not starting with a dot)")
    return files


def _read_folder(path: Path, size: Optional[int], s: int, e: Optional[int], max_pixels: int) -> Clip:
    files = _folder_files(path)
    if s > len(files):
        raise _beyond(path, s, len(files))
    chosen = files[s - 1: e]
    frames: list[np.ndarray] = []
    first_shape: Optional[tuple[int, int]] = None
    target: Optional[tuple[int, int]] = None
    for f in chosen:
        arr = load_image(f, max_pixels=max_pixels)
        hw = arr.shape[:2]
        if first_shape is None:
            first_shape = hw
            target = _size_for_long_side(*hw, size) if size is not None else hw
        elif hw != first_shape:
            raise InputError(
                f"frame folder {_q(path)}: {f.name!r} is {hw[1]}x{hw[0]} but {chosen[0].name!r} "
                f"is {first_shape[1]}x{first_shape[0]}; all frames must have the same size")
        assert target is not None
        frames.append(_resize_to(arr, *target))
    assert first_shape is not None
    return Clip(frames=frames, kind="folder", source=path, names=[f.name for f in chosen],
                size_source=first_shape, first=s, source_frames=len(files))


# -- PyAV: videos ----------------------------------------------------------------------------

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


def _read_video(path: Path, size: Optional[int], s: int, e: Optional[int], max_pixels: int) -> Clip:
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

def probe_clip(path: PathLike, *, max_pixels: int = MAX_PIXELS) -> ClipInfo:
    """Frame count, upright size, timing and audio of a clip, without keeping its frames.

    Videos decode only their first frame (for rotation); the count comes from the container or,
    when it does not say, from counting packets. GIFs are walked frame by frame for durations.
    """
    path = Path(path)
    if not path.exists():
        _missing_clip(path)
    kind = _detect_kind(path)
    if kind == "folder":
        files = _folder_files(path)
        with _pillow_guard():
            im = _open_pil(files[0], "image", max_pixels)
            try:
                with im:
                    w, h = im.size[::-1] if _has_rotating_exif(im) else im.size
            except InputError:
                raise
            except Exception as exc:  # noqa: BLE001
                raise InputError(f"cannot read image {_q(files[0])}: {_reason(exc)}") from None
        return ClipInfo(kind="folder", frame_count=len(files), size=(h, w),
                        names=[f.name for f in files])
    _check_file(path, "clip")
    if kind in ("gif", "image"):
        what = "GIF" if kind == "gif" else "image"
        with _pillow_guard():
            im = _open_pil(path, what, max_pixels)
            try:
                with im:
                    animated = _check_gif(im, path, kind)
                    if kind == "image" and not animated:
                        w, h = im.size[::-1] if _has_rotating_exif(im) else im.size
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


def _has_rotating_exif(im: Image.Image) -> bool:
    try:
        return im.getexif().get(0x0112, 1) in (5, 6, 7, 8)
    except Exception:  # noqa: BLE001
        return False


# ---------------------------------------------------------------------------------------------
# writing clips
# ---------------------------------------------------------------------------------------------

def output_kind(path: PathLike) -> str:
    """``gif``, ``video`` or ``folder`` for an output path (by suffix; ``/`` or none: folder)."""
    text = os.fspath(path)
    if text.endswith(("/", os.sep)):
        return "folder"
    p = Path(text)
    sfx = p.suffix.lower()
    if sfx == ".gif":
        return "gif"
    if sfx in VIDEO_SUFFIXES:
        return "video"
    if not sfx or p.is_dir():
        return "folder"
    hint = " (for frames as images give a folder, e.g. out/)" if sfx in IMAGE_SUFFIXES else ""
    raise InputError(
        f"cannot write {_q(text)}: unknown suffix {p.suffix!r}; use .gif, "
        f"{', '.join(sorted(VIDEO_SUFFIXES))} or a folder{hint}")


def planned_files(path: PathLike, n: int, first: int = 1) -> list[Path]:
    """What :func:`write_clip` of ``n`` frames to ``path`` creates: the file, or the folder and
    each of its ``frame_%05d.png`` (checked against the inputs before any work, see guard)."""
    text = os.fspath(path)
    if output_kind(text) != "folder":
        return [Path(text)]
    folder = Path(text)
    return [folder] + [folder / folder_frame_name(i, first) for i in range(n)]


def _rate_text(r: Fraction) -> str:
    return f"{r.numerator}/{r.denominator} ({float(r):.4g})" if r.denominator != 1 else str(r.numerator)


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
    kind = output_kind(text)
    if crf is not None:
        if kind != "video":
            raise InputError(f"--crf {crf} applies to a video output ({', '.join(sorted(VIDEO_SUFFIXES))}), "
                             f"not {_q(text)}")
        webm = Path(text).suffix.lower() == ".webm"
        top = VP9_CRF_MAX if webm else H264_CRF_MAX
        if isinstance(crf, bool) or not isinstance(crf, int) or not 0 <= crf <= top:
            raise InputError(f"--crf must be an integer from 0 to {top} for {'VP9 (WebM)' if webm else 'H.264'}, "
                             f"got {crf!r}")
    if fps is None:
        return
    rate = _as_fraction(fps)
    if kind == "folder":
        raise InputError(f"--fps {float(rate):g} applies to a GIF or video output; a folder of frames "
                         f"({_q(text)}) has no timing")
    src_rate = getattr(source, "fps", None)
    if kind == "video" and audio and getattr(source, "audio", False) and (
            src_rate is None or rate != Fraction(src_rate)):
        was = _rate_text(Fraction(src_rate)) if src_rate else "unknown"
        raise InputError(f"--fps {_rate_text(rate)} differs from the source's {was} fps: the frames would play "
                         f"at another speed than its audio; add --no-audio (or give the source's rate)")


def folder_frame_name(index: int, first: int = 1) -> str:
    """Name of the 0-based frame ``index`` in a folder output numbered from ``first`` (the source
    frame number of the first frame written: ``--start 3`` writes frame_00003.png onwards)."""
    return f"frame_{index + first:05d}.png"


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


def _as_fraction(fps: Any) -> Fraction:
    try:
        r = Fraction(fps) if not isinstance(fps, float) else Fraction(fps).limit_denominator(1001)
    except (TypeError, ValueError):
        raise InputError(f"fps must be a positive number, got {fps!r}") from None
    if not (r > 0) or not math.isfinite(float(r)) or r > MAX_FPS:
        raise InputError(f"fps must be a positive number up to {MAX_FPS}, got {fps!r}")
    return r


def _clip_durations(clip: Optional[Clip], n: int) -> Optional[list[int]]:
    if clip is not None and clip.durations_ms is not None and len(clip.durations_ms) == n:
        return [max(0, int(d)) for d in clip.durations_ms]
    return None


def _clip_rate(clip: Optional[Clip]) -> Fraction:
    if clip is not None and clip.fps:
        return Fraction(clip.fps)
    if clip is not None and clip.durations_ms:
        total = sum(_playable_ms(d) for d in clip.durations_ms)
        if total > 0:
            return Fraction(1000 * len(clip.durations_ms), total)
    return DEFAULT_FPS


def _playable_ms(d: int) -> int:
    """How long browsers show a GIF frame: 0 and 10 ms are played as 100 ms."""
    return 100 if d <= 10 else int(d)


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
    kind = output_kind(path_text)
    path = Path(path_text)
    _check_frames(frames, path)
    check_encoding(path_text, crf=crf, fps=fps, source=clip, audio=audio)
    rate = _as_fraction(fps) if fps is not None else None
    if kind != "folder":
        remove_stale_temps(path)  # left by an encode that was killed (kill -9) before its rename
    if kind == "folder":
        # numbered by source frame: --start 3 --end 7 gives frame_00003..frame_00007, beside the source's
        _write_folder(path, frames, progress, first=clip.first if clip is not None else 1)
    elif kind == "gif":
        _write_gif(path, frames, clip, rate, progress)
    else:
        _write_video(path, frames, clip, rate, audio, progress, crf)
    return path


def _write_folder(path: Path, frames: Sequence[np.ndarray], progress: Progress, first: int = 1) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create folder {_q(path)}: {exc.strerror or exc}") from None
    total = len(frames)
    for i, f in enumerate(frames):
        save_image(path / folder_frame_name(i, first), f)
        if progress is not None:
            progress(i + 1, total)


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


def _write_gif(path: Path, frames: Sequence[np.ndarray], clip: Optional[Clip],
               rate: Optional[Fraction], progress: Progress) -> None:
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


def _pad_even(arr: np.ndarray) -> np.ndarray:
    h, w = arr.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return arr
    return np.pad(arr, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")


def _video_codec(suffix: str, crf: Optional[int] = None) -> tuple[str, dict[str, str], str]:
    """(video codec, its options, audio codec for re-encoding) of an output suffix."""
    if suffix == ".webm":
        return ("libvpx-vp9", {"crf": str(VP9_CRF if crf is None else crf), "b": "0", "row-mt": "1",
                               "deadline": "good", "cpu-used": "4"}, "libopus")
    return "libx264", {"crf": str(H264_CRF if crf is None else crf), "preset": "medium"}, "aac"


def _write_video(path: Path, frames: Sequence[np.ndarray], clip: Optional[Clip],
                 rate: Optional[Fraction], audio: bool, progress: Progress, crf: Optional[int] = None) -> None:
    av = _av()
    suffix = path.suffix.lower()
    vcodec, vopts, acodec = _video_codec(suffix, crf)
    n = len(frames)
    # Timing: the override, the source's exact fps, or GIF durations (constant when they all
    # agree, else millisecond timestamps).
    pts_ms: Optional[list[int]] = None
    durations = _clip_durations(clip, n) if rate is None else None
    if rate is None and clip is not None and clip.fps:
        rate = Fraction(clip.fps)
    if rate is None and durations is not None:
        played = [_playable_ms(d) for d in durations]
        if len(set(played)) == 1 or suffix == ".avi":  # AVI has no per-frame timestamps
            rate = Fraction(1000, played[0])
        else:
            rate = Fraction(1000 * n, sum(played))
            pts_ms = [0]
            for d in played[:-1]:
                pts_ms.append(pts_ms[-1] + d)
    if rate is None:
        rate = _clip_rate(clip)
    src_audio = bool(audio and clip is not None and clip.kind == "video" and clip.audio)
    h, w = frames[0].shape[:2]
    options = {"movflags": "+faststart"} if suffix in (".mp4", ".mov") else {}

    try:
        with atomic_path(path) as tmp:
            out = av.open(str(tmp), mode="w", container_options=options)
            src = None
            try:
                vs = out.add_stream(vcodec, rate=rate)
                vs.width, vs.height = w + w % 2, h + h % 2
                vs.pix_fmt = "yuv420p"
                vs.options = vopts
                cc = vs.codec_context
                cc.colorspace = 1        # BT.709 matrix,
                cc.color_primaries = 1   # primaries
                cc.color_trc = 1         # and transfer, tagged
                cc.color_range = 1       # limited ("TV") range
                if pts_ms is not None:
                    # Millisecond timestamps; no B-frames, so that decode order is display order
                    # and the container's sample durations are the frames' own durations.
                    vs.time_base = Fraction(1, 1000)
                    cc.time_base = Fraction(1, 1000)
                    if vcodec == "libx264":
                        vs.options = {**vopts, "bf": "0"}
                audio_plan = None
                if src_audio:
                    assert clip is not None
                    src, audio_plan = _plan_audio(av, clip, out, acodec)
                tb = Fraction(1, 1000) if pts_ms is not None else 1 / rate
                for i, f in enumerate(frames):
                    vf = av.VideoFrame.from_ndarray(_pad_even(f), format="rgb24")
                    vf = vf.reformat(format="yuv420p", dst_colorspace="ITU709", dst_color_range="MPEG")
                    vf.colorspace, vf.color_range = 1, 1
                    vf.pts = pts_ms[i] if pts_ms is not None else i
                    vf.time_base = tb
                    if pts_ms is not None:
                        vf.duration = (pts_ms[i + 1] - pts_ms[i]) if i + 1 < n else _playable_ms(durations[-1])  # type: ignore[index]
                    for pkt in vs.encode(vf):
                        out.mux(pkt)
                    if progress is not None and i + 1 < n:
                        progress(i + 1, n)
                for pkt in vs.encode(None):
                    out.mux(pkt)
                if audio_plan is not None:
                    _copy_audio(av, src, out, audio_plan)
            except BaseException:
                with contextlib.suppress(Exception):
                    out.close()
                raise
            finally:
                if src is not None:
                    with contextlib.suppress(Exception):
                        src.close()
            out.close()
    except InputError:
        raise
    except OSError as exc:  # pragma: no cover - atomic_path turns these into InputError
        raise InputError(f"cannot write video {_q(path)}: {exc.strerror or exc}") from None
    except av.FFmpegError as exc:
        raise InputError(f"cannot write video {_q(path)}: {_one_line(exc)}") from None
    if progress is not None:
        progress(n, n)


@dataclass
class _AudioPlan:
    in_stream: Any
    out_stream: Any
    copy: bool
    window: Optional[tuple[float, float]]  # seconds in the source; None = everything


def _plan_audio(av: Any, clip: Clip, out: Any, acodec: str) -> tuple[Any, Optional[_AudioPlan]]:
    src = _open_video(clip.source)
    if not src.streams.audio:
        return src, None
    ain = src.streams.audio[0]
    whole = clip.first == 1 and clip.source_frames is not None
    window = None if whole else clip.time_range
    name = ain.codec_context.name
    if name in out.supported_codecs:
        aout = out.add_stream_from_template(ain)
        return src, _AudioPlan(ain, aout, True, window)
    rate = ain.codec_context.sample_rate or 48000
    if acodec == "libopus" and rate not in (8000, 12000, 16000, 24000, 48000):
        rate = 48000
    aout = out.add_stream(acodec, rate=rate)
    with contextlib.suppress(Exception):
        aout.layout = ain.codec_context.layout
    return src, _AudioPlan(ain, aout, False, window)


def _copy_audio(av: Any, src: Any, out: Any, plan: _AudioPlan) -> None:
    ain, aout = plan.in_stream, plan.out_stream
    tb = ain.time_base
    offset = 0
    if plan.window is not None and tb:
        offset = int(round(plan.window[0] / tb))
    if plan.copy:
        for pkt in src.demux(ain):
            if pkt.dts is None or pkt.pts is None:
                continue
            if plan.window is not None:
                t = float(pkt.pts * tb)
                if t < plan.window[0] - 1e-6 or t >= plan.window[1]:
                    continue
                pkt.pts -= offset
                pkt.dts -= offset
            pkt.stream = aout
            out.mux(pkt)
        return
    for frame in src.decode(ain):
        if plan.window is not None and frame.time is not None:
            if frame.time < plan.window[0] - 1e-6 or frame.time >= plan.window[1]:
                continue
        frame.pts = None
        for pkt in aout.encode(frame):
            out.mux(pkt)
    for pkt in aout.encode(None):
        out.mux(pkt)


# ---------------------------------------------------------------------------------------------
# identity
# ---------------------------------------------------------------------------------------------

_CHUNK = 1 << 20


def _partial_hash(h: "hashlib._Hash", path: Path, size: int, chunk: int) -> None:
    with open(path, "rb") as fh:
        h.update(fh.read(chunk))
        if size > chunk:
            fh.seek(max(chunk, size - chunk))
            h.update(fh.read(chunk))


def file_identity(path: PathLike) -> dict[str, Any]:
    """A fast fingerprint of a clip file (or frame folder) for resume checks.

    ``{"size": bytes, "mtime_ns": int, "sha256": hex}``; the hash covers the size and the first
    and last MiB (for a folder: each image's name, size and first/last 64 KiB), so it changes
    when the content does but costs milliseconds even for a large video.
    """
    path = Path(path)
    try:
        st = path.stat()
        h = hashlib.sha256()
        if path.is_dir():
            files = _folder_files(path)
            total = 0
            mtime = 0
            for f in files:
                fst = f.stat()
                total += fst.st_size
                mtime = max(mtime, fst.st_mtime_ns)
                h.update(f"{f.name}\0{fst.st_size}\0".encode("utf-8", "surrogateescape"))
                _partial_hash(h, f, fst.st_size, 64 * 1024)
            return {"size": total, "mtime_ns": mtime, "sha256": h.hexdigest()}
        h.update(str(st.st_size).encode() + b"\0")
        _partial_hash(h, path, st.st_size, _CHUNK)
    except InputError:
        raise
    except FileNotFoundError:
        raise InputError(f"cannot read {_q(path)}: no such file or folder") from None
    except OSError as exc:
        raise InputError(f"cannot read {_q(path)}: {exc.strerror or exc}") from None
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": h.hexdigest()}


__all__ = [
    "Clip", "ClipInfo", "load_image", "save_image", "resize_long_side", "image_to_tensor",
    "tensor_to_image", "read_clip", "write_clip", "probe_clip", "output_kind", "file_identity",
    "default_style_path", "MAX_PIXELS", "DEFAULT_FPS", "IMAGE_SUFFIXES", "VIDEO_SUFFIXES",
    "CLIP_KINDS",
]
