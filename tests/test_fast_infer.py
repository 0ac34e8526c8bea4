"""Fast inference: frame counts and sizes, GIF timing, and --fast-blend stability."""

import numpy as np
import pytest

import flows
from neuralpaint import media
from neuralpaint.errors import InputError
from neuralpaint.fast.checkpoint import save_checkpoint
from neuralpaint.fast.infer import (load_model, stylize_clip_blend, stylize_frames, stylize_image_file,
                                    stylize_video_file, stylize_video_frames)
from neuralpaint.fast.train import new_network
from neuralpaint.settings import FastSettings

from conftest import textured


@pytest.fixture(scope="module")
def net():
    return new_network(0).eval()


@pytest.fixture(scope="module")
def model_file(net, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "m.pt"
    save_checkpoint(path, net, {"train": {}, "model": {}}, 0)
    return path


def test_frames_keep_count_and_sizes_including_odd_and_mixed(net):
    frames = [textured(33, 47, seed=i) for i in range(5)] + [textured(20, 16, seed=9)]
    out = stylize_frames(net, frames, batch=2)
    assert len(out) == 6
    assert [o.shape for o in out] == [f.shape for f in frames]
    assert all(o.dtype == np.uint8 for o in out)
    # Batching does not change the result.
    one = stylize_frames(net, frames[:3], batch=1)
    assert all(np.abs(a.astype(int) - b).max() <= 1 for a, b in zip(one, out[:3]))
    assert stylize_frames(net, []) == []


def test_bad_frames_and_batch_are_input_errors(net):
    with pytest.raises(InputError, match="frame 1 must be a uint8 HxWx3"):
        stylize_frames(net, [textured(16, 16), np.zeros((16, 16), np.uint8)])
    with pytest.raises(InputError, match="batch must be an integer >= 1, got 0"):
        stylize_frames(net, [textured(16, 16)], batch=0)
    with pytest.raises(InputError, match="--fast-blend needs frames of one size"):
        stylize_clip_blend(net, [textured(16, 16), textured(20, 16)])
    with pytest.raises(InputError, match="unknown blend-at 'middle'"):
        stylize_clip_blend(net, [textured(16, 16)], blend_at="middle")


def test_image_file_and_model_file(model_file, tiny_images, tmp_path):
    content, _ = tiny_images
    out = tmp_path / "out.png"
    img = stylize_image_file(model_file, content, out, size=40, device="cpu")
    assert img.shape == (30, 40, 3) and media.load_image(out).shape == (30, 40, 3)
    model = load_model(model_file, "cpu")
    again = stylize_image_file(model, media.load_image(content), size=40)
    assert np.array_equal(img, again)


@pytest.mark.parametrize("blend", [False, True])
def test_gif_keeps_frame_count_size_and_durations(model_file, tmp_path, blend):
    src = tmp_path / "in.gif"
    frames = [textured(33, 47, seed=i) for i in range(4)]
    clip = media.Clip(frames=frames, kind="gif", source=src, durations_ms=[40, 80, 120, 60], loop=0)
    media.write_clip(src, frames, clip)
    out = tmp_path / "out.gif"
    stylize_video_file(model_file, src, out, settings=FastSettings(blend=blend, batch=3), device="cpu")
    back = media.read_clip(out)
    assert len(back.frames) == 4 and back.frames[0].shape == (33, 47, 3)
    assert back.durations_ms == media.read_clip(src).durations_ms == [40, 80, 120, 60]


def masked_warping_error(outputs, clip):
    """mean over t of Σ M (warp(O_{t−1}, gt backward) − O_t)² / (3 Σ M), O in [0,1]."""
    errs = []
    for t in range(1, len(outputs)):
        m = clip.valid_mask(t, 1).astype(np.float32)[..., None]
        prev = flows.warp(outputs[t - 1].astype(np.float32) / 255, clip.backward_flow(t, 1))
        cur = outputs[t].astype(np.float32) / 255
        errs.append(float(((prev - cur) ** 2 * m).sum() / (3 * m.sum())))
    return float(np.mean(errs))


@pytest.fixture(scope="module")
def synthetic_clip():
    from flows.synthetic import make_clip
    return make_clip(n_frames=5, height=40, width=56, motion="mixed", seed=1)


@pytest.mark.parametrize("blend_at", ["output", "features"])
def test_fast_blend_lowers_the_masked_warping_error(net, synthetic_clip, blend_at):
    frames = synthetic_clip.frames
    plain = stylize_video_frames(net, frames, blend=False)
    blended = stylize_video_frames(net, frames, blend=True, blend_at=blend_at, batch=2)
    assert len(blended) == len(frames) and blended[0].shape == frames[0].shape
    # The first frame has nothing to blend with.
    assert np.array_equal(blended[0], plain[0])
    e_plain, e_blend = masked_warping_error(plain, synthetic_clip), masked_warping_error(blended, synthetic_clip)
    assert e_blend < 0.7 * e_plain, (blend_at, e_plain, e_blend)


def test_fast_blend_strength_zero_is_plain_inference(net, synthetic_clip):
    frames = synthetic_clip.frames[:3]
    plain = stylize_frames(net, frames)
    for at in ("output", "features"):
        zero = stylize_clip_blend(net, frames, blend_at=at, strength=0.0)
        assert all(np.abs(a.astype(int) - b).max() <= 1 for a, b in zip(zero, plain))


def test_fast_blend_on_odd_sizes(net):
    frames = [np.roll(textured(33, 47, seed=3), s, axis=1) for s in range(3)]
    for at in ("output", "features"):
        out = stylize_clip_blend(net, frames, blend_at=at)
        assert [o.shape for o in out] == [(33, 47, 3)] * 3
