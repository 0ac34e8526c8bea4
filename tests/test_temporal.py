"""neuralpaint.temporal: the init of a frame, the multi-pass blend, the temporal targets."""

from __future__ import annotations

import numpy as np
import pytest

from neuralpaint import temporal


def _img(value: float, h: int = 12, w: int = 16) -> np.ndarray:
    return np.full((h, w, 3), value, np.float32)


def test_reliable_pixels_start_from_the_warped_result():
    warped, content = _img(0.8), _img(0.2)
    init = temporal.initial_image([warped], [np.ones((12, 16), np.float32)], content)
    np.testing.assert_allclose(init, 0.8, atol=1e-6)


def test_each_pixel_comes_from_the_closest_earlier_frame_that_saw_it():
    w1, w2, w4 = _img(0.1), _img(0.5), _img(0.9)
    c1 = np.ones((12, 16), np.float32)
    c1[:, :8] = 0  # left half disoccluded since frame t-1 ...
    c2 = np.ones((12, 16), np.float32)
    c2[:, :4] = 0  # ... of which the left quarter was not visible in t-2 either, but in t-4
    c4 = np.ones((12, 16), np.float32)
    init = temporal.initial_image([w1, w2, w4], [c1, c2, c4], _img(0.0))
    np.testing.assert_allclose(init[:, 8:], 0.1, atol=1e-6)
    np.testing.assert_allclose(init[:, 4:8], 0.5, atol=1e-6)
    np.testing.assert_allclose(init[:, :4], 0.9, atol=1e-6)


def test_uncovered_pixels_are_painted_from_their_surroundings_not_the_photograph():
    rng = np.random.default_rng(0)
    painted = (0.6 + 0.05 * rng.standard_normal((24, 24, 3))).astype(np.float32)
    warped = painted.copy()
    warped[8:16, 8:16] = 0.0  # what the flow dragged in: garbage
    c = np.ones((24, 24), np.float32)
    c[8:16, 8:16] = 0.0
    photo = _img(0.1, 24, 24)
    init = temporal.initial_image([warped], [c], photo, fill="inpaint")
    hole = init[8:16, 8:16]
    assert abs(float(hole.mean()) - 0.6) < 0.06  # the painted colour around, not 0.1 nor 0.0
    np.testing.assert_allclose(init[c == 1], painted[c == 1], atol=1e-6)
    old = temporal.initial_image([warped], [c], photo, fill="content")
    np.testing.assert_allclose(old[8:16, 8:16], 0.1, atol=1e-6)
    ruder = temporal.initial_image([warped], [c], photo, fill="warped")
    np.testing.assert_allclose(ruder[8:16, 8:16], 0.0, atol=1e-6)


def test_partial_reliability_blends_and_the_init_stays_in_range():
    c = np.full((12, 16), 0.75, np.float32)
    init = temporal.initial_image([_img(1.0)], [c], _img(0.0), fill="content")
    np.testing.assert_allclose(init, 0.75, atol=1e-6)
    over = temporal.initial_image([_img(1.2)], [np.ones((12, 16), np.float32)], _img(0.0))
    assert float(over.max()) <= 1.0


def test_unknown_fill_and_mismatched_lists_are_refused():
    with pytest.raises(ValueError, match="unknown init fill 'blur'"):
        temporal.initial_image([_img(0.5)], [np.ones((12, 16), np.float32)], _img(0.5), fill="blur")
    with pytest.raises(ValueError, match="one reliability per warped result"):
        temporal.initial_image([_img(0.5), _img(0.5)], [np.ones((12, 16), np.float32)], _img(0.5))


def test_multipass_blend_is_ruders_weighted_mean():
    x = _img(0.0)
    prev, nxt = (_img(1.0), np.ones((12, 16), np.float32)), (_img(0.5), np.full((12, 16), 0.5, np.float32))
    out = temporal.multipass_init(x, [prev, nxt], delta=1.0)
    # (0 + 1·1 + 0.5·0.5) / (1 + 1 + 0.5)
    np.testing.assert_allclose(out, 1.25 / 2.5, atol=1e-6)
    np.testing.assert_allclose(temporal.multipass_init(x, [], 1.0), 0.0)


def test_temporal_targets_combine_closest_first():
    c1 = np.zeros((4, 4), np.float32)
    c1[:, 2:] = 1
    c2 = np.ones((4, 4), np.float32)
    targets, weights = temporal.temporal_targets([(_img(0.1, 4, 4), c1), (_img(0.2, 4, 4), c2)])
    assert len(targets) == 2
    np.testing.assert_array_equal(weights[0], c1)
    np.testing.assert_array_equal(weights[1], 1 - c1)  # held to t-2 only where t-1 did not see it


def test_photometric_gate_is_one_below_low_and_zero_above_high():
    low, high = temporal.PHOTO_LOW, temporal.PHOTO_HIGH
    err = np.array([[0.0, low, (low + high) / 2, high, 1.0]],
                   np.float32)
    np.testing.assert_allclose(temporal.photometric_gate(err), [[1, 1, 0.5, 0, 0]], atol=1e-6)


def test_still_candidates_fill_where_the_flow_failed_but_the_scene_did_not_move():
    # the smeared flow around a walker: unreliable warp; the unmoved earlier painting fits
    warped = _img(0.0)
    c = np.ones((12, 16), np.float32)
    c[:, :6] = 0
    still_ok = np.zeros((12, 16), np.float32)
    still_ok[:, :3] = 1  # of the unreliable strip, the left half did not change in the source
    earlier = _img(0.7)
    init = temporal.initial_image([warped], [c], _img(0.1), fill="content", still=[(earlier, still_ok)])
    np.testing.assert_allclose(init[:, :3], 0.7, atol=1e-6)  # the earlier painting, unmoved
    np.testing.assert_allclose(init[:, 3:6], 0.1, atol=1e-6)  # neither: the fill
    np.testing.assert_allclose(init[:, 6:], 0.0, atol=1e-6)  # the flow-warped result


def test_unseen_regions_are_boxed_grown_and_merged():
    covered = np.ones((64, 96), np.float32)
    covered[10:14, 10:20] = 0  # a revealed strip
    covered[12:16, 24:30] = 0  # a second one, close by: merged into one box
    covered[50:52, 80:82] = 0  # a tiny one (4 px): left to inpainting
    boxes = temporal.unseen_regions(covered, margin=4, min_side=32, min_area=5)
    assert len(boxes) == 1
    y0, y1, x0, x1 = boxes[0]
    assert y1 - y0 >= 32 and x1 - x0 >= 32  # big enough for VGG
    assert y0 <= 10 and y1 >= 16 and x0 <= 10 and x1 >= 30  # holds both strips
    assert 0 <= y0 and y1 <= 64 and 0 <= x0 and x1 <= 96
    assert temporal.unseen_regions(np.ones((64, 96), np.float32)) == []


def test_pass_fill_takes_the_painted_regions_and_inpaints_the_rest():
    c = np.ones((12, 16), np.float32)
    c[:, :8] = 0
    painted = np.full((12, 16, 3), np.nan, np.float32)
    painted[:, :4] = 0.3  # the independent pass painted the left part only
    init = temporal.initial_image([_img(0.8)], [c], _img(0.1), fill="pass", painted=painted)
    np.testing.assert_allclose(init[:, :4], 0.3, atol=1e-6)
    assert float(np.abs(init[:, 4:8] - 0.1).min()) > 0.2  # never the photograph
    np.testing.assert_allclose(init[:, 8:], 0.8, atol=1e-6)
