"""neuralpaint.quality: the measures E_k cannot see, on synthetic cases with known answers."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

import flows
import neuralpaint.cli.evaluate  # noqa: F401  (registers the command)
from neuralpaint import media
from neuralpaint.errors import InputError
from neuralpaint.metrics import LossMeter, SourceFlows, warping_error
from neuralpaint.quality import (SHARPNESS_FLOOR, SOURCE_RATIO_FLOOR, check_deltas, drift, quality_report,
                                 quality_reports, sharpness, unreliable_inside, unstylised_share)
from neuralpaint.settings import ImageSettings, ModelSettings


def lut_style(frames):
    """A fixed per-pixel colour transform (a consistent "stylisation"), uint8 -> uint8."""
    lut = (255 * (0.15 + 0.7 * (np.arange(256) / 255.0) ** 1.7)).astype(np.uint8)
    return [np.ascontiguousarray(lut[f[..., ::-1]]) for f in frames]


def palette_style(frames):
    """A "painting" in a narrow palette of its own (orange-brown tones driven by the luminance):
    painted pixels resemble each other far more than they resemble the photograph."""
    out = []
    for f in frames:
        y = (f.astype(np.float32) / 255) @ np.array([0.299, 0.587, 0.114], np.float32)
        out.append(np.rint(np.stack([0.75 - 0.25 * y, 0.35 + 0.2 * y, 0.2 + 0.15 * y], -1) * 255).astype(np.uint8))
    return out


def noisy_static_clip(n=6, h=48, w=64, sigma=3.0, seed=0):
    """A static textured scene with sensor noise (σ in 0..255 units) in every frame, and its exact
    (zero) flows: the source's own E_k is about 2σ² (noise of two frames), not 0."""
    base = flows.synthetic.random_texture(h, w, seed=1)
    rng = np.random.default_rng(seed)
    frames = [np.clip(np.rint((base + rng.normal(0, sigma / 255, base.shape)) * 255), 0, 255).astype(np.uint8)
              for _ in range(n)]

    def zero(t, k):
        return np.zeros((h, w, 2), np.float32)

    return frames, SourceFlows.given(n, (h, w), zero, forward=zero, label="ground truth")


# ---------------------------------------------------------------------------------------------
# the source's own E_k


def test_frozen_output_has_tiny_error_but_a_source_ratio_far_below_one_and_is_flagged():
    src, gt = noisy_static_clip()
    frozen = [lut_style(src)[0]] * len(src)  # every frame = frame 1's output
    rep = quality_report(frozen, src, gt, offsets=(1, 2))
    assert rep.E[1] == 0.0 and rep.E[2] == 0.0
    # two frames of independent noise of σ = 3/255: E ≈ 2σ² = 2.8e-4 (measured 2.80e-4)
    assert rep.source_E[1] == pytest.approx(2 * (3 / 255) ** 2, rel=0.1)
    assert rep.ratio(1) == 0.0 and rep.ratio(2) == 0.0
    assert any(f.startswith("frozen or blurred: E_1 is 0x") for f in rep.flags())


def test_per_frame_stylisation_keeps_the_source_ratio_and_blur_drops_it():
    src, gt = noisy_static_clip()
    painted = lut_style(src)
    reports = quality_reports({"painted": painted,
                               "blurred": [cv2.GaussianBlur(f, (0, 0), 1.5) for f in painted]}, src, gt, offsets=(1,))
    # the LUT keeps the noise at about 0.57x its energy (measured 0.568): same order, not flagged
    assert 0.4 < reports["painted"].ratio(1) < 1.0 and reports["painted"].flags() == []
    # blurring each frame hides the noise: E_1 drops to 0.03x the source's own (measured 0.030)
    assert reports["blurred"].ratio(1) < 0.1 < SOURCE_RATIO_FLOOR
    assert reports["blurred"].flags() and "frozen or blurred" in reports["blurred"].flags()[0]
    # the source's own E_k is the same object for every version
    assert reports["painted"].source_E == reports["blurred"].source_E


# ---------------------------------------------------------------------------------------------
# unstylised share


def test_output_equal_to_the_source_is_entirely_unstylised():
    src, gt = noisy_static_clip(n=3)
    rep = quality_report(src, src, gt, offsets=(1,))
    assert rep.deltas == (25, 10)
    for d in (25, 10):
        assert rep.unstylised[d] == [1.0, 1.0, 1.0] and rep.unstylised_last(d) == 1.0 == rep.unstylised_mean(d)


