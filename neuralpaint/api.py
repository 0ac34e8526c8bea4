"""The Python API: ``stylize_image`` (and ``stylize_video`` in :mod:`neuralpaint.video`).

Options are the field names of the settings dataclasses (``size``, ``iters``, ``style_weight``,
``weights``, ``device``, ...); anything else is an error naming the option.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence, Union

import numpy as np
import torch

from . import media, settings
from .device import resolve_device
from .events import Callback
from .optimize import OptimizeResult, Partial, Stylizer
from .settings import ImageSettings, ModelSettings, RuntimeSettings
from .vgg import resolve_model

ImageLike = Union[str, Path, np.ndarray]


def as_array(image: ImageLike) -> np.ndarray:
    """A path or an array -> uint8 HxWx3 RGB."""
    if isinstance(image, np.ndarray):
        arr = image
        if arr.dtype != np.uint8:
            arr = (np.clip(arr.astype(np.float32), 0, 1) * 255 + 0.5).astype(np.uint8)
        if arr.ndim == 2:
            arr = np.repeat(arr[..., None], 3, axis=2)
        return np.ascontiguousarray(arr[..., :3])
    return media.load_image(Path(image))


def style_tensors(styles: Sequence[ImageLike], size: int, style_scale: float) -> list[torch.Tensor]:
    """Style images as tensors, shrunk once to at most twice the largest size they are used at
    (a 6000-px scan would otherwise be resized on every scale for nothing)."""
    out = []
    limit = max(16, int(round(2 * size * style_scale)))
    for s in styles:
        arr = as_array(s)
        if max(arr.shape[:2]) > limit:
            arr = media.resize_long_side(arr, limit)
        out.append(media.image_to_tensor(arr))
    return out


def init_tensor(path: ImageLike, size: tuple[int, int], preserve_colors: bool = False) -> torch.Tensor:
    """``init_image`` as the optimiser's start: resized to ``size`` (H, W), stretched to its shape
    as neural-style does; its luminance when preserving colours (the optimised space)."""
    from .color import gray3
    from .optimize import resize

    t = media.image_to_tensor(as_array(path))
    if tuple(t.shape[-2:]) != tuple(size):
        t = resize(t, (int(size[0]), int(size[1]))).clamp(0, 1)
    return gray3(t) if preserve_colors else t


@dataclass
class ImageResult:
    image: np.ndarray  #: uint8 HxWx3
    result: OptimizeResult


def stylize_image_full(content: ImageLike, style: Union[ImageLike, Sequence[ImageLike]], *,
                       callback: Callback = None,
                       resume: Optional[tuple[int, int, np.ndarray]] = None, **options: Any) -> ImageResult:
    """Stylise one image; returns the uint8 image and the optimisation record.

    ``resume``: (scale, iterations, float HxWx3 iterate) of an interrupted run to continue
    (:class:`neuralpaint.runstate.ImageRun` keeps them).
    """
    image_s, model_s, runtime_s = settings.split(options, ImageSettings, ModelSettings, RuntimeSettings)
    model_s = resolve_model(model_s, callback)  # --weights auto -> the concrete, announced choice
    styles = [style] if isinstance(style, (str, Path, np.ndarray)) else list(style)
    device = resolve_device(runtime_s.device)
    content_arr = as_array(content)
    content_arr = media.resize_long_side(
        content_arr, media.working_long_side(image_s.size, *content_arr.shape[:2], upscale=image_s.upscale))
    content_t = media.image_to_tensor(content_arr).to(device)
    style_ts = style_tensors(styles, image_s.size, image_s.style_scale)
    stylizer = Stylizer.create(style_ts, image_s, model_s, runtime_s, device, color_reference=content_t)
    partial = None
    if resume is not None:
        scale, its, raw = resume
        raw_t = torch.from_numpy(np.ascontiguousarray(raw)).permute(2, 0, 1).unsqueeze(0).to(device)
        partial = Partial(scale=scale, iterations=its, raw=raw_t)
    init = None
    if image_s.init_image is not None:  # --init-image replaces image_s.init
        init = init_tensor(image_s.init_image, tuple(content_t.shape[-2:]), image_s.preserve_colors).to(device)
    result = stylizer.run(content_t, init=init, callback=callback, resume=partial)
    return ImageResult(image=media.tensor_to_image(result.image), result=result)


def stylize_image(content: ImageLike, style: Union[ImageLike, Sequence[ImageLike]], *,
                  callback: Callback = None, **options: Any) -> np.ndarray:
    """Stylise ``content`` in the style of ``style`` (one image or several, blended).

    >>> out = stylize_image("photo.jpg", "starry.jpg", size=256, iters=200)  # doctest: +SKIP

    Returns a uint8 HxWx3 RGB array whose long side is ``size``.
    """
    return stylize_image_full(content, style, callback=callback, **options).image
