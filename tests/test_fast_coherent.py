"""The coherent online network (Chen et al. 2017): composition, training, online inference, CLI.

Tiny: random VGG weights, frames of at most 64 px, a few steps."""

import numpy as np
import pytest
import torch

import flows
import neuralpaint.cli.train  # noqa: F401  (registers the command)
from neuralpaint import media
from neuralpaint.errors import InputError, ResumeError, WeightsError
from neuralpaint.fast.checkpoint import is_coherent, load_checkpoint, save_checkpoint
from neuralpaint.fast.coherent import CoherentNet, feature_flow
from neuralpaint.fast.coherent_train import train_coherent
from neuralpaint.fast.infer import stylize_frames, stylize_video_frames
from neuralpaint.fast.network import TransformNet, feature_size
from neuralpaint.fast.online import mask_name, stylize_clip_online
from neuralpaint.fast.pairs import PairData, synthetic_pairs
from neuralpaint.fast.train import normalized_weights, train
from neuralpaint.objective import LossWeights
from neuralpaint.settings import ModelSettings, TrainSettings

RANDOM = ModelSettings(weights="random")
COHERENT = dict(coherent=True, size=32, batch=2, lr=1e-2, synthetic_clips=1, checkpoint_every=1, sample_every=0)


@pytest.fixture(scope="module")
def clip():
    return flows.synthetic.make_clip(n_frames=4, height=40, width=48, motion="mixed", seed=3)


@pytest.fixture
def folder(tmp_path, clip):
    d = tmp_path / "frames"
    d.mkdir()
    for i, f in enumerate(clip.frames):
        media.save_image(d / f"frame_{i:03d}.png", f)
    return d


@pytest.fixture
def base(tmp_path, clip):
    path = tmp_path / "base.pt"
    train(clip.frames[0], clip.frames, path, TrainSettings(steps=1, size=32, batch=1, sample_every=0),
          model=RANDOM, resume=False)
    return path


