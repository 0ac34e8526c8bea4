"""Training the fast network: stability terms, loss going down, checkpoints, resume, data."""

import numpy as np
import pytest
import torch

import flows
from neuralpaint import media
from neuralpaint.errors import InputError, ResumeError
from neuralpaint.fast.checkpoint import load_checkpoint
from neuralpaint.fast.network import TransformNet
from neuralpaint.fast.regularizers import (compound_loss, inside_mask, noise_stability_loss,
                                           random_smooth_flow, warp)
from neuralpaint.fast.train import (CheckpointSaved, LossNetwork, SampleSaved, TrainingData, TrainStep,
                                    new_network, sample_path, train)
from neuralpaint.settings import ModelSettings, TrainSettings

from conftest import textured

RANDOM = ModelSettings(weights="random")
TINY = dict(size=32, batch=1, lr=1e-2, checkpoint_every=1, sample_every=0)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


# -- regularisers -------------------------------------------------------------------------------


def test_warp_matches_flows_warp_inside_the_image():
    img = textured(24, 32, seed=4).astype(np.float32) / 255
    flow = random_smooth_flow(1, 24, 32, 3.0, gen())[0].numpy()
    ref = flows.warp(img, flow, interpolation="linear")  # the torch twin is bilinear
    t = torch.from_numpy(img).permute(2, 0, 1)[None]
    ours = warp(t, torch.from_numpy(flow))[0].permute(1, 2, 0).numpy()
    inside = inside_mask(torch.from_numpy(flow))[0, 0].numpy() > 0
    assert inside.mean() > 0.5
    np.testing.assert_allclose(ours[inside], ref[inside], atol=2e-3)


def test_random_flow_is_smooth_and_bounded():
    fl = random_smooth_flow(3, 40, 40, 4.0, gen())
    assert fl.shape == (3, 40, 40, 2)
    assert float(fl.abs().max()) <= 4.0
    assert float((fl[:, 1:] - fl[:, :-1]).abs().max()) < 0.5  # no pixel-level noise
    assert not torch.equal(fl[0], fl[1])


def test_stability_losses_vanish_for_equivariant_networks_and_not_for_the_real_one():
    x = torch.rand(2, 3, 32, 32, generator=gen(1))
    identity = lambda t: t  # noqa: E731
    pointwise = torch.nn.Conv2d(3, 3, 1)
    constant = lambda t: torch.full_like(t, 0.5)  # noqa: E731
    # Compound: W(F(X)) = F(W(X)) exactly for pointwise networks when Δ = 0.
    assert float(compound_loss(identity, x, identity(x), 4.0, 0.0, gen())) == 0.0
    with torch.no_grad():
        assert float(compound_loss(pointwise, x, pointwise(x), 4.0, 0.0, gen())) < 1e-12
    # Noise stability: zero for a network that ignores the noise, positive for identity.
    assert float(noise_stability_loss(constant, x, constant(x), 0.05, 0.2, gen())) == 0.0
    assert float(noise_stability_loss(identity, x, x, 0.05, 0.2, gen())) > 0.0
    assert float(noise_stability_loss(identity, x, x, 0.05, 0.0, gen())) == 0.0
    net = new_network(0)
    with torch.no_grad():
        out = net(x)
        assert float(compound_loss(net, x, out, 4.0, 0.0, gen())) > 1e-6
        assert float(noise_stability_loss(net, x, out, 0.05, 0.2, gen())) > 1e-8


def test_compound_loss_is_differentiable():
    net = TransformNet()
    x = torch.rand(1, 3, 16, 16)
    loss = compound_loss(net, x, net(x), 3.0, 0.01, gen())
    loss.backward()
    assert net.encoder[0].conv.weight.grad.abs().sum() > 0


# -- training -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data_and_style():
    return [textured(48, 64, seed=i) for i in range(3)], textured(40, 40, seed=9)


def test_training_lowers_the_loss_and_writes_checkpoint_and_sample(tmp_path, data_and_style):
    data, style = data_and_style
    s = TrainSettings(steps=4, checkpoint_every=3, sample_every=4,  # the default lr: 1e-2 is too long a step
                      **{k: v for k, v in TINY.items() if k not in ("sample_every", "checkpoint_every", "lr")})
    out = tmp_path / "m.pt"
    events = []
    res = train(style, data, out, s, callback=events.append, model=RANDOM)
    assert res.step == 4 and res.start_step == 0 and out.exists()
    assert sample_path(out).exists() and media.load_image(sample_path(out)).shape == (24, 32, 3)  # long side = size
    steps = [e.step for e in events if isinstance(e, TrainStep)]
    assert steps == [1, 2, 3, 4]
    assert [e.step for e in events if isinstance(e, CheckpointSaved)] == [3, 4]
    assert [e.step for e in events if isinstance(e, SampleSaved)] == [4]
    # Loss on a fixed batch, before and after.
    lossnet = LossNetwork.create(style, s, RANDOM, torch.device("cpu"))
    x = TrainingData.open(data, s.size).batch(np.random.default_rng(0), 2, torch.device("cpu"))
    before = lossnet.evaluate(new_network(s.seed), x, s)
    trained = TransformNet()
    trained.load_state_dict(load_checkpoint(out)["state_dict"])
    after = lossnet.evaluate(trained, x, s)
    assert after["total"] < before["total"], (before, after)
    assert set(before) == {"content", "style", "tv", "noise", "compound", "total"}


