"""neuralpaint.metrics and ``neuralpaint evaluate``: the warping error E_k and the frame losses."""

from __future__ import annotations

import json

import numpy as np
import pytest

import flows
import neuralpaint.cli.evaluate  # noqa: F401  (registers the command)
from neuralpaint import media
from neuralpaint.errors import InputError
from neuralpaint.metrics import (OFFSETS, SourceFlows, check_offsets, evaluate_files, frame_losses,
                                 warping_error, warping_errors)
from neuralpaint.settings import ImageSettings, ModelSettings

def style_transform(frames):
    """A fixed per-pixel colour transform (a "consistent stylisation"), uint8 -> uint8."""
    lut = (255 * (0.15 + 0.7 * (np.arange(256) / 255.0) ** 1.7)).astype(np.uint8)
    return [np.ascontiguousarray(lut[f[..., ::-1]]) for f in frames]  # also swaps R and B


def translation_clip(n=8, h=24, w=32, dx=2, dy=1, seed=0):
    """Windows of one texture moved by whole pixels: frame t shows texture(y + t·dy, x + t·dx).
    Returns the frames and the ground-truth SourceFlows (backward t→t−k = (k·dx, k·dy))."""
    tex = flows.synthetic.random_texture(h + n * dy + 2, w + n * dx + 2, seed=seed)
    frames = [np.rint(tex[t * dy: t * dy + h, t * dx: t * dx + w] * 255).astype(np.uint8) for t in range(n)]

    def backward(t, k):
        return np.broadcast_to(np.array([k * dx, k * dy], np.float32), (h, w, 2)).copy()

    def forward(t, k):
        return -backward(t, k)

    return frames, SourceFlows.given(n, (h, w), backward, forward=forward, label="ground truth")


def test_consistent_stylisation_of_a_pure_translation_has_zero_error():
    frames, gt = translation_clip()
    res = warping_error(style_transform(frames), gt)
    assert res.offsets == OFFSETS and res.frames == 8
    for k in (1, 2, 4):
        assert res.E[k] is not None and res.E[k] <= 1e-6, (k, res.E)
        assert all(v is None for v in res.per_frame[k][:k])
        assert all(v is not None and v <= 1e-6 for v in res.per_frame[k][k:])
        # the mask excludes what came into view: the strip of k·dx columns / k·dy rows
        assert 0.5 < res.coverage[k][k] < 1.0
    # offsets with no pair are absent, not 0
    assert res.E[8] is None and res.E[16] is None and res.per_frame[16] is None


def test_synthetic_pan_is_small_with_ground_truth_and_with_dis():
    clip = flows.synthetic.make_clip(n_frames=6, height=48, width=64, motion="pan", seed=3)
    styl = style_transform(clip.frames)
    gt = warping_error(styl, SourceFlows.from_synthetic(clip), (1, 2, 4))
    dis = warping_error(styl, clip.frames, (1, 2, 4), method="dis")
    # sub-pixel pans: only the bilinear interpolation of the texture is left (measured 1-4e-5
    # over seeds 0-5, 2e-5 here)
    for k in (1, 2, 4):
        assert gt.E[k] < 1e-4, gt.E
    # DIS flows (measured here: E_1 1.4e-5, E_2 3.0e-5, E_4 3.3e-5; E_1 and E_2 stay below 6e-5
    # over seeds 0-5, while E_4 (8-12 px steps on a 64 px frame) reaches 1e-2 on some seeds)
    assert dis.E[1] < 2e-4 and dis.E[2] < 2e-4 and dis.E[4] < 1e-3, dis.E
    noise = [np.random.default_rng(t).integers(0, 256, f.shape, dtype=np.uint8) for t, f in enumerate(clip.frames)]
    bad = warping_error(noise, SourceFlows.from_synthetic(clip), (1,))
    assert bad.E[1] > 0.05 and bad.E[1] > 100 * gt.E[1]


