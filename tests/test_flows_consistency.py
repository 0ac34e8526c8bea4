"""flows.consistency: the reliability check against a per-pixel re-implementation of Ruder's
consistencyChecker, rates on synthetic scenes with known disocclusions, long-term weights."""

from __future__ import annotations

import math

import numpy as np
import pytest

from flows import FlowError, combine_long_term, estimate, reliability, reliability_mask
from flows.consistency import gaussian_taps, raw_reliability
from flows.synthetic import make_clip


# -- a straightforward re-implementation of consistencyChecker.cpp, one pixel at a time ------


def _mirror(i: int, n: int) -> int:
    # CFilter's rim rule: index -1-k for negative, 2n-1-k beyond the end. Applied repeatedly:
    # the C++ reads out of bounds when the image is narrower than the kernel's radius; we
    # (and OpenCV's BORDER_REFLECT) keep reflecting.
    while not 0 <= i < n:
        i = -1 - i if i < 0 else 2 * n - 1 - i
    return i


def reference_check(f1: np.ndarray, f2: np.ndarray, sigma: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
    """(raw r before smoothing, c = clip(smoothed r, 0, 255) / 255), following the C++ loop."""
    h, w = f1.shape[:2]
    f1 = f1.astype(np.float64)
    f2 = f2.astype(np.float64)
    edge = np.zeros((h, w))
    for y in range(h):
        for x in range(w):
            for c in range(2):
                dx = 0.5 * (f1[y, _mirror(x + 1, w), c] - f1[y, _mirror(x - 1, w), c])
                dy = 0.5 * (f1[_mirror(y + 1, h), x, c] - f1[_mirror(y - 1, h), x, c])
                edge[y, x] += dx * dx + dy * dy
    r = np.full((h, w), 255.0)
    for ay in range(h):
        for ax in range(w):
            bx = ax + f1[ay, ax, 0]
            by = ay + f1[ay, ax, 1]
            x1, y1 = math.floor(bx), math.floor(by)
            x2, y2 = x1 + 1, y1 + 1
            if x1 < 0 or x2 >= w or y1 < 0 or y2 >= h:
                r[ay, ax] = 0.0
                continue
            alpha_x, alpha_y = bx - x1, by - y1
            a = (1 - alpha_x) * f2[y1, x1, 0] + alpha_x * f2[y1, x2, 0]
            b = (1 - alpha_x) * f2[y2, x1, 0] + alpha_x * f2[y2, x2, 0]
            u = (1 - alpha_y) * a + alpha_y * b
            a = (1 - alpha_x) * f2[y1, x1, 1] + alpha_x * f2[y1, x2, 1]
            b = (1 - alpha_x) * f2[y2, x1, 1] + alpha_x * f2[y2, x2, 1]
            v = (1 - alpha_y) * a + alpha_y * b
            cx, cy = bx + u, by + v
            u2, v2 = f1[ay, ax, 0], f1[ay, ax, 1]
            if (cx - ax) ** 2 + (cy - ay) ** 2 >= 0.01 * (u2 * u2 + v2 * v2 + u * u + v * v) + 0.5:
                r[ay, ax] = -255.0
                continue
            if edge[ay, ax] > 0.01 * (u2 * u2 + v2 * v2) + 0.002:
                r[ay, ax] = 0.0
                continue
    raw = r.copy()
    # CSmooth(sigma, 2.0): 2*ceil(2 sigma)+1 taps of exp(-i^2 / 2 sigma^2), normalised to sum 1.
    radius = math.ceil(2.0 * sigma)
    taps = [math.exp(-(i * i) / (2 * sigma * sigma)) for i in range(-radius, radius + 1)]
    taps = [t / sum(taps) for t in taps]
    tmp = np.zeros((h, w))
    for y in range(h):
        for x in range(w):
            tmp[y, x] = sum(taps[i + radius] * r[y, _mirror(x + i, w)] for i in range(-radius, radius + 1))
    out = np.zeros((h, w))
    for y in range(h):
        for x in range(w):
            out[y, x] = sum(taps[i + radius] * tmp[_mirror(y + i, h), x] for i in range(-radius, radius + 1))
    return raw, np.clip(out, 0, 255) / 255.0


@pytest.fixture(scope="module")
def small_objects_flows():
    clip = make_clip(n_frames=2, height=40, width=56, motion="objects", seed=4, speed=2.0)
    bw = estimate(clip.frames[1], clip.frames[0])
    fw = estimate(clip.frames[0], clip.frames[1])
    return clip, bw, fw


def test_matches_reference_loop_on_estimated_flows(small_objects_flows):
    clip, bw, fw = small_objects_flows
    raw_ref, c_ref = reference_check(bw, fw)
    raw = raw_reliability(bw, fw)
    # The case has every kind of pixel: reliable, disoccluded, boundary or outside.
    assert (raw_ref == 255).any() and (raw_ref == -255).any() and (raw_ref == 0).any()
    np.testing.assert_array_equal(raw, raw_ref.astype(np.float32))
    c = reliability(bw, fw)
    assert c.dtype == np.float32 and c.shape == bw.shape[:2]
    np.testing.assert_allclose(c, c_ref, atol=1e-5)


def test_matches_reference_loop_on_ground_truth_with_outside():
    clip = make_clip(n_frames=3, height=32, width=40, motion="mixed", seed=2, speed=2.0)
    bw, fw = clip.backward_flow(2, 2), clip.forward_flow(2, 2)
    raw_ref, c_ref = reference_check(bw, fw)
    assert (raw_ref == -255).any() and (raw_ref == 0).any()
    np.testing.assert_array_equal(raw_reliability(bw, fw), raw_ref.astype(np.float32))
    np.testing.assert_allclose(reliability(bw, fw), c_ref, atol=1e-5)


def test_gaussian_taps_are_the_reference_kernel():
    taps = gaussian_taps(0.8, 2.0)
    assert taps.shape == (5,)
    assert taps.sum() == pytest.approx(1.0)
    assert taps[2] > taps[1] > taps[0] and taps[0] == pytest.approx(taps[4])


def test_zero_flow_is_reliable_inside_and_zero_on_the_last_row_and_column():
    # The reference needs floor(x)+1 inside the image: the last row/column count as outside.
    z = np.zeros((12, 16, 2), np.float32)
    raw = raw_reliability(z, z)
    assert (raw[:-1, :-1] == 255).all()
    assert (raw[-1, :] == 0).all() and (raw[:, -1] == 0).all()
    c = reliability(z, z)
    assert c[:-3, :-3].min() == pytest.approx(1.0)
    assert ((c >= 0) & (c <= 1)).all()


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (6, 1), (2, 2)])
def test_degenerate_shapes_match_the_reference(shape):
    rng = np.random.default_rng(3)
    f1 = (rng.standard_normal(shape + (2,)) * 0.3).astype(np.float32)
    f2 = (rng.standard_normal(shape + (2,)) * 0.3).astype(np.float32)
    raw_ref, c_ref = reference_check(f1, f2)
    np.testing.assert_array_equal(raw_reliability(f1, f2), raw_ref.astype(np.float32))
    np.testing.assert_allclose(reliability(f1, f2), c_ref, atol=1e-5)