def test_unstylised_share_counts_pixels_within_delta_in_every_channel():
    f = np.full((8, 10, 3), 100, np.uint8)
    off = f.copy()
    off[..., 1] += 30  # one channel 30 away: outside both δ
    assert unstylised_share(off, f, 25) == 0.0 and unstylised_share(off, f, 10) == 0.0
    near = f.copy()
    near[..., 2] -= 15
    assert unstylised_share(near, f, 25) == 1.0 and unstylised_share(near, f, 10) == 0.0
    edge = f + np.uint8(25)  # exactly δ counts as unstylised
    assert unstylised_share(edge, f, 25) == 1.0 and unstylised_share(edge, f, 24) == 0.0
    half = off.copy()
    half[:, :5] = f[:, :5]
    assert unstylised_share(half, f, 25) == 0.5
    assert unstylised_share(half.astype(np.float32) / 255, f, 25) == 0.5  # float frames in [0, 1]
    with pytest.raises(InputError, match="output frame is 5x8, the source 10x8"):
        unstylised_share(f[:, :5], f)


# ---------------------------------------------------------------------------------------------
# sharpness drift


def test_repeatedly_blurred_sequence_loses_sharpness():
    frame = lut_style(noisy_static_clip(n=1, sigma=0)[0])[0]
    seq = [frame]
    for _ in range(5):  # a light blur per frame, like repeated bilinear warping
        seq.append(cv2.GaussianBlur(seq[-1], (0, 0), 0.6))
    src, gt = noisy_static_clip(n=6, sigma=0)
    rep = quality_report(seq, src, gt, offsets=(1,))
    d = rep.sharpness_drift
    assert d[0] == 1.0 and all(a > b for a, b in zip(d, d[1:]))  # strictly falling
    assert rep.sharpness_last < 0.9 and rep.sharpness_last == d[-1]
    assert any(f.startswith("blurring:") for f in rep.flags()) and SHARPNESS_FLOOR == 0.9
    # a sharp, steady sequence keeps exactly 1
    steady = quality_report([frame] * 6, src, gt, offsets=(1,))
    assert steady.sharpness_drift == [1.0] * 6 and not any("blurring" in f for f in steady.flags())


def test_sharpness_is_the_mean_absolute_laplacian_of_the_luminance():
    flat = np.full((6, 6, 3), 77, np.uint8)
    assert sharpness(flat) == 0.0 and drift([0.0, 1.0]) == [None, None]
    dot = np.zeros((5, 5, 3), np.uint8)
    dot[2, 2] = 255  # Laplacian -4 at the centre, +1 at its 4 neighbours: Σ|L| = 8 over 25 pixels
    assert sharpness(dot) == pytest.approx(8 / 25, rel=1e-5)
    assert drift([2.0, 1.0, None, 3.0]) == [1.0, 0.5, None, 1.5]


# ---------------------------------------------------------------------------------------------
# error inside disoccluded pixels


def test_photographic_fill_of_the_disoccluded_region_shows_in_the_disocclusion_error():
    # static camera, moving objects: exact flows, and the validity masks say what was revealed
    clip = flows.synthetic.make_clip(n_frames=2, height=48, width=64, motion="objects", seed=3)
    sf = SourceFlows.from_synthetic(clip)
    revealed = clip.revealed_mask(1, 1)
    backward, mask = sf.get(1, 1)
    assert revealed.sum() > 50 and np.array_equal(unreliable_inside(backward, mask), revealed)
    painted = palette_style(clip.frames)
    photo = [painted[0], np.where(revealed[..., None], clip.frames[1], painted[1])]  # a photographic cut-out
    good = quality_report(painted, clip.frames, sf, offsets=(1,))
    bad = quality_report(photo, clip.frames, sf, offsets=(1,))
    # E_1 cannot tell them apart: the revealed pixels are outside its mask
    assert bad.E[1] == good.E[1]
    # inside the revealed pixels the cut-out is far off (measured 0.059 against 0.0022)
    assert bad.disoccluded_E[1] > 10 * good.disoccluded_E[1]
    assert bad.disoccluded[1][0] is None and bad.disoccluded[1][1] == bad.disoccluded_E[1]
    assert good.disoccluded_coverage[1][1] == pytest.approx(revealed.mean())
    # the source's own value beside it, and the cut-out is also unstylised
    assert good.source_disoccluded_E[1] > 0
    assert bad.unstylised_last(25) >= good.unstylised_last(25) + 0.9 * revealed.mean()


def test_error_inside_reliable_pixels_is_the_warping_error():
    clip = flows.synthetic.make_clip(n_frames=4, height=32, width=48, motion="objects", seed=1)
    sf = SourceFlows.from_synthetic(clip)
    out = palette_style(clip.frames)
    rep = quality_report(out, clip.frames, sf, offsets=(1, 2, 8))
    ref = warping_error(out, sf, (1, 2, 8))
    assert rep.warping.to_json() == ref.to_json()
    assert rep.E[8] is None and rep.disoccluded[8] is None and rep.ratio(8) is None


# ---------------------------------------------------------------------------------------------
# style-loss drift


@pytest.fixture(scope="module")
def meter():
    style = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    return LossMeter(style, ModelSettings(weights="random"), ImageSettings(size=32), "cpu")