def test_independent_noise_per_frame_is_large():
    frames, gt = translation_clip(n=5)
    rng = np.random.default_rng(1)
    noise = [rng.random(f.shape).astype(np.float32) for f in frames]  # float frames in [0,1]
    res = warping_error(noise, gt, (1, 2))
    # E[(a−b)²] of independent U(0,1) values is 1/6
    assert res.E[1] == pytest.approx(1 / 6, rel=0.15) and res.E[2] == pytest.approx(1 / 6, rel=0.15)


def moving_square(n=3, h=32, w=40, step=4, side=10):
    """A static textured background and a textured square moving right by ``step`` px per frame.
    Returns frames, ground-truth backward/forward flow functions and the revealed masks."""
    bg = np.rint(flows.synthetic.random_texture(h, w, seed=5) * 255).astype(np.uint8)
    obj = np.rint(flows.synthetic.random_texture(side, side, seed=6) * 255).astype(np.uint8)
    y0, x0 = 8, 4

    def covered(t):
        m = np.zeros((h, w), bool)
        m[y0:y0 + side, x0 + step * t: x0 + step * t + side] = True
        return m

    frames = []
    for t in range(n):
        f = bg.copy()
        f[covered(t)] = obj.reshape(-1, 3)
        frames.append(f)

    def backward(t, k):
        b = np.zeros((h, w, 2), np.float32)
        b[covered(t), 0] = -step * k
        return b

    def forward(t, k):
        f = np.zeros((h, w, 2), np.float32)
        f[covered(t - k), 0] = step * k
        return f

    revealed = {t: covered(t - 1) & ~covered(t) for t in range(1, n)}
    return frames, backward, forward, revealed


def test_masks_exclude_revealed_pixels():
    frames, backward, forward, revealed = moving_square(n=2)
    styl = style_transform(frames)
    wild = styl[1].copy()
    wild[revealed[1]] = np.random.default_rng(0).integers(0, 256, (int(revealed[1].sum()), 3), dtype=np.uint8)
    sf = SourceFlows.given(2, frames[0].shape[:2], backward, forward=forward)
    _, mask = sf.get(1, 1)
    assert not (mask & revealed[1]).any()  # the reliability check finds the revealed pixels
    res = warping_error([styl[0], wild], sf, (1,))
    assert res.E[1] <= 1e-6
    # the same with the masks given directly (e.g. a synthetic clip's validity masks)
    given = SourceFlows.given(2, frames[0].shape[:2], backward, masks=lambda t, k: ~revealed[t])
    assert warping_error([styl[0], wild], given, (1,)).E[1] <= 1e-6
    # without a mask the wild region counts
    everything = SourceFlows.given(2, frames[0].shape[:2], backward, masks=lambda t, k: np.ones_like(revealed[t]))
    assert warping_error([styl[0], wild], everything, (1,)).E[1] > 1e-3


def test_flows_are_computed_once_for_many_versions():
    frames, gt = translation_clip(n=5)
    calls = []
    inner = gt._provider

    def counting(t, k):
        calls.append((t, k))
        return inner(t, k)

    sf = SourceFlows(5, gt.size, counting, "counted")
    versions = {"a": style_transform(frames), "b": frames, "c": [None] + frames[1:]}
    res = warping_errors(versions, sf, (1, 2))
    assert sorted(calls) == sorted(set(calls)) and len(calls) == 4 + 3
    assert res["a"].E[1] <= 1e-6 and res["b"].E[1] <= 1e-6
    assert res["c"].per_frame[1][1] is None and res["c"].per_frame[1][2] is not None  # missing frame skipped
    warping_errors(versions, sf, (1, 2))  # a second evaluation reuses them
    assert len(calls) == 7


def test_json_schema_is_stable():
    frames, gt = translation_clip(n=5)
    data = warping_error(style_transform(frames), gt, (1, 2, 4, 8)).to_json()
    assert set(data) == {"E", "per_frame", "frames"}
    assert set(data["E"]) == set(data["per_frame"]) == {"1", "2", "4", "8"}
    assert data["frames"] == 5
    assert data["E"]["8"] is None and data["per_frame"]["8"] is None
    assert len(data["per_frame"]["1"]) == 5 and data["per_frame"]["1"][0] is None
    assert data["per_frame"]["4"][:4] == [None] * 4 and isinstance(data["per_frame"]["4"][4], float)
    json.loads(json.dumps(data, allow_nan=False))