def test_random_flows_match_the_reference():
    # Smooth random flows of a few pixels: every branch, with many pixels near the thresholds.
    rng = np.random.default_rng(11)
    import cv2

    f1 = cv2.GaussianBlur((rng.standard_normal((24, 30, 2)) * 6).astype(np.float32), (0, 0), 2)
    f2 = -f1 + cv2.GaussianBlur((rng.standard_normal((24, 30, 2)) * 3).astype(np.float32), (0, 0), 1.5)
    raw_ref, c_ref = reference_check(f1, f2)
    assert len(np.unique(raw_ref)) == 3
    np.testing.assert_array_equal(raw_reliability(f1, f2), raw_ref.astype(np.float32))
    np.testing.assert_allclose(reliability(f1, f2), c_ref, atol=1e-5)


def test_flow_leaving_the_image_is_zero():
    f = np.zeros((10, 10, 2), np.float32)
    f[..., 0] = -20.0
    back = -f
    assert not reliability_mask(f, back).any()
    assert reliability(f, back).max() == 0.0


def test_constants_are_keywords():
    clip = make_clip(n_frames=2, height=40, width=56, motion="objects", seed=4, speed=2.0)
    bw, fw = clip.backward_flow(1), clip.forward_flow(1)
    strict = reliability_mask(bw, fw)
    assert not strict[clip.revealed_mask(1)].any()
    # A huge occlusion offset accepts every disocclusion; no boundary test keeps the rest.
    lax = reliability_mask(bw, fw, occlusion_offset=1e9, boundaries=False)
    inside = ~clip.out_of_frame_mask(1)
    inside[-1, :] = inside[:, -1] = False
    assert lax[inside].all()
    # The occluded value can be made harmless and smoothing switched off.
    raw = reliability(bw, fw, occluded_value=255.0, boundary_value=255.0, sigma=0)
    assert set(np.unique(raw)) <= {0.0, 1.0}
    with pytest.raises(TypeError, match="unexpected keyword"):
        reliability(bw, fw, occlusion_treshold=0.1)  # type: ignore[call-arg]


