"""The one objective (neuralpaint.objective) and its three users: the optimiser, fast-path
training and the loss metrics must report the same content and style loss for the same image,
VGG features and weights."""

import numpy as np
import pytest
import torch

from neuralpaint import media
from neuralpaint.fast.train import LossNetwork
from neuralpaint.losses import content_loss, gram, style_loss, tv_loss
from neuralpaint.metrics import LossMeter
from neuralpaint.objective import LossWeights, Objective, style_grams
from neuralpaint.optimize import Stylizer
from neuralpaint.settings import ImageSettings, ModelSettings, RuntimeSettings, TrainSettings
from neuralpaint.vgg import load_vgg

RANDOM = ModelSettings(weights="random")
CPU = torch.device("cpu")
SIZE = 32
LAYERS = dict(content_layer="relu2_2", style_layers=("relu1_1", "relu2_1", "relu3_1"))
WEIGHTS = dict(content_weight=2.0, style_weight=1e5, tv_weight=0.5)


def _pictures():
    rng = np.random.default_rng(7)
    # already at the working size (long side SIZE), so no user resizes anything
    style, content, image = (rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8) for _ in range(3))
    return style, content, image


@pytest.fixture(scope="module")
def three_users():
    style, content, image = _pictures()
    c_t, x_t = media.image_to_tensor(content), media.image_to_tensor(image)

    # the optimiser: its loss parts at the init, with no iteration done
    image_s = ImageSettings(size=SIZE, style_scale=1.0, scales=1, **LAYERS, **WEIGHTS)
    st = Stylizer.create([media.image_to_tensor(style)], image_s, RANDOM, RuntimeSettings(), CPU)
    optimised = st.run(c_t, init=x_t, max_iters=0).losses

    # fast-path training: ``image`` as the network's output for the content batch
    # raw terms, as the optimiser and the meter weigh them (normalize_losses rescales them by design)
    train_s = TrainSettings(size=SIZE, noise_weight=0.0, compound_weight=0.0, normalize_losses=False, **LAYERS,
                            **WEIGHTS)
    lossnet = LossNetwork.create(style, train_s, RANDOM, CPU)
    trained = lossnet.evaluate(lambda _x: x_t, c_t, train_s)  # type: ignore[arg-type]

    # the metrics
    measured = LossMeter(style, RANDOM, image_s, CPU).measure([image], [content])
    return optimised, trained, measured, (style, content, image)


def test_optimiser_training_and_metrics_report_the_same_losses(three_users):
    optimised, trained, measured, _ = three_users
    assert set(optimised) == {"content", "style", "tv"}
    assert optimised["content"] > 0 and optimised["style"] > 0
    for name in ("content", "style", "tv"):
        assert trained[name] == pytest.approx(optimised[name], rel=1e-6), name
    assert measured.per_frame_style[0] == pytest.approx(optimised["style"], rel=1e-6)
    assert measured.per_frame_content[0] == pytest.approx(optimised["content"], rel=1e-6)


def test_the_objective_is_the_papers_sum_of_weighted_terms(three_users):
    """Independent of the objective's code: the terms of neuralpaint.losses, weighted by hand."""
    optimised, _, _, (style, content, image) = three_users
    vgg = load_vgg(RANDOM, [LAYERS["content_layer"], *LAYERS["style_layers"]], CPU)
    s_t, c_t, x_t = (media.image_to_tensor(a) for a in (style, content, image))
    with torch.no_grad():
        fs, fc, fx = vgg(s_t), vgg(c_t), vgg(x_t)
        targets = {n: gram(fs[n]) for n in LAYERS["style_layers"]}
        want = {"content": WEIGHTS["content_weight"] * content_loss(fx["relu2_2"], fc["relu2_2"]),
                "style": WEIGHTS["style_weight"] * style_loss({n: gram(fx[n]) for n in targets}, targets),
                "tv": WEIGHTS["tv_weight"] * tv_loss(x_t)}
    for name, value in want.items():
        assert optimised[name] == pytest.approx(float(value), rel=1e-6), name


def test_batched_parts_are_the_mean_of_the_items_and_weights_skip_terms():
    vgg = load_vgg(RANDOM, ["relu1_1", "relu2_1"], CPU)
    w = LossWeights(content=1.0, style=10.0, tv=0.0, content_layer="relu2_1", style_layers=("relu1_1",),
                    layer_weights={"relu1_1": 0.5})
    torch.manual_seed(0)
    style, content, x = torch.rand(1, 3, 16, 16), torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16)
    obj = Objective(vgg, w, style_grams(vgg, [style], w.style_layers), content)
    total, parts = obj(x)
    assert set(parts) == {"content", "style"}  # tv weight 0: no term
    assert float(total) == pytest.approx(float(parts["content"] + parts["style"]))
    per_item = [Objective(vgg, w, obj.style_targets, content[i:i + 1]).parts(x[i:i + 1]) for i in range(2)]
    for name in ("content", "style"):
        assert float(parts[name]) == pytest.approx(np.mean([float(p[name]) for p in per_item]), rel=1e-5)
    # the per-layer weight is applied: twice the weight, twice the style part
    w2 = LossWeights(**{**w.__dict__, "layer_weights": {"relu1_1": 1.0}})
    assert float(Objective(vgg, w2, obj.style_targets, content).parts(x)["style"]) == pytest.approx(
        2 * float(parts["style"]), rel=1e-5)
    # no weight at all: no VGG pass, and the total still depends on x (L-BFGS needs a gradient path)
    none = LossWeights(content=0.0, style=0.0, tv=0.0, content_layer="relu2_1", style_layers=("relu1_1",))
    xg = x.clone().requires_grad_(True)
    total, parts = Objective(vgg, none, {}, content)(xg)
    assert parts == {} and float(total.detach()) == 0.0 and total.requires_grad
