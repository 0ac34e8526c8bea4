"""flows.synthetic: determinism, exactness of the ground truth, masks."""

from __future__ import annotations

import numpy as np
import pytest

from flows import FlowError, out_of_frame, warp
from flows.synthetic import MOTIONS, make_clip, random_texture


def test_deterministic_for_a_seed():
    a = make_clip(n_frames=3, height=24, width=32, motion="mixed", seed=7)
    b = make_clip(n_frames=3, height=24, width=32, motion="mixed", seed=7)
    c = make_clip(n_frames=3, height=24, width=32, motion="mixed", seed=8)
    for fa, fb in zip(a.frames, b.frames):
        np.testing.assert_array_equal(fa, fb)
    np.testing.assert_array_equal(a.backward_flow(2, 2), b.backward_flow(2, 2))
    assert not np.array_equal(a.frames[0], c.frames[0])
    t1, t2 = random_texture(20, 30, seed=1), random_texture(20, 30, seed=1)
    np.testing.assert_array_equal(t1, t2)
    assert t1.dtype == np.float32 and t1.shape == (20, 30, 3) and 0 < t1.min() and t1.max() < 1


@pytest.mark.parametrize("motion", MOTIONS)
def test_frames_and_shapes(motion):
    clip = make_clip(n_frames=3, height=40, width=56, motion=motion, seed=1)
    assert len(clip) == len(clip.frames) == 3
    for f in clip.frames:
        assert f.dtype == np.uint8 and f.shape == (40, 56, 3)
        assert f.std() > 20  # textured, not flat
    flow, valid = clip.backward_flow(2), clip.valid_mask(2)
    assert flow.dtype == np.float32 and flow.shape == (40, 56, 2)
    assert valid.dtype == np.bool_ and valid.shape == (40, 56)
    if motion == "static":
        assert not flow.any() and valid.all()
    else:
        assert np.abs(flow).max() > 0.5


def test_pan_is_a_constant_translation():
    clip = make_clip(n_frames=4, motion="pan", seed=3)
    flow = clip.backward_flow(3, 2)
    assert np.ptp(flow[..., 0]) < 1e-4 and np.ptp(flow[..., 1]) < 1e-4
    assert 4.0 <= np.hypot(*flow[0, 0]) <= 6.0  # 2-3 px per frame, two frames
    # Out of frame exactly where x + dx leaves [0, W-1] (or y + dy leaves [0, H-1]).
    gy, gx = np.mgrid[0:96, 0:128]
    outside = (gx + flow[..., 0] < 0) | (gx + flow[..., 0] > 127) | (gy + flow[..., 1] < 0) | (gy + flow[..., 1] > 95)
    np.testing.assert_array_equal(clip.out_of_frame_mask(3, 2), outside)
    np.testing.assert_array_equal(clip.valid_mask(3, 2), ~outside)
    assert not clip.revealed_mask(3, 2).any()


def test_rotation_and_zoom_are_exact_similarities():
    rot = make_clip(n_frames=2, motion="rotate", seed=0)
    f = rot.backward_flow(1)
    c = np.array([63.5, 47.5])
    gy, gx = np.mgrid[0:96, 0:128]
    p = np.stack([gx, gy], axis=2) - c
    q = p + f
    # Distances to the centre are preserved, the angle changes by 2 degrees.
    np.testing.assert_allclose(np.hypot(*np.moveaxis(q, 2, 0)), np.hypot(*np.moveaxis(p, 2, 0)), atol=1e-3)
    angle = np.arctan2(q[..., 1], q[..., 0]) - np.arctan2(p[..., 1], p[..., 0])
    angle = (angle + np.pi) % (2 * np.pi) - np.pi
    sel = np.hypot(p[..., 0], p[..., 1]) > 5
    np.testing.assert_allclose(np.abs(np.rad2deg(angle[sel])), 2.0, atol=1e-3)
    zoom = make_clip(n_frames=2, motion="zoom", seed=0)
    q = p + zoom.backward_flow(1)
    ratio = np.hypot(q[..., 0], q[..., 1])[sel] / np.hypot(p[..., 0], p[..., 1])[sel]
    assert np.ptp(ratio) < 1e-4 and abs(ratio.mean() - 1) == pytest.approx(0.025, rel=0.05)


