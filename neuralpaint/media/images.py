"""Still images: load, save, resize, and the only conversions between the edge's numpy ``uint8``
HxWx3 RGB and the core's float32 torch tensors (1,3,H,W) in [0,1].

- Alpha (RGBA, LA, PA, palette transparency) is composited over white: transparent pixels often
  hold arbitrary colours (black, leftovers of an editor) that dropping alpha would expose.
- 16-bit inputs are scaled, never clipped: ``v * 255 / 65535`` rounded for 16-bit grayscale;
  48/64-bit RGB(A) PNGs and TIFFs keep Pillow's high byte (``v >> 8``; differs from rounding by at
  most 1). 32-bit integer images (``I``) are read as 16-bit data; float images (``F``) as [0,1]
  when their maximum is at most 1, else [0,255]. ICC profiles are not applied.
- EXIF orientation is applied (``ImageOps.exif_transpose``); a broken EXIF block is ignored.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Union

import numpy as np
import torch
from PIL import Image, ImageOps

from ..atomic import atomic_path
from ..errors import InputError
from .limits import (MAX_PIXELS, _check_file, _check_pixels, _one_line, _pillow_guard, _q, _reason,
                     _size_for_long_side)
from .clip import PathLike

#: JPEG / WebP quality of :func:`save_image`.
JPEG_QUALITY = 95

#: Suffixes of still images (frame folders list only these).
IMAGE_SUFFIXES = frozenset({
    ".png", ".jpg", ".jpeg", ".jpe", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm",
    ".pnm", ".tga", ".qoi", ".avif",
})
_SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP",
                 ".bmp": "BMP", ".tif": "TIFF", ".tiff": "TIFF"}
#: Pillow formats we let Pillow open (no EPS: it runs Ghostscript).
_PIL_FORMATS = ("PNG", "JPEG", "MPO", "GIF", "WEBP", "BMP", "DIB", "TIFF", "PPM", "TGA", "QOI",
                "AVIF", "ICO", "PCX", "SGI", "JPEG2000", "PSD")


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


def _has_rotating_exif(im: Image.Image) -> bool:
    try:
        return im.getexif().get(0x0112, 1) in (5, 6, 7, 8)
    except Exception:  # noqa: BLE001
        return False


def _upright_size(im: Image.Image) -> tuple[int, int]:
    """(W, H) of an opened image once its EXIF orientation is applied."""
    return im.size[::-1] if _has_rotating_exif(im) else im.size


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
    return Path(__file__).resolve().parent.parent / "assets" / "default_style.png"
