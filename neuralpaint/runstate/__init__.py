"""Run folders: what a run is (identity), where its work lives, how it resumes.

- :mod:`.identity`: ``file_identity`` (an input's fingerprint) and ``differences`` (the resume
  check every run folder shares: video, image, chunks).
- :mod:`.frames`: ``RunFolder``, the run folder of a video render (manifest, frames, float
  state, flow cache) and its per-frame records.
- :mod:`.image`: ``ImageRun``, the run folder of one image (what Ctrl-C saved).
- :mod:`.folders`: finding run folders and their sizes (``neuralpaint clean``).
"""

from __future__ import annotations

from .folders import RUN_SUFFIX, find_run_folders, folder_size, format_bytes
from .frames import FORMAT, MANIFEST, VERSION, FrameRecord, RunFolder, finished_frames, frame_name
from .identity import differences, file_identity
from .image import IMAGE_FORMAT, ImageRun

__all__ = ["RunFolder", "FrameRecord", "ImageRun", "file_identity", "differences", "finished_frames",
           "frame_name", "find_run_folders", "folder_size", "format_bytes", "RUN_SUFFIX", "MANIFEST",
           "FORMAT", "IMAGE_FORMAT", "VERSION"]
