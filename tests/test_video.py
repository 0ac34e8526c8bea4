"""neuralpaint.video: the frame loop, timing preserved, temporal coherence, resume."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import flows
from mediautil import audio_info, make_video, write_gif
from neuralpaint import media
from neuralpaint.errors import InputError, ResumeError
from neuralpaint.events import FrameDone
from neuralpaint.video import stylize_video

TINY = dict(weights="random", size=64, later_iters=8, first_iters=16, window=8)
# The frame loop does not depend on which VGG layers the objective reads: these tests stop the VGG
# at relu2_1 (3 convolutions instead of 13), which makes each render several times cheaper.
SHALLOW = dict(TINY, content_layer="relu2_1", style_layers=("relu1_1", "relu2_1"))


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """A 6-frame 48x64 clip with camera motion and moving objects, and its ground truth."""
    clip = flows.synthetic.make_clip(n_frames=6, height=48, width=64, motion="mixed", seed=1)
    folder = tmp_path_factory.mktemp("clip")
    path = folder / "clip.gif"
    write_gif(path, list(clip.frames), [40] * len(clip))
    style = folder / "style.png"
    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((48, 48, 3)) * 255).astype(np.uint8)).save(style)
    return clip, path, style


def warping_error(frames: list[np.ndarray], clip, k: int = 1) -> float:
    """Masked mean squared error of output t vs output t-k warped with the TRUE backward flow."""
    errs = []
    for t in range(k, len(frames)):
        o_t = frames[t].astype(np.float32) / 255
        warped = flows.warp(frames[t - k].astype(np.float32) / 255, clip.backward_flow(t, k))
        m = clip.valid_mask(t, k)[..., None]
        errs.append(float(((warped - o_t) ** 2 * m).sum() / (3 * m.sum())))
    return float(np.mean(errs))


def read_frames(path: Path) -> list[np.ndarray]:
    return media.read_clip(path).frames


def test_gif_frame_count_and_durations_are_kept(tmp_path):
    frames = [np.full((30, 45, 3), (i * 40) % 255, np.uint8) for i in range(5)]
    src = tmp_path / "in.gif"
    durations = [40, 60, 80, 100, 120]
    write_gif(src, frames, durations)
    res = stylize_video(src, [], tmp_path / "out.gif", upscale=True, **TINY)  # size is a cap unless upscale
    out = media.read_clip(tmp_path / "out.gif")
    assert res.frames == 5 and len(out.frames) == 5
    assert out.durations_ms == durations
    assert out.frames[0].shape == (43, 64, 3)  # 45x30 scaled to a 64 long side, not divisible by 2^k


def test_mp4_keeps_ntsc_fps_and_audio(tmp_path):
    src = tmp_path / "in.mp4"
    make_video(src, n=4, w=50, h=38, fps=Fraction(30000, 1001), audio="aac")
    stylize_video(src, [], tmp_path / "out.mp4", **TINY)
    out = media.read_clip(tmp_path / "out.mp4")
    assert out.fps == Fraction(30000, 1001)
    assert len(out.frames) == 4
    codec, duration = audio_info(tmp_path / "out.mp4")
    assert codec == "aac" and abs(duration - audio_info(src)[1]) < 0.1


def test_single_frame_clip_and_folder_output(tmp_path):
    src = tmp_path / "one.gif"
    write_gif(src, [np.full((20, 20, 3), 90, np.uint8)], [100])
    stylize_video(src, [], str(tmp_path / "frames") + "/", **TINY)
    assert sorted(p.name for p in (tmp_path / "frames").iterdir()) == ["frame_00001.png"]


def test_temporal_methods_lower_the_warping_error(synthetic, tmp_path):
    clip, path, style = synthetic
    common = dict(SHALLOW, init="noise", style_weight=1e8)
    naive = stylize_video(path, [style], tmp_path / "naive.gif", temporal_init=False, short_term=False, **common)
    default = stylize_video(path, [style], tmp_path / "default.gif", **common)
    e_naive = warping_error(read_frames(naive.output), clip)
    e_default = warping_error(read_frames(default.output), clip)
    assert e_default < 0.5 * e_naive, (e_default, e_naive)
    # revealed pixels are filled from the content: no dark holes where the mask says "new"
    outs = read_frames(default.output)
    for t in range(1, len(outs)):
        revealed = ~clip.valid_mask(t, 1)
        if revealed.sum() > 10:
            assert outs[t][revealed].mean() > 0.5 * clip.frames[t][revealed].mean()


def test_long_term_lowers_the_error_at_larger_offsets(synthetic, tmp_path):
    clip, path, style = synthetic
    common = dict(SHALLOW, init="noise", style_weight=1e8, temporal_init=False, offsets=(1, 2, 4))
    short = stylize_video(path, [style], tmp_path / "short.gif", **common)
    long = stylize_video(path, [style], tmp_path / "long.gif", long_term=True, **common)
    e_short = warping_error(read_frames(short.output), clip, k=2)
    e_long = warping_error(read_frames(long.output), clip, k=2)
    assert e_long < e_short, (e_long, e_short)


def test_a_later_frame_stops_on_a_settled_picture_only_once_it_is_as_good_as_the_first_frame(synthetic, tmp_path):
    clip, path, style = synthetic
    # any change counts as settled: the picture rule fires at the first check it is allowed to
    opts = dict(SHALLOW, later_iters=40, first_iters=4, window=4, tol=0.0, picture_tol=1e9)
    res = stylize_video(path, [style], tmp_path / "settle.gif", **opts)
    first, later = res.records[0], res.records[1:]
    assert first.stop_reason == "max_iters" and first.iterations == 4 and first.changes == []  # no rule
    for rec in later:
        assert len(rec.changes) == rec.iterations // 4  # one reading per check, in the record
        if rec.stop_reason == "settled":
            assert rec.loss <= first.loss * 1.001, (first.loss, rec.loss)
        else:  # never got there: ran to its cap
            assert rec.iterations == 40 and rec.history[-1][1] > first.loss
    assert any(r.stop_reason == "settled" for r in later)
    off = stylize_video(path, [style], tmp_path / "off.gif", **dict(opts, picture_tol=0.0))
    assert all(r.iterations == 40 and r.changes == [] for r in off.records[1:])


def test_multipass_keeps_frames_and_records_each_pass(synthetic, tmp_path):
    clip, path, style = synthetic
    res = stylize_video(path, [style], tmp_path / "mp.gif", passes=3, multipass_iters=4, **SHALLOW)
    assert len(read_frames(res.output)) == len(clip)
    assert all(r.passes_done == 3 and len(r.iterations_per_pass) == 3 for r in res.records)


def test_interrupted_run_resumes_to_the_same_frames(synthetic, tmp_path):
    clip, path, style = synthetic
    full = stylize_video(path, [style], tmp_path / "full.gif", **SHALLOW)

    class Stop(Exception):
        pass

    def kill_after_three(event):
        if isinstance(event, FrameDone) and event.frame == 2:
            raise Stop

    with pytest.raises(Stop):
        stylize_video(path, [style], tmp_path / "cut.gif", callback=kill_after_three, **SHALLOW)
    assert not (tmp_path / "cut.gif").exists()
    events = []
    resumed = stylize_video(path, [style], tmp_path / "cut.gif", callback=events.append, **SHALLOW)
    done = [e for e in events if isinstance(e, FrameDone)]
    assert [e.resumed for e in done] == [True] * 3 + [False] * (len(clip) - 3)
    for a, b in zip(read_frames(full.output), read_frames(resumed.output)):
        assert np.abs(a.astype(int) - b.astype(int)).max() <= 1


def test_changed_settings_are_refused_unless_restart(synthetic, tmp_path):
    _, path, style = synthetic
    out = tmp_path / "o.gif"
    stylize_video(path, [style], out, end=2, **TINY)
    with pytest.raises(ResumeError, match=r"other settings \(style_weight: 1000000.0 -> 5.0\).*--restart"):
        stylize_video(path, [style], out, end=2, style_weight=5.0, **TINY)
    stylize_video(path, [style], out, end=2, style_weight=5.0, restart=True, **TINY)


def test_work_dir_of_another_clip_is_refused(synthetic, tmp_path):
    _, path, style = synthetic
    other = tmp_path / "other.gif"
    write_gif(other, [np.zeros((20, 20, 3), np.uint8)] * 2, [50, 50])
    stylize_video(path, [style], tmp_path / "a.gif", work_dir=tmp_path / "wd", end=1, **TINY)
    with pytest.raises(ResumeError, match="belongs to another clip"):
        stylize_video(other, [style], tmp_path / "b.gif", work_dir=tmp_path / "wd", **TINY)


def test_bad_output_suffix_and_output_equal_to_input(synthetic, tmp_path):
    _, path, style = synthetic
    with pytest.raises(InputError, match=r"\.xyz"):
        stylize_video(path, [style], tmp_path / "out.xyz", **TINY)
    with pytest.raises(InputError, match="is the input"):
        stylize_video(path, [style], path, **TINY)


def test_flow_source_distrusts_a_flow_that_missed_the_motion(tmp_path, monkeypatch):
    # a dark square moves 8 px over a static background; the "flow" saw nothing (zero both ways,
    # so the forward-backward check passes everywhere): the photometric gate must catch it
    from neuralpaint.flowstore import FlowSource

    rng = np.random.default_rng(0)
    bg = (100 + 20 * rng.random((32, 48, 3))).astype(np.uint8)
    f0, f1 = bg.copy(), bg.copy()
    f0[10:20, 10:20] = 10
    f1[10:20, 18:28] = 10
    zero = np.zeros((32, 48, 2), np.float32)
    monkeypatch.setattr(flows.FlowCache, "get_or_compute",
                        lambda self, frames, t, j, **k: flows.FlowResult(zero, zero, np.ones((32, 48), np.float32)))
    src = FlowSource([f0, f1], "dis", tmp_path, "clip")
    try:
        pf = src.get(1, 1)
    finally:
        src.close()
    moved_over = np.zeros((32, 48), bool)
    moved_over[10:20, 10:28] = True
    moved_over[10:20, 18:20] = False  # square in both frames: unchanged
    assert pf.c_backward[moved_over].max() == 0  # the ghost would be held here otherwise
    assert pf.c_backward[~moved_over].min() > 0.99
    np.testing.assert_array_equal(pf.c_still, pf.c_backward)  # zero flow: both transports agree


def test_carried_lbfgs_memory_changes_later_frames_only(synthetic, tmp_path):
    _, path, style = synthetic
    common = dict(SHALLOW, end=3)
    fresh = stylize_video(path, [style], tmp_path / "fresh/", **common)
    carried = stylize_video(path, [style], tmp_path / "carried/", carry_memory=True, **common)
    a, b = read_frames(fresh.output), read_frames(carried.output)
    assert len(a) == len(b) == 3
    np.testing.assert_array_equal(a[0], b[0])  # the first frame has no memory to start from
    assert any(np.abs(x.astype(int) - y.astype(int)).max() > 0 for x, y in zip(a[1:], b[1:]))
    assert [r.iterations for r in carried.records] == [r.iterations for r in fresh.records]


def test_warp_into_gives_back_the_detail_a_subpixel_warp_smoothed(tmp_path, monkeypatch):
    from neuralpaint.flowstore import FlowSource

    rng = np.random.default_rng(1)
    frames = [(255 * rng.random((24, 32, 3))).astype(np.uint8)] * 2
    half = np.full((24, 32, 2), 0.5, np.float32)
    monkeypatch.setattr(flows.FlowCache, "get_or_compute",
                        lambda self, frames, t, j, **k: flows.FlowResult(half, -half, np.ones((24, 32), np.float32)))
    src = FlowSource(frames, "dis", tmp_path, "clip")
    try:
        image = rng.random((24, 32, 3)).astype(np.float32)
        plain, c = src.warp_into(1, 0, image)
        restored, c2 = src.warp_into(1, 0, image, detail=0.5)
    finally:
        src.close()
    np.testing.assert_array_equal(c, c2)
    expected = np.clip(flows.restore_detail(flows.warp(image, half), half, 0.5), 0, 1)
    np.testing.assert_allclose(restored, expected, atol=1e-6)
    inner = (slice(2, -2), slice(2, -2))
    assert np.abs(np.diff(restored[inner], axis=1)).mean() > 1.1 * np.abs(np.diff(plain[inner], axis=1)).mean()
    assert restored.min() >= 0 and restored.max() <= 1


def test_warp_detail_changes_later_frames_only(synthetic, tmp_path):
    _, path, style = synthetic
    common = dict(SHALLOW, end=3)
    off = stylize_video(path, [style], tmp_path / "off/", **common)
    on = stylize_video(path, [style], tmp_path / "on/", warp_detail=1.0, **common)
    a, b = read_frames(off.output), read_frames(on.output)
    np.testing.assert_array_equal(a[0], b[0])  # nothing warped into the first frame
    assert any(not np.array_equal(x, y) for x, y in zip(a[1:], b[1:]))


def test_an_image_cap_given_to_a_video_is_refused_not_ignored(synthetic, tmp_path):
    _, path, style = synthetic
    out = tmp_path / "out.gif"
    with pytest.raises(InputError, match=r"iters=30 caps an image; a video's later frames take later_iters "
                                         r"\(--iters on the command line\) and its first frame first_iters"):
        stylize_video(path, [style], out, **dict(TINY, iters=30))
    with pytest.raises(InputError, match=r"iters=500 caps an image"):  # even at an image's default
        stylize_video(path, [style], out, **dict(TINY, iters=500))
    assert not out.exists()
    res = stylize_video(path, [style], out, **dict(TINY, end=3, tol=0.0))  # no stopping rule: the caps
    assert [r.iterations for r in res.records] == [16, 8, 8]  # first_iters, then later_iters