def test_bad_input_is_an_input_error(tmp_path):
    frames, gt = translation_clip(n=5)
    with pytest.raises(InputError, match="has 4 frames, the source 5"):
        warping_error(frames[:4], gt)
    with pytest.raises(InputError, match="positive frame offsets, got 0"):
        warping_error(frames, gt, (0, 1))
    with pytest.raises(InputError, match="repeat"):
        check_offsets((1, 1))
    with pytest.raises(InputError, match="is 16x12, the source 32x24"):
        warping_error([f[:12, :16] for f in frames], gt)
    with pytest.raises(InputError, match="no such file"):
        evaluate_files(tmp_path / "missing.gif", tmp_path / "also_missing.gif")
    media.write_clip(tmp_path / "a.gif", frames)
    media.write_clip(tmp_path / "b.gif", frames[:3])
    with pytest.raises(InputError, match="has 5 frames but the source .* has 3"):
        evaluate_files(tmp_path / "a.gif", tmp_path / "b.gif")


def test_evaluate_command_json_and_table(tmp_path, cli):
    clip = flows.synthetic.make_clip(n_frames=5, height=48, width=64, motion="pan", seed=2)
    media.write_clip(tmp_path / "src.gif", clip.frames)
    small = [media.resize_long_side(f, 32) for f in style_transform(clip.frames)]
    media.write_clip(tmp_path / "sty.gif", small)  # another size: the source is resized to it
    r = cli("evaluate", tmp_path / "sty.gif", tmp_path / "src.gif", "--json")
    assert r.code == 0, r
    data = json.loads(r.out)
    assert {"E", "per_frame", "frames"} <= set(data) and data["frames"] == 5  # stable keys; more beside them
    assert set(data["E"]) == {"1", "2", "4", "8", "16"}
    assert data["E"]["8"] is None and data["E"]["16"] is None
    assert 0 <= data["E"]["1"] < 0.01 and len(data["per_frame"]["1"]) == 5
    r = cli("evaluate", tmp_path / "sty.gif", tmp_path / "src.gif", "--offsets", "1,2", "-q")
    assert r.code == 0, r
    assert "E_k" in r.out and "warping error" in r.out


def test_evaluate_command_errors(tmp_path, cli):
    frames = [np.full((16, 16, 3), 10 * i, np.uint8) for i in range(4)]
    media.write_clip(tmp_path / "a.gif", frames)
    media.write_clip(tmp_path / "b.gif", frames[:2])
    r = cli("evaluate", tmp_path / "a.gif", tmp_path / "b.gif", "--json")
    assert r.code == 2 and r.err.startswith("error:") and "4 frames" in r.err and "Traceback" not in r.err
    r = cli("evaluate", tmp_path / "a.gif", tmp_path / "a.gif", "--offsets", "0,1")
    assert r.code == 2 and "error:" in r.err and "0" in r.err
    r = cli("evaluate", tmp_path / "nope.gif", tmp_path / "a.gif")
    assert r.code == 2 and "error:" in r.err and "nope.gif" in r.err
    r = cli("evaluate", tmp_path / "a.gif", tmp_path / "a.gif", "--flow", "magic")
    assert r.code == 2 and "magic" in r.err


def test_frame_losses():
    clip = flows.synthetic.make_clip(n_frames=2, height=24, width=32, motion="pan", seed=0)
    img = ImageSettings(size=32)
    model = ModelSettings(weights="random")
    style = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    same = frame_losses(clip.frames, style, clip.frames, model, img, "cpu")
    # batched vs single convolutions: rounding only
    assert same.content < 1e-10 and same.style > 0 and len(same.per_frame_style) == 2
    other = frame_losses(style_transform(clip.frames), style, clip.frames, model, img, "cpu")
    assert other.content > 1e-6
    with pytest.raises(InputError, match="2 frames but 1 content"):
        frame_losses(clip.frames, style, clip.frames[:1], model, img, "cpu")
