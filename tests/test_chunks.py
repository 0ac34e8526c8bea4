"""Chunk-parallel video: a seamless 2-chunk render of a synthetic clip measured with its
ground-truth flows (the plan and the seam blend: test_chunkplan.py)."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import textured
from flows import synthetic
from mediautil import write_gif
from neuralpaint import media, metrics
from neuralpaint.chunks import stylize_video_chunked
from neuralpaint.errors import InputError


def e1_pairs(frames, clip):
    sf = metrics.SourceFlows.from_synthetic(clip)
    return np.array(metrics.warping_error(frames, sf, (1,)).per_frame[1], dtype=float)


def test_two_chunks_seamless_with_source_timing(tmp_path):
    # camera pan + zoom + rotation and moving objects (occlusions)
    clip = synthetic.make_clip(n_frames=12, height=40, width=48, motion="mixed", seed=2)
    durations = [40, 60, 80, 100, 40, 60, 80, 100, 40, 60, 80, 120]
    src = tmp_path / "src.gif"
    write_gif(src, clip.frames, durations)
    style = tmp_path / "style.png"
    media.save_image(style, textured(40, 40, seed=2))
    out = tmp_path / "out.gif"
    # shallow layers (the VGG stops at relu2_1): the seam does not depend on them, and it is cheaper
    opts = dict(size=48, weights="random", later_iters=10, first_iters=20, device="cpu",
                content_layer="relu2_1", style_layers=("relu1_1", "relu2_1"))
    res = stylize_video_chunked(src, [style], out, chunks=2, **opts)

    source = media.read_clip(src)
    result = media.read_clip(out)
    assert res.frames == len(result.frames) == 12
    assert result.durations_ms == source.durations_ms == durations
    assert result.size == source.size == (40, 48)
    assert [s["kind"] for s in res.seams] == ["keyframe"] and res.seams[0]["at"] == 7
    wd = res.work_dir
    key_left = media.load_image(wd / "chunk_01" / "run" / "frames" / "frame_00005.png")  # after 4 settle frames
    key_right = media.load_image(wd / "chunk_02" / "run" / "frames" / "frame_00005.png")
    assert np.array_equal(key_left, key_right)  # both chains start from the same keyframe

    # Warping error E_1 of each pair (t-1, t) with ground-truth flows, on the output file.
    e = e1_pairs(result.frames, clip)
    at = res.seams[0]["at"] - 1  # 0-based first frame of chunk 2: the pair (at-1, at) crosses chunks
    boundary = e[at]
    interior = np.nanmean([e[t] for t in range(1, 12) if t != at])
    assert boundary <= 1.5 * interior, (boundary, interior, e)

    # re-running resumes every chunk: nothing is optimised again
    stamps = {p: p.stat().st_mtime_ns for p in wd.glob("chunk_*/run/frames/*.png")}
    res2 = stylize_video_chunked(src, [style], out, chunks=2, **opts)
    assert {p: p.stat().st_mtime_ns for p in wd.glob("chunk_*/run/frames/*.png")} == stamps
    assert [c["iterations"] for c in res2.chunks] == [c["iterations"] for c in res.chunks]
    with pytest.raises(InputError, match="--restart"):
        stylize_video_chunked(src, [style], out, chunks=2, overlap=1, seam="crossfade", **opts)