def _saturated(cnet: CoherentNet, value: float) -> CoherentNet:
    """Make the mask network answer ``sigmoid(value)`` everywhere."""
    last = cnet.mask.body[-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.fill_(value)
    return cnet


def test_feature_flow_is_the_image_flow_divided_by_the_stride():
    flow = torch.zeros(1, 36, 52, 2)
    flow[..., 0], flow[..., 1] = 8.0, -4.0
    fl = feature_flow(flow)
    assert fl.shape == (1, *feature_size(36, 52), 2)
    assert torch.allclose(fl[..., 0], torch.tensor(2.0)) and torch.allclose(fl[..., 1], torch.tensor(-1.0))


def test_mask_of_one_reuses_the_previous_features_and_zero_the_current_ones():
    torch.manual_seed(0)
    cnet = CoherentNet().eval()
    prev, cur = torch.rand(1, 3, 36, 52), torch.rand(1, 3, 36, 52)
    zero = torch.zeros(1, 36, 52, 2)
    c = torch.ones(1, 1, 36, 52)
    with torch.no_grad():
        prev_out, prev_f, m0 = cnet.step(prev)
        assert m0 is None and torch.allclose(prev_out, cnet.net(prev))
        out1, _, m1 = _saturated(cnet, 30.0).step(cur, None, prev, prev_f, zero, c)
        out0, _, m2 = _saturated(cnet, -30.0).step(cur, None, prev, prev_f, zero, c)
        per_frame = cnet.net(cur)
    assert m1 is not None and m1.shape == (1, 1, *feature_size(36, 52)) and float(m1.min()) > 0.999
    assert m2 is not None and float(m2.max()) < 1e-3
    assert float((out1 - prev_out).abs().max()) < 1e-3  # the previous frame's output, re-decoded
    assert float((out0 - per_frame).abs().max()) < 1e-3  # the per-frame output


def test_synthetic_pairs_carry_exact_flow_and_a_mask_target_where_the_estimate_is_right():
    pairs = synthetic_pairs(1, 40, 48, "dis", seed=0)
    assert len(pairs) == 5
    p = pairs[0]
    assert p.mask_target is not None and p.mask_target.shape == (40, 48)
    # the target is 0 wherever the pixel was not visible, and some pixels are reusable
    assert float(p.mask_target[p.valid == 0].max(initial=0.0)) == 0.0
    assert 0.2 < float(p.mask_target.mean()) <= float(p.valid.mean())


def test_a_flipped_crop_negates_the_horizontal_flow():
    pairs = synthetic_pairs(1, 40, 48, "dis", seed=0)
    data = PairData(pairs[:1], 32)
    seen = set()
    for seed in range(12):
        b = data.batch(np.random.default_rng(seed), 1, torch.device("cpu"))
        assert b.flow.shape == (1, 32, 32, 2) and b.c.shape == (1, 1, 32, 32) and float(b.has_mask) == 1.0
        seen.add(float(torch.sign(b.target_flow[..., 0].mean())))
    assert seen == {1.0, -1.0}  # the pan moves one way; flipped crops see it the other way


def test_normalized_weights_divide_every_style_layer_by_the_targets_total_mean_square():
    targets = {"a": torch.full((1, 4, 4), 2.0), "b": torch.full((1, 8, 8), 1.0)}
    w = normalized_weights(LossWeights(1.0, 10.0, 0.0, "a", ("a", "b"), {"a": 1.0, "b": 3.0}), targets,
                           content_mean_square=4.0)
    assert w.layer_weights == pytest.approx({"a": 0.2, "b": 0.6})  # 1/(4 + 1), times each layer's weight
    assert w.content == pytest.approx(0.25) and w.style == 10.0


def test_training_writes_a_coherent_model_and_resumes_it(tmp_path, folder, base, clip):
    out = tmp_path / "coherent.pt"
    s = TrainSettings(steps=1, **COHERENT)
    r = train_coherent(clip.frames[0], folder, out, s, base=base, model=RANDOM)
    ck = load_checkpoint(out)
    assert r.step == 1 and is_coherent(ck) and ck["step"] == 1
    assert {"content", "style", "temporal", "mask"} <= set(r.losses)
    # frozen: the stylisation network is the base's
    base_state = load_checkpoint(base)["state_dict"]
    assert all(torch.equal(ck["state_dict"][k], v) for k, v in base_state.items())
    r = train_coherent(clip.frames[0], folder, out, TrainSettings(steps=2, **COHERENT), base=base, model=RANDOM)
    assert (r.start_step, r.step, load_checkpoint(out)["step"]) == (1, 2, 2)
    with pytest.raises(ResumeError, match="temporal_weight"):
        train_coherent(clip.frames[0], folder, out, TrainSettings(steps=3, **{**COHERENT, "temporal_weight": 5.0}),
                       base=base, model=RANDOM)
    with pytest.raises(ResumeError, match="per-frame model"):
        train_coherent(clip.frames[0], folder, base, TrainSettings(steps=3, **COHERENT), base=base, model=RANDOM)
    # and per-frame training does not continue a coherent model
    with pytest.raises(ResumeError, match=r"coherent\.pt' is a coherent model, not a per-frame one.*--restart"):
        train(clip.frames[0], clip.frames, out, TrainSettings(steps=3, size=32, batch=1, sample_every=0), model=RANDOM)
    assert load_checkpoint(out)["step"] == 2  # nothing overwritten


def test_a_frozen_coherent_training_needs_a_base_of_the_same_style(tmp_path, folder, clip, base):
    with pytest.raises(InputError, match="--base"):
        train_coherent(clip.frames[0], folder, tmp_path / "m.pt", TrainSettings(steps=1, **COHERENT), model=RANDOM)
    with pytest.raises(InputError, match="another style"):
        train_coherent(clip.frames[1], folder, tmp_path / "m.pt", TrainSettings(steps=1, **COHERENT), base=base,
                       model=RANDOM)
    assert not (tmp_path / "m.pt").exists()


def test_online_video_writes_one_mask_per_later_frame(tmp_path, clip):
    cnet = CoherentNet()
    path = save_checkpoint(tmp_path / "c.pt", cnet.net, {}, 1, mask=_saturated(cnet, 30.0).mask)
    frames = [f[:, :44] for f in clip.frames]
    out = stylize_video_frames(path, frames, mask_dir=tmp_path / "masks", device="cpu")
    assert len(out) == 4 and out[0].shape == (40, 44, 3)
    assert sorted(p.name for p in (tmp_path / "masks").iterdir()) == [mask_name(t) for t in (1, 2, 3)]
    assert media.load_image(tmp_path / "masks" / mask_name(1)).min() == 255  # a saturated mask: all reused
    # the first frame is the per-frame output; a mask of 1 keeps the scene's first painting moving with it
    np.testing.assert_array_equal(out[0], stylize_frames(path, frames[:1], device="cpu")[0])
    with pytest.raises(InputError, match="--fast-blend"):
        stylize_video_frames(path, frames, blend=True, device="cpu")
    frames2, masks = stylize_clip_online(path, frames[:2], device="cpu")
    assert len(frames2) == 2 and len(masks) == 1 and masks[0].shape == (40, 44)


def test_a_mask_network_of_the_wrong_shape_is_refused(tmp_path):
    cnet = CoherentNet()
    path = save_checkpoint(tmp_path / "c.pt", cnet.net, {}, 1, mask=cnet.mask)
    blob = torch.load(path, weights_only=True)
    blob["mask_state_dict"]["body.0.weight"] = torch.zeros(3, 3, 3, 3)
    torch.save(blob, path)
    with pytest.raises(WeightsError, match="body.0.weight"):
        load_checkpoint(path)


def test_cli_trains_a_coherent_model_and_refuses_it_without_a_base(cli, tmp_path, folder, base, clip):
    style = tmp_path / "style.png"
    media.save_image(style, clip.frames[0])  # the base's style
    common = ["--size", "32", "--batch", "1", "--weights", "random", "--synthetic-clips", "0", "--sample-every", "0",
              "-q"]
    r = cli("train", style, "--data", folder, "-o", tmp_path / "c.pt", "--coherent", "--steps", "1", *common)
    assert r.code == 2 and r.err.startswith("error:") and "--base" in r.err and len(r.err.strip().splitlines()) == 1
    r = cli("train", style, "--data", folder, "-o", tmp_path / "c.pt", "--coherent", "--base", base, "--steps", "1",
            *common)
    assert r.code == 0, r
    assert is_coherent(load_checkpoint(tmp_path / "c.pt"))
    r = cli("train", style, "--data", folder, "-o", tmp_path / "d.pt", "--base", base, "--steps", "1", *common)
    assert r.code == 2 and "--base is for --coherent" in r.err


def test_transform_net_alone_is_unchanged_by_a_coherent_wrapper():
    net = TransformNet()
    assert CoherentNet(net=net).net is net


def test_video_command_runs_a_coherent_model_online_and_keeps_its_masks(cli, tmp_path, clip):
    from mediautil import write_gif

    cnet = CoherentNet()
    model = save_checkpoint(tmp_path / "c.pt", cnet.net, {}, 1, mask=cnet.mask)
    gif = tmp_path / "c.gif"
    write_gif(gif, clip.frames, [40] * len(clip.frames))
    r = cli("video", gif, "--fast", model, "-o", tmp_path / "o.gif", "-q")
    assert r.code == 0, r
    assert len(media.read_clip(tmp_path / "o.gif").frames) == 4
    masks = tmp_path / ".o.gif.neuralpaint" / "masks"
    assert sorted(p.name for p in masks.iterdir()) == [mask_name(t) for t in (1, 2, 3)]
    r = cli("report", masks.parent)
    assert r.code == 0, r
    page = (masks.parent / "report.html").read_text()
    assert "learned mask" in page and "masks.png" in page
    r = cli("video", gif, "--fast", model, "--fast-blend", "-o", tmp_path / "p.gif", "-q")
    assert r.code == 2 and r.err.startswith("error:") and "--fast-blend" in r.err, r