@pytest.mark.parametrize("source", ["ground_truth", "dis"])
def test_rates_on_revealed_and_other_pixels(source):
    """Disoccluded pixels get low weight, the rest mostly high.

    Measured (192x256, objects moving 4-8 px, seeds 0-5): ground truth 100% of revealed < 0.5
    and >= 96% of the rest > 0.5; DIS (medium) >= 93% and >= 88.6% (motion boundaries of the
    estimated flow take the rest). Bounds below keep a margin.
    """
    revealed_low, rest_high = [], []
    for seed in (0, 1, 2):
        clip = make_clip(n_frames=2, height=192, width=256, motion="objects", seed=seed, speed=2.0)
        if source == "dis":
            bw = estimate(clip.frames[1], clip.frames[0])
            fw = estimate(clip.frames[0], clip.frames[1])
        else:
            bw, fw = clip.backward_flow(1), clip.forward_flow(1)
        c = reliability(bw, fw)
        revealed, valid = clip.revealed_mask(1), clip.valid_mask(1)
        assert revealed.sum() > 200
        revealed_low.append((c[revealed] < 0.5).mean())
        rest_high.append((c[valid] > 0.5).mean())
    low, high = (0.98, 0.93) if source == "ground_truth" else (0.88, 0.83)
    assert min(revealed_low) >= low, revealed_low
    assert min(rest_high) >= high, rest_high


def test_mask_is_binary_and_agrees_with_raw():
    clip = make_clip(n_frames=2, height=40, width=56, motion="objects", seed=1, speed=2.0)
    bw, fw = clip.backward_flow(1), clip.forward_flow(1)
    m = reliability_mask(bw, fw)
    assert m.dtype == np.bool_ and m.shape == (40, 56)
    np.testing.assert_array_equal(m, raw_reliability(bw, fw) == 255)


def test_errors_repeat_the_shapes():
    a = np.zeros((8, 8, 2), np.float32)
    with pytest.raises(FlowError, match=r"\(8, 8, 2\) and \(8, 9, 2\)"):
        reliability(a, np.zeros((8, 9, 2), np.float32))
    with pytest.raises(FlowError, match=r"HxWx2, got \(8, 8\)"):
        reliability(np.zeros((8, 8)), a)
    with pytest.raises(FlowError, match="sigma"):
        reliability(a, a, sigma=-1.0)


# -- long-term weights ------------------------------------------------------------------------


def test_combine_long_term_closest_first_dict():
    c1 = np.array([[1.0, 0.0, 0.0, 0.3]], np.float32)
    c2 = np.array([[1.0, 1.0, 0.0, 1.0]], np.float32)
    c4 = np.array([[1.0, 1.0, 1.0, 1.0]], np.float32)
    out = combine_long_term({4: c4, 1: c1, 2: c2})  # any key order
    assert list(out) == [1, 2, 4]
    np.testing.assert_allclose(out[1], [[1.0, 0.0, 0.0, 0.3]])
    np.testing.assert_allclose(out[2], [[0.0, 1.0, 0.0, 0.7]])
    np.testing.assert_allclose(out[4], [[0.0, 0.0, 1.0, 0.0]], atol=1e-7)
    total = out[1] + out[2] + out[4]
    assert total.max() <= 1.0 + 1e-6


def test_combine_long_term_list_and_errors():
    a = np.full((2, 2), 0.6, np.float32)
    out = combine_long_term([a, a, a])
    assert isinstance(out, list)
    np.testing.assert_allclose(out[0], 0.6)
    np.testing.assert_allclose(out[1], 0.0)  # max(0.6 - 0.6, 0)
    np.testing.assert_allclose(out[2], 0.0)
    b = np.array([[0.2, 1.0], [0.0, 0.5]], np.float32)
    out = combine_long_term([b, np.ones((2, 2), np.float32)])
    np.testing.assert_allclose(out[1], [[0.8, 0.0], [1.0, 0.5]])
    with pytest.raises(FlowError, match=r"shape \(3, 2\)"):
        combine_long_term([a, np.ones((3, 2), np.float32)])
    with pytest.raises(FlowError, match="positive integers, got 0"):
        combine_long_term({0: a})
    with pytest.raises(FlowError, match="dict"):
        combine_long_term(a)  # type: ignore[arg-type]
