"""flows.warp: backward warping semantics, channels, dtypes, fill, out-of-frame mask; restoring the
detail that sub-pixel interpolation takes."""

from __future__ import annotations

import numpy as np
import pytest

import cv2

from flows import FlowError, out_of_frame, out_of_frame_mask, restore_detail, subpixel_phase, warp
from flows.synthetic import make_clip


def constant_flow(h: int, w: int, dx: float, dy: float) -> np.ndarray:
    f = np.zeros((h, w, 2), np.float32)
    f[..., 0], f[..., 1] = dx, dy
    return f


def test_zero_flow_is_identity():
    img = np.random.default_rng(0).random((9, 11, 3)).astype(np.float32)
    np.testing.assert_array_equal(warp(img, np.zeros((9, 11, 2), np.float32)), img)


def test_integer_shift_samples_image_at_x_plus_dx():
    img = np.arange(6 * 8, dtype=np.float32).reshape(6, 8)
    out = warp(img, constant_flow(6, 8, 2, 1), fill=-1.0)
    # out(y, x) = img(y + 1, x + 2)
    np.testing.assert_array_equal(out[:5, :6], img[1:, 2:])
    assert (out[5, :] == -1).all() and (out[:, 6:] == -1).all()
    np.testing.assert_array_equal(out_of_frame(constant_flow(6, 8, 2, 1)), out == -1)


def test_half_pixel_is_bilinear_with_linear_interpolation():
    img = np.array([[0.0, 10.0, 20.0]], np.float32).repeat(2, axis=0)
    out = warp(img, constant_flow(2, 3, 0.5, 0), interpolation="linear")
    np.testing.assert_allclose(out[:, :2], [[5.0, 15.0], [5.0, 15.0]], atol=1e-4)


def test_cubic_is_the_default_and_keeps_a_ramp_inside_the_image():
    img = np.arange(10, dtype=np.float32)[None].repeat(3, axis=0) * 10
    out = warp(img, constant_flow(3, 10, 0.5, 0))
    np.testing.assert_allclose(out[:, 2:7], img[:, 2:7] + 5, atol=0.02)


def test_repeated_subpixel_warps_stay_sharper_with_cubic():
    # a texture warped back and forth by 0.4 px 12 times (what a near-static clip does to a
    # stylised frame): bilinear low-passes it, bicubic keeps most of its fine detail
    rng = np.random.default_rng(3)
    img = rng.random((40, 40)).astype(np.float32)

    def detail(a: np.ndarray) -> float:
        return float(np.abs(np.diff(a[8:-8, 8:-8], axis=1)).mean())

    kept = {}
    for mode in ("linear", "cubic"):
        x = img
        for k in range(12):
            x = warp(x, constant_flow(40, 40, 0.4 if k % 2 == 0 else -0.4, 0), interpolation=mode)
        kept[mode] = detail(x) / detail(img)
    assert kept["linear"] < 0.6 and kept["cubic"] > kept["linear"] + 0.15


def test_edge_pixels_never_mix_in_the_fill():
    img = np.full((6, 6), 100.0, np.float32)
    out = warp(img, constant_flow(6, 6, 0.5, 0.5), fill=0.0)
    inside = ~out_of_frame(constant_flow(6, 6, 0.5, 0.5))
    np.testing.assert_allclose(out[inside], 100.0, atol=1e-3)
    assert (out[~inside] == 0).all()


def test_unknown_interpolation_is_refused():
    with pytest.raises(FlowError, match="unknown interpolation 'lanczos'"):
        warp(np.zeros((4, 4), np.float32), constant_flow(4, 4, 0, 0), interpolation="lanczos")


@pytest.mark.parametrize("shape", [(7, 9), (7, 9, 1), (7, 9, 3), (7, 9, 4), (7, 9, 5), (7, 9, 11)])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64, np.uint16, np.float16])
def test_channels_and_dtypes(shape, dtype):
    rng = np.random.default_rng(1)
    if np.issubdtype(dtype, np.integer):
        img = rng.integers(0, 200, shape).astype(dtype)
    else:
        img = rng.random(shape).astype(dtype)
    flow = constant_flow(7, 9, 1, -1)
    out = warp(img, flow, fill=7)
    assert out.shape == img.shape and out.dtype == img.dtype
    # Same as warping channel by channel.
    if img.ndim == 3:
        for c in range(shape[2]):
            np.testing.assert_array_equal(out[..., c], warp(np.ascontiguousarray(img[..., c]), flow, fill=7))
    # float64 goes through float32 for OpenCV's bicubic remap: equal to float32 precision
    np.testing.assert_allclose(np.asarray(out[1:, :-1], dtype=np.float64),
                               np.asarray(img[:-1, 1:], dtype=np.float64), rtol=1e-6)
    assert (np.asarray(out[0], dtype=np.float64) == 7).all()


def test_fill_per_channel():
    img = np.zeros((4, 4, 3), np.uint8)
    out = warp(img, constant_flow(4, 4, 10, 0), fill=(1, 2, 3))
    assert (out == np.array([1, 2, 3], np.uint8)).all()
    wide = warp(np.zeros((4, 4, 6), np.float32), constant_flow(4, 4, 10, 0), fill=[1, 2, 3, 4, 5, 6])
    np.testing.assert_array_equal(wide[0, 0], [1, 2, 3, 4, 5, 6])


def test_fill_must_be_finite():
    # NaN would leak into in-frame pixels on the last row/column (zero-weight neighbours).
    with pytest.raises(FlowError, match="fill must be finite, got nan"):
        warp(np.ones((3, 4), np.float32), constant_flow(3, 4, 2, 0), fill=np.nan)


