"""neuralpaint: paint photos and videos in the style of an artwork."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["stylize_image", "stylize_video", "__version__"]


def __getattr__(name: str) -> Any:  # lazy: `import neuralpaint` stays cheap
    if name == "stylize_image":
        from .api import stylize_image
        return stylize_image
    if name == "stylize_video":
        from .video import stylize_video
        return stylize_video
    raise AttributeError(name)
