import torch

from neuralpaint import losses


def test_gram_is_normalised_by_c_h_w():
    f = torch.ones(1, 4, 3, 5)
    g = losses.gram(f)
    assert g.shape == (1, 4, 4)
    assert torch.allclose(g, torch.full((1, 4, 4), 15 / (4 * 15)))
    f = torch.randn(2, 3, 6, 7)
    flat = f.reshape(2, 3, 42)
    assert torch.allclose(losses.gram(f), flat @ flat.transpose(1, 2) / (3 * 42), atol=1e-6)


def test_gram_channels_last_equals_contiguous():
    f = torch.randn(1, 8, 9, 11)
    assert torch.allclose(losses.gram(f), losses.gram(f.contiguous(memory_format=torch.channels_last)), atol=1e-6)


def test_gram_gradient_matches_autograd_of_the_plain_product_in_both_layouts():
    """The symmetric backward of gram() gives the gradient autograd gives for F Fᵀ / (C·H·W)."""
    for layout in (torch.contiguous_format, torch.channels_last):
        f = torch.randn(2, 5, 4, 6, dtype=torch.float64).contiguous(memory_format=layout).requires_grad_(True)
        target = torch.randn(2, 5, 5, dtype=torch.float64)
        ours = torch.autograd.grad(((losses.gram(f) - target) ** 2).sum(), f)[0]
        flat = f.reshape(2, 5, 24)
        plain = torch.autograd.grad((((flat @ flat.transpose(1, 2)) / 120 - target) ** 2).sum(), f)[0]
        assert torch.allclose(ours, plain, atol=1e-12)


def test_gram_passes_gradcheck_in_float64():
    f = torch.randn(1, 3, 4, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(losses.gram, (f,))
    g = torch.randn(1, 3, 4, 5, dtype=torch.float64).contiguous(memory_format=torch.channels_last).requires_grad_(True)
    assert torch.autograd.gradcheck(losses.gram, (g,))


def test_style_loss_mean_over_c_by_c_with_layer_weights():
    a = {"l1": torch.zeros(1, 2, 2), "l2": torch.zeros(1, 3, 3)}
    g = {"l1": torch.ones(1, 2, 2), "l2": torch.full((1, 3, 3), 2.0)}
    assert losses.style_loss(g, a).item() == 1.0 + 4.0
    assert losses.style_loss(g, a, {"l1": 0.5, "l2": 0.0}).item() == 0.5


def test_content_and_tv_values():
    x = torch.zeros(1, 3, 4, 4)
    assert losses.content_loss(x, x + 2).item() == 4.0
    assert losses.tv_loss(torch.full((1, 3, 5, 5), 0.3)).item() == 0.0
    stripes = torch.zeros(1, 1, 4, 4)
    stripes[..., 1::2] = 1.0  # every horizontal neighbour differs by 1, vertical by 0
    assert losses.tv_loss(stripes).item() == 1.0


def test_temporal_loss_is_weighted_mean_over_3hw():
    x = torch.ones(1, 3, 2, 2)
    warped = torch.zeros(1, 3, 2, 2)
    c = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])
    assert abs(losses.temporal_loss(x, warped, c).item() - 3 / 12) < 1e-7
    assert losses.temporal_loss(x, warped, torch.zeros_like(c)).item() == 0.0


def test_blend_grams_normalises_weights():
    g1 = {"l": torch.ones(1, 2, 2)}
    g2 = {"l": torch.zeros(1, 2, 2)}
    out = losses.blend_grams([g1, g2], [3.0, 1.0])
    assert torch.allclose(out["l"], torch.full((1, 2, 2), 0.75))


def test_temporal_term_resamples_for_coarse_scales():
    t = losses.TemporalTerm([torch.rand(1, 3, 16, 20)], [torch.ones(1, 1, 16, 20)])
    small = t.at_size((8, 10))
    assert small.targets[0].shape == (1, 3, 8, 10) and small.weights[0].shape == (1, 1, 8, 10)
    assert t.at_size((16, 20)) is t
    assert t.loss(t.targets[0]).item() == 0.0
