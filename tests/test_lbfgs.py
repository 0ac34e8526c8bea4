"""The host-sync-free fixed-step L-BFGS follows torch.optim.LBFGS without a line search."""

import pytest
import torch

from neuralpaint.lbfgs import FixedStepLBFGS


def _iterates(make_opt, f, x0, windows, per_window):
    x = x0.clone().requires_grad_(True)
    opt = make_opt(x, per_window)
    out = []

    def closure():
        opt.zero_grad(set_to_none=True)
        loss = f(x)
        loss.backward()
        return loss

    for _ in range(windows):
        opt.step(closure)
        out.append(x.detach().clone())
    return out, opt


def _torch(x, n):
    # max_eval: torch stops a step() at n·5//4 evaluations, which cuts short steps of n <= 3
    return torch.optim.LBFGS([x], lr=1.0, max_iter=n, max_eval=n * 2, history_size=100, tolerance_grad=-1,
                             tolerance_change=-1)


def _ours(x, n):
    return FixedStepLBFGS([x], lr=1.0, history_size=100, max_iter=n)


def test_iterates_equal_torch_lbfgs_on_a_quadratic_across_step_calls():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(12, 12, generator=g, dtype=torch.float64)
    h = a @ a.T + 0.5 * torch.eye(12, dtype=torch.float64)
    b = torch.randn(12, generator=g, dtype=torch.float64)

    def f(x):
        v = x.reshape(-1)
        return 0.5 * v @ h @ v - b @ v

    x0 = torch.randn(3, 4, generator=g, dtype=torch.float64)
    theirs, topt = _iterates(_torch, f, x0, windows=3, per_window=4)
    ours, oopt = _iterates(_ours, f, x0, windows=3, per_window=4)
    for t, o in zip(theirs, ours):
        assert torch.allclose(t, o, rtol=1e-10, atol=1e-12)
    assert oopt.state[oopt.x]["n_iter"] == topt.state[topt.param_groups[0]["params"][0]]["n_iter"] == 12


def test_iterates_equal_torch_lbfgs_on_the_style_objective():
    from neuralpaint.objective import LossWeights, Objective
    from neuralpaint.optimize import Stylizer
    from neuralpaint.settings import ImageSettings, ModelSettings, RuntimeSettings

    g = torch.Generator().manual_seed(1)
    content, style = torch.rand(1, 3, 32, 40, generator=g), torch.rand(1, 3, 32, 32, generator=g)
    st = Stylizer.create([style], ImageSettings(size=40, style_layers=("relu1_1", "relu2_1"), content_layer="relu2_1"),
                         ModelSettings(weights="random"), RuntimeSettings(channels_last=False), torch.device("cpu"))
    obj = Objective(st.vgg, LossWeights.of(st.settings), st.bank.targets(40), content)
    theirs, _ = _iterates(_torch, lambda x: obj(x)[0], content, windows=2, per_window=3)
    ours, _ = _iterates(_ours, lambda x: obj(x)[0], content, windows=2, per_window=3)
    for t, o in zip(theirs, ours):
        assert torch.allclose(t, o, rtol=1e-3, atol=1e-5)


def test_a_pair_without_curvature_is_a_no_op():
    """y·s ≤ 1e-10 (here: a linear function, y = 0) stores ρ = 0 and keeps the steepest-descent
    direction scaled by the last curvature estimate, as torch does by skipping the pair."""
    def f(x):
        return x.sum() * 2.0

    x0 = torch.zeros(2, 3, dtype=torch.float64)
    theirs, _ = _iterates(_torch, f, x0, windows=1, per_window=3)
    ours, opt = _iterates(_ours, f, x0, windows=1, per_window=3)
    assert torch.allclose(theirs[0], ours[0])
    assert all(float(r) == 0.0 for r in opt.ro)


def test_one_tensor_only():
    with pytest.raises(ValueError, match="one tensor"):
        FixedStepLBFGS([torch.zeros(2), torch.zeros(2)])