def test_resume_continues_from_the_saved_step_and_matches_an_uninterrupted_run(tmp_path, data_and_style):
    data, style = data_and_style
    a, b = tmp_path / "a.pt", tmp_path / "b.pt"
    train(style, data, a, TrainSettings(steps=1, **TINY), model=RANDOM)
    assert load_checkpoint(a)["step"] == 1
    events = []
    res = train(style, data, a, TrainSettings(steps=2, **TINY), callback=events.append, model=RANDOM)
    assert res.start_step == 1 and res.step == 2
    assert [e.step for e in events if isinstance(e, TrainStep)] == [2]
    train(style, data, b, TrainSettings(steps=2, **TINY), model=RANDOM)
    sa, sb = load_checkpoint(a), load_checkpoint(b)
    assert sa["step"] == sb["step"] == 2
    for k in sa["state_dict"]:
        torch.testing.assert_close(sa["state_dict"][k], sb["state_dict"][k], rtol=1e-4, atol=1e-5)
    # Nothing left to do: returns at once.
    res = train(style, data, a, TrainSettings(steps=2, **TINY), model=RANDOM)
    assert res.start_step == res.step == 2


def test_resume_refuses_other_settings_unless_restarted(tmp_path, data_and_style):
    data, style = data_and_style
    out = tmp_path / "m.pt"
    train(style, data, out, TrainSettings(steps=1, **TINY), model=RANDOM)
    with pytest.raises(ResumeError, match=r"style_weight was 10\.0, now 5\.0.*--restart"):
        train(style, data, out, TrainSettings(steps=2, style_weight=5.0, **TINY), model=RANDOM)
    with pytest.raises(ResumeError, match="the style image differs"):
        train(textured(40, 40, seed=10), data, out, TrainSettings(steps=2, **TINY), model=RANDOM)
    res = train(style, data, out, TrainSettings(steps=1, style_weight=5.0, **TINY), model=RANDOM,
                resume=False)
    assert res.start_step == 0
    assert load_checkpoint(out)["settings"]["train"]["style_weight"] == 5.0


def test_init_starts_a_fresh_run_from_another_models_weights(tmp_path, data_and_style):
    data, style = data_and_style
    first, second = tmp_path / "content.pt", tmp_path / "styled.pt"
    train(style, data, first, TrainSettings(steps=1, style_weight=0.0, **TINY), model=RANDOM)
    events = []
    train(style, data, second, TrainSettings(steps=1, **{**TINY, "lr": 1e-12}), model=RANDOM, init=first,
          callback=events.append)
    a, b = load_checkpoint(first)["state_dict"], load_checkpoint(second)["state_dict"]
    for k in a:  # one step of a negligible size away from the init
        torch.testing.assert_close(a[k], b[k], rtol=1e-6, atol=1e-6)
    assert [e.step for e in events if isinstance(e, TrainStep)] == [1]  # a fresh run, step 1
    train(style, data, tmp_path / "other.pt", TrainSettings(steps=1, style_weight=0.0, seed=1, **TINY), model=RANDOM)
    with pytest.raises(ResumeError, match="--init model differs"):
        train(style, data, second, TrainSettings(steps=2, **{**TINY, "lr": 1e-12}), model=RANDOM,
              init=tmp_path / "other.pt")
    with pytest.raises(InputError, match="missing.pt"):
        train(style, data, tmp_path / "x.pt", TrainSettings(steps=1, **TINY), model=RANDOM,
              init=tmp_path / "missing.pt")


def test_an_output_that_is_not_a_checkpoint_is_not_overwritten(tmp_path, data_and_style):
    data, style = data_and_style
    out = tmp_path / "notes.pt"
    out.write_text("precious")
    with pytest.raises(ResumeError, match=r"notes\.pt.*--restart"):
        train(style, data, out, TrainSettings(steps=1, **TINY), model=RANDOM)
    assert out.read_text() == "precious"


def test_data_from_a_folder_and_from_a_gif(tmp_path):
    folder = tmp_path / "imgs"
    (folder / "sub").mkdir(parents=True)
    media.save_image(folder / "a.png", textured(40, 50, seed=1))
    media.save_image(folder / "sub" / "b.jpg", textured(70, 30, seed=2))
    (folder / "notes.txt").write_text("x")
    d = TrainingData.open(folder, 32)
    assert len(d) == 2
    x = d.batch(np.random.default_rng(1), 3, torch.device("cpu"))
    assert x.shape == (3, 3, 32, 32) and 0 <= float(x.min()) and float(x.max()) <= 1
    gif = tmp_path / "clip.gif"
    media.write_clip(gif, [textured(36, 44, seed=s) for s in range(4)], fps=10)
    d = TrainingData.open(gif, 16)
    assert len(d) == 4 and d.batch(np.random.default_rng(2), 2, torch.device("cpu")).shape == (2, 3, 16, 16)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no images"):
        TrainingData.open(tmp_path / "empty", 32)
    with pytest.raises(InputError, match="does not exist"):
        TrainingData.open(tmp_path / "nope", 32)


def test_same_seed_same_batches():
    d = TrainingData.open([textured(40, 60, seed=1), textured(50, 50, seed=2)], 24)
    a = d.batch(np.random.default_rng([0, 5]), 2, torch.device("cpu"))
    b = d.batch(np.random.default_rng([0, 5]), 2, torch.device("cpu"))
    assert torch.equal(a, b)