def test_non_finite_flow_takes_the_fill():
    flow = np.zeros((3, 3, 2), np.float32)
    flow[1, 1] = np.nan
    out = warp(np.ones((3, 3), np.float32), flow, fill=0.5)
    assert out[1, 1] == 0.5 and out[0, 0] == 1.0
    assert out_of_frame(flow)[1, 1] and out_of_frame(flow).sum() == 1


def test_out_of_frame_bounds_are_inclusive():
    flow = np.zeros((4, 5, 2), np.float32)
    assert not out_of_frame(flow).any()
    flow[0, 0] = (-0.01, 0)
    flow[3, 4] = (0, 0.01)
    m = out_of_frame(flow)
    assert m[0, 0] and m[3, 4] and m.sum() == 2
    assert out_of_frame_mask is out_of_frame


def test_ground_truth_backward_flow_reproduces_the_frame():
    clip = make_clip(n_frames=3, motion="mixed", seed=5)
    # the synthetic frames are rendered with bilinear sampling: warp the same way to check geometry
    warped = warp(clip.frames[0], clip.backward_flow(2, 2), interpolation="linear")
    err = np.abs(warped.astype(np.float32) - clip.frames[2]).mean(axis=2)
    valid = clip.valid_mask(2, 2)
    assert err[valid].mean() < 1.5  # interpolation of the rendered frame only; measured ~0.9
    assert err[~valid].mean() > 20  # revealed/out-of-frame pixels do not match
    # The forward flow in its place is the classic bug: much worse.
    wrong = warp(clip.frames[0], clip.forward_flow(2, 2))
    assert np.abs(wrong.astype(np.float32) - clip.frames[2]).mean(axis=2)[valid].mean() > 10


def test_errors():
    flow = np.zeros((4, 4, 2), np.float32)
    with pytest.raises(FlowError, match=r"image \(4, 5\) and flow \(4, 4, 2\)"):
        warp(np.zeros((4, 5)), flow)
    with pytest.raises(FlowError, match=r"HxWx2, got \(4, 4, 3\)"):
        warp(np.zeros((4, 4)), np.zeros((4, 4, 3), np.float32))
    with pytest.raises(FlowError, match="dtype bool"):
        warp(np.zeros((4, 4), bool), flow)
    with pytest.raises(FlowError, match=r"fill has 2 values, the image 3 channels"):
        warp(np.zeros((4, 4, 3)), flow, fill=(1, 2))
    with pytest.raises(FlowError, match=r"fill 300 is outside the range of uint8"):
        warp(np.zeros((4, 4), np.uint8), flow, fill=300)
    with pytest.raises(FlowError, match="fill must be a number"):
        warp(np.zeros((4, 4)), flow, fill="red")  # type: ignore[arg-type]
    with pytest.raises(FlowError, match=r"HxW or HxWxC, got shape \(4,\)"):
        warp(np.zeros(4), flow)


def texture(n: int = 64, seed: int = 3) -> np.ndarray:
    """A picture-like texture (detail at several scales) in [0, 1]."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, n), np.float32)
    for s in (0.6, 1.2, 2.4, 4.8):
        x += s * cv2.GaussianBlur(rng.random((n, n)).astype(np.float32), (0, 0), s)
    return (x - x.min()) / (x.max() - x.min())


def laplacian_detail(a: np.ndarray) -> float:
    return float(np.abs(cv2.Laplacian(a, cv2.CV_32F, ksize=1))[8:-8, 8:-8].mean())


def test_subpixel_phase_is_zero_on_whole_pixels_and_one_halfway_on_both_axes():
    f = np.array([[[0, 0], [2, -3], [0.5, 0], [0.5, -0.5], [-1.5, 2.5], [0.25, 0], [np.nan, 0]]], np.float32)
    np.testing.assert_allclose(subpixel_phase(f)[0], [0, 0, 0.5, 1, 1, 0.375, 0], atol=1e-6)


def test_restore_detail_leaves_whole_pixel_warps_and_amount_zero_untouched():
    img = np.random.default_rng(0).random((12, 10, 3)).astype(np.float32)
    shift = constant_flow(12, 10, 1, -2)
    warped = warp(img, shift)
    np.testing.assert_array_equal(restore_detail(warped, shift, 0.5), warped)
    half = constant_flow(12, 10, 0.5, 0.5)
    assert restore_detail(warped, half, 0.0) is warped


def test_restore_detail_gives_back_part_of_what_a_half_pixel_warp_smoothed():
    img = texture()
    f = constant_flow(64, 64, 0.5, 0.5)
    warped = warp(img, f)
    before, after = laplacian_detail(warped), laplacian_detail(restore_detail(warped, f, 0.5))
    # one bicubic warp halfway between pixels on both axes keeps ~70% of the detail
    assert before < 0.75 * laplacian_detail(img)
    assert before + 0.05 * laplacian_detail(img) < after < laplacian_detail(img)


def test_restore_detail_treats_each_channel_alike_and_checks_its_input():
    img = texture()
    f = constant_flow(64, 64, 0.3, 0.1)
    gray = restore_detail(warp(img, f), f, 0.5)
    rgb = restore_detail(warp(np.dstack([img] * 3), f), f, 0.5)
    assert rgb.shape == (64, 64, 3)
    np.testing.assert_allclose(rgb[..., 2], gray, atol=1e-6)
    with pytest.raises(FlowError, match="needs a float image, got uint8"):
        restore_detail((img * 255).astype(np.uint8), f, 0.5)
    with pytest.raises(FlowError, match=r"image \(64, 32\) and flow \(64, 64\) differ"):
        restore_detail(img[:, :32], f, 0.5)
