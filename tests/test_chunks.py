"""Chunk-parallel video: the plan, the seam blend, and a seamless 2-chunk render of a synthetic
clip measured with its ground-truth flows."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import textured
from flows import synthetic
from mediautil import write_gif
from neuralpaint import media, metrics
from neuralpaint.chunks import assemble, plan, stylize_video_chunked
from neuralpaint.errors import InputError


def test_plan_keyframe_pairs_and_meeting_seams():
    chunks, seams = plan(12, 2, 3, "keyframe")
    assert [c.direction for c in chunks] == ["backward", "forward"]
    assert chunks[0].frames == [6, 5, 4, 3, 2, 1, 0] and chunks[1].frames == list(range(6, 12))
    assert [s.kind for s in seams] == ["keyframe"]
    settled, _ = plan(12, 2, 3, "keyframe", settle=4)  # both chains share k, k+1, k, k-1, k first
    assert settled[0].frames == [6, 7, 6, 5, 6, 5, 4, 3, 2, 1, 0]
    assert settled[1].frames == [6, 7, 6, 5, 6, 7, 8, 9, 10, 11]
    assert settled[0].warmup == settled[1].warmup == 4
    assert settled[0].rendered == [6, 5, 4, 3, 2, 1, 0] and settled[1].position(6) == 4
    chunks, seams = plan(16, 4, 3, "keyframe")
    assert [c.direction for c in chunks] == ["backward", "forward", "backward", "forward"]
    assert [s.kind for s in seams] == ["keyframe", "blend", "keyframe"]
    assert seams[1].blend == (5, 10)  # 2·overlap frames around the meeting point 8
    assert chunks[1].last == 10 and chunks[2].first == 5  # both chains cover the window
    assert chunks[2].frames[0] == chunks[3].frames[0] == 12  # the shared keyframe
    # every frame is owned by exactly one chunk
    owned = sorted(t for c in chunks for t in range(c.owns[0], c.owns[1] + 1))
    assert owned == list(range(16))


def test_plan_crossfade_windows_do_not_overlap():
    chunks, seams = plan(16, 4, 5, "crossfade")
    assert all(c.direction == "forward" for c in chunks)
    windows = [s.blend for s in seams]
    assert all(a[1] < b[0] for a, b in zip(windows, windows[1:]))
    for s in seams:
        assert chunks[s.left].last >= s.blend[1] and chunks[s.right].first <= s.blend[0]
    _, cut = plan(12, 2, 0, "crossfade")
    assert cut[0].blend[1] < cut[0].blend[0]  # overlap 0 = a hard cut


@pytest.mark.parametrize("args, match", [
    ((5, 3, 2, "keyframe"), r"--chunks 3 needs at least 6 frames, the clip has 5"),
    ((12, 0, 2, "keyframe"), r"--chunks must be >= 1, got 0"),
    ((12, 2, -1, "keyframe"), r"--overlap must be >= 0, got -1"),
    ((12, 2, 2, "zipper"), r"unknown seam method 'zipper'"),
    ((12, 2, 2, "keyframe", 3), r"settle must be an even number >= 0, got 3"),
])
def test_plan_errors(args, match):
    with pytest.raises(InputError, match=match):
        plan(*args)


def test_assemble_cross_fades_linearly():
    chunks, seams = plan(12, 2, 2, "crossfade")
    value = {0: 0, 1: 250}
    frames, prov = assemble(12, chunks, seams, lambda c, t: np.full((2, 2, 3), value[c], np.uint8))
    means = [int(f.mean()) for f in frames]
    assert means == [0, 0, 0, 0, 50, 100, 150, 200, 250, 250, 250, 250]
    assert prov[0] == "chunk 1" and prov[5].startswith("blend 1-2") and prov[11] == "chunk 2"


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
    opts = dict(size=48, weights="random", iters=10, first_iters=20, device="cpu",
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