def test_style_loss_drift_of_identical_frames_is_one(meter):
    src, gt = noisy_static_clip(n=4, h=24, w=32)
    frame = lut_style(src)[0]
    rep = quality_report([frame] * 4, src, gt, meter, offsets=(1,))
    assert rep.style_drift == [1.0] * 4 and rep.style_drift_mean == 1.0
    assert rep.losses is not None and rep.style == rep.losses.per_frame_style and rep.style[0] > 0
    # a frame that is not the same has another style loss; frame 1 stays the reference
    other = quality_report([frame, frame, np.full_like(frame, 128), frame], src, gt, meter, offsets=(1,))
    assert other.style_drift[0] == 1.0 and other.style_drift[2] != pytest.approx(1.0, abs=1e-3)
    assert other.style_drift_mean == pytest.approx(np.mean(other.style_drift[1:]))
    # without a meter there is no style measure
    assert quality_report([frame] * 4, src, gt, offsets=(1,)).to_json()["style"] is None


# ---------------------------------------------------------------------------------------------
# the one-pass function


def test_report_with_estimated_flows_missing_frames_and_its_json(meter):
    clip = flows.synthetic.make_clip(n_frames=4, height=24, width=32, motion="pan", seed=2)
    out = lut_style(clip.frames)
    out[2] = None  # a frame not rendered yet
    rep = quality_report(out, clip.frames, None, meter, offsets=(1, 2, 8))  # DIS flows of the source
    data = rep.to_json()
    assert set(data) >= {"E", "per_frame", "frames", "source", "ratio", "disoccluded", "unstylised", "sharpness",
                         "style", "flags"}
    assert data["frames"] == 4 and set(data["E"]) == {"1", "2", "8"} and data["E"]["8"] is None
    assert data["per_frame"]["1"][2] is None and data["per_frame"]["1"][3] is None  # pairs with frame 3 skipped
    assert data["source"]["E"]["1"] is not None and data["ratio"]["1"] is not None
    assert data["unstylised"]["25"]["per_frame"][2] is None and data["sharpness"]["drift"][2] is None
    assert data["style"]["per_frame"][2] is None and data["style"]["drift"][0] == 1.0
    assert data["disoccluded"]["per_frame"]["8"] is None
    json.loads(json.dumps(data, allow_nan=False))


def test_bad_input_is_an_input_error():
    src, gt = noisy_static_clip(n=3)
    with pytest.raises(InputError, match="output has 2 frames, the source 3"):
        quality_report(src[:2], src, gt)
    with pytest.raises(InputError, match="frame 1 of output is 32x24, the source 64x48"):
        quality_report([f[:24, :32] for f in src], src, gt)
    with pytest.raises(InputError, match="0..255, got 300"):
        check_deltas((25, 300))
    with pytest.raises(InputError, match="repeat"):
        quality_report(src, src, gt, deltas=(10, 10))
    with pytest.raises(InputError, match="'source' names the source frames"):
        quality_reports({"source": src}, src, gt)


# ---------------------------------------------------------------------------------------------
# neuralpaint evaluate


def test_evaluate_reports_the_measures_in_json_and_text(tmp_path, cli):
    clip = flows.synthetic.make_clip(n_frames=4, height=24, width=32, motion="pan", seed=2)
    media.write_clip(tmp_path / "src.gif", clip.frames)
    frozen = tmp_path / "frozen"  # a frame folder: a GIF would merge the identical frames
    media.write_clip(f"{frozen}/", [lut_style(clip.frames)[0]] * 4)
    media.write_clip(tmp_path / "same.gif", clip.frames)
    style = tmp_path / "style.png"
    media.save_image(style, np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8))
    r = cli("evaluate", tmp_path / "same.gif", tmp_path / "src.gif", "--json", "--offsets", "1,2")
    assert r.code == 0, r
    data = json.loads(r.out)
    assert {"E", "per_frame", "frames"} <= set(data) and data["style"] is None
    assert data["ratio"]["1"] == pytest.approx(1.0) and data["unstylised"]["25"]["last"] == 1.0
    assert data["unstylised"]["10"]["mean"] == 1.0 and data["sharpness"]["last"] == pytest.approx(
        data["sharpness"]["source_last"])
    r = cli("evaluate", frozen, tmp_path / "src.gif", "--json", "--offsets", "1",
            "--style", style, "--weights", "random", "--device", "cpu")
    assert r.code == 0, r
    data = json.loads(r.out)
    assert data["style"]["drift"] == [1.0] * 4 and data["style"]["mean_drift"] == 1.0
    r = cli("evaluate", frozen, tmp_path / "src.gif", "-q", "--offsets", "1,2")
    assert r.code == 0, r
    for needle in ("source E_k", "disoccluded", "unstylised", "sharpness"):
        assert needle in r.out, needle
    r = cli("evaluate", frozen, tmp_path / "src.gif", "--style", tmp_path / "nope.png")
    assert r.code == 2 and r.err.startswith("error:") and "nope.png" in r.err and "Traceback" not in r.err
