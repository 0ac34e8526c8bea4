"""The fast path's transformation network and its settings."""

import pytest
import torch

from neuralpaint.errors import InputError
from neuralpaint.fast.network import TransformNet, feature_size
from neuralpaint.settings import SETTINGS_CLASSES, FastSettings, TrainSettings


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return TransformNet().eval()


@pytest.mark.parametrize("h, w", [(33, 47), (32, 32), (5, 7), (1, 1), (18, 64)])
def test_any_size_gives_the_same_size_in_range(net, h, w):
    x = torch.rand(2, 3, h, w)
    with torch.no_grad():
        y = net(x)
        f = net.encode(x)
    assert y.shape == x.shape
    assert float(y.min()) >= 0.0 and float(y.max()) <= 1.0
    assert f.shape == (2, 128, *feature_size(h, w))


def test_layout_matches_johnson():
    net = TransformNet()
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    shapes = [(c.in_channels, c.out_channels, c.kernel_size[0], c.stride[0]) for c in convs]
    assert shapes[:3] == [(3, 32, 9, 1), (32, 64, 3, 2), (64, 128, 3, 2)]
    assert shapes[3:13] == [(128, 128, 3, 1)] * 10          # 5 residual blocks
    assert shapes[13:] == [(128, 64, 3, 1), (64, 32, 3, 1), (32, 3, 9, 1)]
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in net.modules())
    norms = [m for m in net.modules() if isinstance(m, torch.nn.InstanceNorm2d)]
    assert len(norms) == 15 and all(n.affine for n in norms)


def test_gradients_reach_the_first_layer(net):
    x = torch.rand(1, 3, 20, 20)
    net.zero_grad()
    net(x).mean().backward()
    assert net.encoder[0].conv.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("cls, kwargs, message", [
    (TrainSettings, {"batch": 0}, "batch must be >= 1, got 0"),
    (TrainSettings, {"steps": 0}, "steps must be >= 1, got 0"),
    (TrainSettings, {"lr": -1.0}, "lr must be > 0, got -1.0"),
    (TrainSettings, {"noise_weight": float("nan")}, "noise-weight must be a finite number, got nan"),
    (TrainSettings, {"compound_weight": -2.0}, "compound-weight must be >= 0, got -2.0"),
    (TrainSettings, {"noise_fraction": 2.0}, "noise-fraction must be <= 1, got 2.0"),
    (TrainSettings, {"content_layer": "relu9_9"}, "unknown content layer 'relu9_9'"),
    (TrainSettings, {"size": 8}, "size must be >= 16, got 8"),
    (TrainSettings, {"sample_every": -1}, "sample-every must be >= 0, got -1"),
    (FastSettings, {"blend_at": "middle"}, "unknown blend-at 'middle'"),
    (FastSettings, {"flow": "magic"}, "unknown flow method 'magic'"),
    (FastSettings, {"blend_strength": 1.5}, "blend-strength must be <= 1, got 1.5"),
])
def test_settings_reject_bad_values_by_name(cls, kwargs, message):
    with pytest.raises(InputError, match=message):
        cls(**kwargs)


def test_settings_are_registered():
    assert TrainSettings in SETTINGS_CLASSES and FastSettings in SETTINGS_CLASSES
