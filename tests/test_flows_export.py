"""flows.export: the files a clip export writes, their content, progress and the shared scale."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from flows import FlowError, estimate, export_clip, read_flo, reliability, to_color
from flows.synthetic import make_clip
from flows.visualize import clip_max_magnitude


def test_export_writes_every_file(tmp_path: Path):
    clip = make_clip(n_frames=4, height=32, width=48, motion="objects", seed=1)
    calls: list[tuple[int, int]] = []
    written = export_clip(clip.frames, tmp_path / "out", offsets=(2, 1), progress=lambda d, n: calls.append((d, n)))
    pairs = [(1, 1), (2, 1), (2, 2), (3, 1), (3, 2)]
    expected = {
        f"{kind}_{t + 1:05d}_{j}.{ext}"  # 1-based frame numbers, like frame_00001.png
        for t, j in pairs
        for kind, ext in (("backward", "flo"), ("forward", "flo"), ("reliable", "png"), ("color", "png"))
    }
    assert {p.name for p in (tmp_path / "out").iterdir()} == expected
    assert {p.name for p in written} == expected
    assert calls[0] == (0, 10) and calls[-1] == (10, 10) and len(calls) == 11

    backward = read_flo(tmp_path / "out" / "backward_00004_2.flo")
    np.testing.assert_array_equal(backward, estimate(clip.frames[3], clip.frames[1]))
    forward = read_flo(tmp_path / "out" / "forward_00004_2.flo")
    np.testing.assert_array_equal(forward, estimate(clip.frames[1], clip.frames[3]))
    gray = np.asarray(Image.open(tmp_path / "out" / "reliable_00004_2.png"))
    assert gray.dtype == np.uint8 and gray.shape == (32, 48)
    np.testing.assert_array_equal(gray, np.rint(reliability(backward, forward) * 255).astype(np.uint8))

    # One colour scale for the whole clip.
    scale = clip_max_magnitude(read_flo(tmp_path / "out" / f"backward_{t + 1:05d}_{j}.flo") for t, j in pairs)
    color = np.asarray(Image.open(tmp_path / "out" / "color_00003_1.png"))
    assert color.shape == (32, 48, 3)
    np.testing.assert_array_equal(color, to_color(read_flo(tmp_path / "out" / "backward_00003_1.flo"), scale))


def test_export_errors(tmp_path: Path):
    frames = [np.zeros((16, 16, 3), np.uint8)] * 2
    with pytest.raises(FlowError, match="unknown flow method 'x'"):
        export_clip(frames, tmp_path, method="x")
    with pytest.raises(FlowError, match="unknown parameter 'levels' for flow method 'dis'"):
        export_clip(frames, tmp_path, levels=3)
    with pytest.raises(FlowError, match="no frames"):
        export_clip([], tmp_path)
    with pytest.raises(FlowError, match=r"frame 1 has shape \(16, 17, 3\)"):
        export_clip([frames[0], np.zeros((16, 17, 3), np.uint8)], tmp_path)
    (tmp_path / "file").write_text("x")
    with pytest.raises(FlowError, match="cannot create output folder"):
        export_clip(frames, tmp_path / "file" / "sub")
    # A single frame has no pairs: nothing to write, but not an error.
    assert export_clip(frames[:1], tmp_path / "one") == []
