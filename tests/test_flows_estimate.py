"""flows.estimate: every backend against exact ground truth, input handling, errors."""

from __future__ import annotations

import numpy as np
import pytest

from flows import METHODS, FlowError, estimate, pair, warp
from flows.synthetic import make_clip

# Mean end-point error (pixels) over the valid, moving (|truth| > 0.5 px) pixels of 96x128 clips,
# frame 1 -> 0. Measured on this build (OpenCV 5.0.0), worst of seeds 0-3:
#   pan     dis .067 farneback .009 tvl1 .058 deepflow .012   (2-3 px translation; zero flow 2.6)
#   zoom    dis .105 farneback .057 tvl1 .062 deepflow .023   (2.5 %; zero flow 1.1)
#   rotate  dis .101 farneback .080 tvl1 .072 deepflow .026   (2 degrees; zero flow 1.5)
#   objects dis .703 farneback .641 tvl1 .227 deepflow .627   (objects moving 2-4 px; zero 3.4)
#   mixed   dis .289 farneback .367 tvl1 .121 deepflow .198   (zero flow 2.1)
# Bounds: about twice the measured worst case, at least 0.1 px. The tests use seed 0.
EPE_BOUND = {
    "pan": {"dis": 0.15, "farneback": 0.1, "tvl1": 0.12, "deepflow": 0.1},
    "zoom": {"dis": 0.2, "farneback": 0.12, "tvl1": 0.13, "deepflow": 0.1},
    "rotate": {"dis": 0.2, "farneback": 0.16, "tvl1": 0.15, "deepflow": 0.1},
    "objects": {"dis": 1.2, "farneback": 1.2, "tvl1": 0.45, "deepflow": 1.2},
    "mixed": {"dis": 0.6, "farneback": 0.7, "tvl1": 0.25, "deepflow": 0.4},
}


def epe(flow: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> float:
    return float(np.sqrt(((flow - truth) ** 2).sum(axis=2))[mask].mean())


def moving(clip, t: int = 1, k: int = 1) -> np.ndarray:
    truth = clip.backward_flow(t, k)
    return clip.valid_mask(t, k) & (np.hypot(truth[..., 0], truth[..., 1]) > 0.5)


@pytest.fixture(scope="module")
def clips():
    return {m: make_clip(n_frames=2, motion=m, seed=0) for m in EPE_BOUND}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("motion", list(EPE_BOUND))
def test_end_point_error_against_ground_truth(clips, motion, method):
    clip = clips[motion]
    flow = estimate(clip.frames[1], clip.frames[0], method)
    assert flow.dtype == np.float32 and flow.shape == (96, 128, 2)
    truth, mask = clip.backward_flow(1), moving(clip)
    assert epe(flow, truth, mask) < EPE_BOUND[motion][method]
    # The bounds mean something: zero flow is at least twice the largest of them off.
    assert epe(np.zeros_like(truth), truth, mask) > 2 * max(EPE_BOUND[motion].values())


def test_warping_with_estimated_backward_flow_reproduces_the_frame(clips):
    clip = clips["mixed"]
    flow = estimate(clip.frames[1], clip.frames[0])
    valid = clip.valid_mask(1)

    def error(f: np.ndarray) -> float:
        # linear: the synthetic frames are rendered by bilinear sampling
        warped = warp(clip.frames[0].astype(np.float32), f, interpolation="linear")
        return float(np.abs(warped - clip.frames[1].astype(np.float32)).mean(axis=2)[valid].mean())

    # Mean abs error (of 255) in the visible area; measured: DIS 3.3, exact flow 0.76, none 20.8.
    assert error(flow) < 6.0
    assert error(clip.backward_flow(1)) < 1.5
    assert error(np.zeros_like(flow)) > 15.0


@pytest.mark.parametrize("preset", ["ultrafast", "fast", "medium"])
def test_dis_presets(clips, preset):
    clip = clips["pan"]
    flow = estimate(clip.frames[1], clip.frames[0], "dis", preset=preset)
    # Measured: ultrafast .127, fast .146, medium .067.
    assert epe(flow, clip.backward_flow(1), clip.valid_mask(1)) < 0.3


def test_tunables_reach_the_backend(clips):
    clip = clips["pan"]
    a, b = clip.frames[1], clip.frames[0]
    base = estimate(a, b, "farneback")
    assert not np.array_equal(base, estimate(a, b, "farneback", winsize=5, levels=2))
    assert not np.array_equal(estimate(a, b, "dis"), estimate(a, b, "dis", variational_refinement_iterations=0))
    assert not np.array_equal(estimate(a, b, "tvl1", warps=1), estimate(a, b, "tvl1"))


def test_input_kinds_agree(clips):
    clip = clips["pan"]
    a, b = clip.frames[1], clip.frames[0]
    ref = estimate(a, b)
    as_float = estimate(a.astype(np.float32) / 255.0, b.astype(np.float64) / 255.0)
    np.testing.assert_array_equal(ref, as_float)
    import cv2

    ga, gb = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY), cv2.cvtColor(b, cv2.COLOR_RGB2GRAY)
    np.testing.assert_array_equal(ref, estimate(ga, gb))
    np.testing.assert_array_equal(ref, estimate(ga[..., None], gb[..., None]))
    rgba = np.concatenate([a, np.full(a.shape[:2] + (1,), 255, np.uint8)], axis=2)
    rgbb = np.concatenate([b, np.zeros(b.shape[:2] + (1,), np.uint8)], axis=2)
    np.testing.assert_array_equal(ref, estimate(rgba, rgbb))
    # Non-contiguous views are fine.
    np.testing.assert_array_equal(estimate(a[:, ::-1], b[:, ::-1]).shape, (96, 128, 2))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("shape", [(1, 1), (5, 3), (12, 100), (23, 37), (100, 9)])
