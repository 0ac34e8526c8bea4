"""Files <-> arrays: still images, GIFs, videos (MP4/MOV/MKV/WebM/AVI) and frame folders.

This is the edge of the project. Everything here speaks numpy ``uint8`` HxWx3 RGB; the core speaks
float32 torch tensors (1,3,H,W) in [0,1]. :func:`image_to_tensor` and :func:`tensor_to_image` are
the only conversions between the two.

Every failure caused by a user's file (missing, empty, truncated, not an image, too large, an
unknown suffix) raises :class:`neuralpaint.errors.InputError` with a one-line message that repeats
the path; no Pillow, PyAV or numpy exception escapes for a bad file. Every final write is atomic
(:mod:`neuralpaint.atomic`): a temporary file beside the destination, then ``os.replace``.

One module per concern; the decisions are written at the top of each:

- :mod:`.formats`: the table of clip formats (kind -> reader, prober, writer, suffixes) and
  ``read_clip`` / ``probe_clip`` / ``write_clip`` / ``output_kind`` / ``check_encoding``, which
  dispatch on it. A new format is one reader/writer pair and one row.
- :mod:`.clip`: the ``Clip`` and ``ClipInfo`` types and the timing rules every writer shares.
- :mod:`.images`: still images (load, save, resize) and the tensor conversions.
- :mod:`.gif`: GIF, APNG and animated WebP (stills are read as a sequence of one); GIF output.
- :mod:`.video` / :mod:`.encode`: videos through PyAV, decoding / encoding with the audio copy.
- :mod:`.folders`: frame folders (natural order in, ``frame_%05d.png`` out).
- :mod:`.limits`: the pixel limit, decoded-size checks and the wording of a bad file.

A run's input fingerprint (``file_identity``) belongs to the run folder: :mod:`neuralpaint.runstate`
(re-exported here).
"""

from __future__ import annotations

from ..runstate import file_identity
from .clip import DEFAULT_FPS, Clip, ClipInfo, PathLike, Progress
from .folders import folder_frame_name
from .formats import (CLIP_KINDS, FORMATS, Format, check_encoding, output_kind, planned_files, probe_clip,
                      read_clip, write_clip)
from .gif import GIF_MAX_DURATION_MS, GIF_MIN_DURATION_MS
from .images import (IMAGE_SUFFIXES, JPEG_QUALITY, default_style_path, image_to_tensor, load_image,
                     resize_long_side, save_image, tensor_to_image)
from .limits import MAX_PIXELS, working_long_side
from .video import READ_VIDEO_SUFFIXES, VIDEO_SUFFIXES

__all__ = [
    "Clip", "ClipInfo", "load_image", "save_image", "resize_long_side", "image_to_tensor",
    "tensor_to_image", "read_clip", "write_clip", "probe_clip", "output_kind", "file_identity",
    "default_style_path", "MAX_PIXELS", "DEFAULT_FPS", "IMAGE_SUFFIXES", "VIDEO_SUFFIXES",
    "CLIP_KINDS", "READ_VIDEO_SUFFIXES", "GIF_MIN_DURATION_MS", "GIF_MAX_DURATION_MS", "JPEG_QUALITY",
    "check_encoding", "planned_files", "folder_frame_name", "working_long_side", "FORMATS", "Format",
    "PathLike", "Progress",
]