@pytest.mark.parametrize("motion", ["pan", "zoom", "rotate", "objects", "mixed"])
def test_warping_with_the_ground_truth_reproduces_the_frame(motion):
    clip = make_clip(n_frames=3, motion=motion, seed=4, brightness=0.0)
    for k in (1, 2):
        warped = warp(clip.frames[2 - k].astype(np.float32), clip.backward_flow(2, k))
        err = np.abs(warped - clip.frames[2]).mean(axis=2)
        valid = clip.valid_mask(2, k)
        assert valid.mean() > 0.8
        # Only the bilinear interpolation of the rendered frame remains: measured 0.4-1.9 of 255.
        assert err[valid].mean() < 2.5, (motion, k, err[valid].mean())


def test_forward_and_backward_ground_truth_are_inverse():
    clip = make_clip(n_frames=3, motion="mixed", seed=6)
    bw, fw = clip.backward_flow(2, 2), clip.forward_flow(2, 2)
    valid = clip.valid_mask(2, 2)
    # fw sampled where bw points: bw(x) + fw(x + bw(x)) = 0 (up to interpolation of fw).
    back = warp(fw, bw, interpolation="linear")  # a flow field: no bicubic overshoot at its edges
    res = np.hypot(*np.moveaxis(bw + back, 2, 0))
    inner = valid & ~out_of_frame(bw)
    assert np.median(res[inner]) < 1e-3
    assert (res[inner] < 0.05).mean() > 0.95  # object edges: fw sampled across a boundary


def test_objects_reveal_and_hide_background():
    clip = make_clip(n_frames=3, motion="objects", seed=0, speed=2.0)
    revealed = clip.revealed_mask(2)
    assert revealed.sum() > 100
    assert not clip.valid_mask(2)[revealed].any()
    assert not clip.out_of_frame_mask(2).any()  # static camera, objects stay in view here
    ids = clip.surface_ids(2)
    assert set(np.unique(ids)) == {0, 1, 2, 3}
    # Revealed pixels show background (or a lower object) that was under an object before.
    assert (ids[revealed] == 0).any() and (ids[revealed] < 3).all()


def test_brightness_changes_the_frames_not_the_flow():
    plain = make_clip(n_frames=3, motion="pan", seed=2)
    bright = make_clip(n_frames=3, motion="pan", seed=2, brightness=0.3)
    np.testing.assert_array_equal(plain.frames[0], bright.frames[0])
    ratio = bright.frames[2].mean() / plain.frames[2].mean()
    assert 1.2 < ratio < 1.31
    np.testing.assert_array_equal(plain.backward_flow(2), bright.backward_flow(2))
    assert bright.gain(1) == pytest.approx(1.15)


def test_speed_scales_the_motion():
    slow = make_clip(n_frames=2, motion="pan", seed=5, speed=0.5).backward_flow(1)
    fast = make_clip(n_frames=2, motion="pan", seed=5, speed=2.0).backward_flow(1)
    np.testing.assert_allclose(fast, 4 * slow, atol=1e-4)


def test_errors():
    with pytest.raises(FlowError, match=r"unknown motion 'walk'; choose one of static, pan"):
        make_clip(motion="walk")
    with pytest.raises(FlowError, match=r"height must be an integer >= 8, got 4"):
        make_clip(height=4)
    with pytest.raises(FlowError, match=r"speed must be a non-negative number, got -1"):
        make_clip(speed=-1)
    clip = make_clip(n_frames=2, height=16, width=16)
    with pytest.raises(FlowError, match="frame 1 has no frame 2 before it"):
        clip.backward_flow(1, 2)
    with pytest.raises(FlowError, match=r"0\.\.1, got 2"):
        clip.valid_mask(2)
    with pytest.raises(FlowError, match="positive integer, got 0"):
        clip.backward_flow(1, 0)