def test_any_size(method, shape):
    # Small and elongated images: OpenCV's DIS alone crashes on some of these (see _dis_calc).
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, shape + (3,), dtype=np.uint8)
    flow = estimate(a, a, method)
    assert flow.shape == shape + (2,) and flow.dtype == np.float32
    assert np.isfinite(flow).all()


def test_pair_directions():
    clip = make_clip(n_frames=4, motion="pan", seed=1)
    backward, forward = pair(clip.frames, 3, 2)
    truth_b, truth_f = clip.backward_flow(3, 2), clip.forward_flow(3, 2)
    vb, vf = clip.valid_mask(3, 2), clip.visible(1, 3)
    assert epe(-backward, truth_b, vb) > 3.0  # directions matter
    assert epe(backward, truth_b, vb) < 0.2
    assert epe(forward, truth_f, vf) < 0.2
    np.testing.assert_array_equal(backward, estimate(clip.frames[3], clip.frames[1]))


def test_pair_errors():
    frames = [np.zeros((16, 16, 3), np.uint8)] * 3
    with pytest.raises(FlowError, match="no frame 3 before it"):
        pair(frames, 2, 3)
    with pytest.raises(FlowError, match=r"0\.\.2, got 3"):
        pair(frames, 3, 1)
    with pytest.raises(FlowError, match="positive integer, got 0"):
        pair(frames, 2, 0)


def test_errors_name_the_bad_value():
    a = np.zeros((16, 20, 3), np.uint8)
    with pytest.raises(FlowError, match=r"unknown flow method 'raft'; choose one of dis, farneback, deepflow, tvl1"):
        estimate(a, a, "raft")
    with pytest.raises(FlowError, match=r"unknown parameter 'winsize' for flow method 'dis'.*patch_size"):
        estimate(a, a, "dis", winsize=3)
    with pytest.raises(FlowError, match=r"unknown parameter 'alpha' for flow method 'deepflow'; its parameters: none"):
        estimate(a, a, "deepflow", alpha=1.0)
    with pytest.raises(FlowError, match=r"same size, got \(16, 20, 3\) and \(16, 21, 3\)"):
        estimate(a, np.zeros((16, 21, 3), np.uint8))
    with pytest.raises(FlowError, match=r"unknown DIS preset 'slow'"):
        estimate(a, a, preset="slow")
    with pytest.raises(FlowError, match=r"patch_size must be >= 2, got 1"):
        estimate(a, a, patch_size=1)
    with pytest.raises(FlowError, match=r"patch_stride \(8\) must not exceed patch_size \(4\)"):
        estimate(a, a, patch_size=4, patch_stride=8)
    with pytest.raises(FlowError, match=r"pyr_scale must be > 0.0 and < 1.0, got 1.5"):
        estimate(a, a, "farneback", pyr_scale=1.5)
    with pytest.raises(FlowError, match=r"levels must be a int, got 2.5"):
        estimate(a, a, "farneback", levels=2.5)
    with pytest.raises(FlowError, match=r"use_spatial_propagation must be a bool, got 1"):
        estimate(a, a, use_spatial_propagation=1)
    with pytest.raises(FlowError, match=r"median_filtering"):
        estimate(a, a, "tvl1", median_filtering=4)  # OpenCV refuses it; wrapped
    with pytest.raises(FlowError, match=r"shape \(16, 20, 2\)"):
        estimate(np.zeros((16, 20, 2), np.uint8), np.zeros((16, 20, 2), np.uint8))
    with pytest.raises(FlowError, match="dtype int32"):
        estimate(a.astype(np.int32), a.astype(np.int32))
    with pytest.raises(FlowError, match="NaN"):
        estimate(np.full((8, 8), np.nan), np.zeros((8, 8)))
    with pytest.raises(FlowError, match="empty"):
        estimate(np.zeros((0, 8), np.uint8), np.zeros((0, 8), np.uint8))
    with pytest.raises(FlowError, match="numpy array, got list"):
        estimate([[0]], [[0]])  # type: ignore[arg-type]
