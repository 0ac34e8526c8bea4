"""L-BFGS with a fixed step (no line search) that never reads a tensor value on the host.

``torch.optim.LBFGS`` turns device scalars into Python numbers several times per iteration
(``float(loss)``, ``ys > 1e-10``, the gradient and step tolerance tests, the first step length),
and every one of those waits for the GPU's queue to drain. This is the same algorithm as
``torch.optim.LBFGS(line_search_fn=None, tolerance_grad=-1, tolerance_change=-1)``, the Lua code's
fixed-step rule, written with device-side scalars only, so an iteration is a stream of kernels
(the prerequisite of capturing it in a CUDA graph; the capture itself is not done here).

Departures from torch's loop, each forced by "no host reads":
- A curvature pair with y·s ≤ 1e-10 is stored with ρ = 0 (a no-op in the two-loop recursion)
  instead of being skipped, so the ring of pairs advances on a host-side count. The iterates equal
  torch's until the history is full and such a pair has been stored (it then evicts an older
  pair one iteration earlier than torch would).
- torch ends a ``step()`` early when the direction is not a descent direction by more than the
  change tolerance (``gtd > -tolerance_change``, i.e. gtd > 1 with the tolerance at -1); we do not
  test it (it would read gtd on the host).

:class:`LbfgsMemory` carries torch's L-BFGS curvature pairs from one problem to the next (a
video's consecutive frames).

The interface is the part of ``torch.optim.Optimizer`` that :func:`neuralpaint.optimize.run_scale`
uses: ``param_groups[0]["max_iter"]`` (iterations per ``step()``), ``state[x]["n_iter"]``,
``zero_grad``, ``step(closure)``. One parameter tensor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

import torch


class FixedStepLBFGS:
    def __init__(self, params: list[torch.Tensor], lr: float = 1.0, history_size: int = 100, max_iter: int = 20):
        if len(params) != 1:
            raise ValueError(f"FixedStepLBFGS optimises one tensor, got {len(params)}")
        self.x = params[0]
        self.param_groups: list[dict[str, Any]] = [{"lr": float(lr), "max_iter": int(max_iter),
                                                     "max_eval": int(max_iter) * 5 // 4}]
        self.state: dict[torch.Tensor, dict[str, Any]] = {self.x: {"n_iter": 0, "func_evals": 0}}
        self.history_size = int(history_size)
        self.old_dirs: list[torch.Tensor] = []  # y_k, oldest first
        self.old_stps: list[torch.Tensor] = []  # s_k
        self.ro: list[torch.Tensor] = []  # 1 / (y_k · s_k), or 0 for a pair without curvature
        self.d: Optional[torch.Tensor] = None
        self.t: Any = None  # the last step length (a 0-dim tensor after the first iteration's)
        self.prev_grad: Optional[torch.Tensor] = None
        self.h_diag: Optional[torch.Tensor] = None

    def zero_grad(self, set_to_none: bool = True) -> None:
        if set_to_none:
            self.x.grad = None
        elif self.x.grad is not None:
            self.x.grad.zero_()

    def _grad(self) -> torch.Tensor:
        g = self.x.grad
        assert g is not None, "the closure must call backward()"
        return g.reshape(-1)

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor]) -> torch.Tensor:
        group, state = self.param_groups[0], self.state[self.x]
        lr, max_iter = group["lr"], group["max_iter"]
        with torch.enable_grad():
            loss = closure()
        state["func_evals"] += 1
        g = self._grad()
        for k in range(max_iter):
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = g.neg()
                self.h_diag = torch.ones((), dtype=g.dtype, device=g.device)
                # torch: min(1, 1/|g|₁)·lr, read on the host; here a device scalar
                t: Any = torch.clamp(g.abs().sum().reciprocal(), max=1.0) * lr
            else:
                assert self.prev_grad is not None and self.d is not None and self.h_diag is not None
                y = g.sub(self.prev_grad)
                s = self.d.mul(self.t)
                ys = y.dot(s)
                curved = ys > 1e-10
                if len(self.old_dirs) == self.history_size:
                    self.old_dirs.pop(0)
                    self.old_stps.pop(0)
                    self.ro.pop(0)
                self.old_dirs.append(y)
                self.old_stps.append(s)
                self.ro.append(torch.where(curved, ys.reciprocal(), torch.zeros_like(ys)))
                self.h_diag = torch.where(curved, ys / y.dot(y), self.h_diag)
                q = g.neg()
                al = [torch.zeros_like(ys)] * len(self.old_dirs)
                for i in range(len(self.old_dirs) - 1, -1, -1):
                    al[i] = self.old_stps[i].dot(q) * self.ro[i]
                    q.sub_(self.old_dirs[i] * al[i])
                d = r = q.mul(self.h_diag)
                for i in range(len(self.old_dirs)):
                    be_i = self.old_dirs[i].dot(r) * self.ro[i]
                    r.add_(self.old_stps[i] * (al[i] - be_i))
                t = lr
            if self.prev_grad is None:
                self.prev_grad = g.clone(memory_format=torch.contiguous_format)
            else:
                self.prev_grad.copy_(g)
            self.d, self.t = d, t
            self.x.add_((d * t).view_as(self.x))
            if k != max_iter - 1:  # as torch: the last update of a step() is evaluated by the next
                with torch.enable_grad():
                    loss = closure()
                state["func_evals"] += 1
                g = self._grad()
        return loss


__all__ = ["FixedStepLBFGS"]


@dataclass
class LbfgsMemory:
    """L-BFGS's curvature pairs at the end of an optimisation, to start a similar problem with
    (the next frame of a video: same style, nearly the same image).

    Our addition to the papers, which start every frame's L-BFGS from scratch: its first
    iterations are then gradient steps while it rebuilds a memory that the previous frame had.
    """

    dirs: list[torch.Tensor]  #: y_i = gradient differences
    steps: list[torch.Tensor]  #: s_i = steps
    ro: list[Any]  #: 1 / (y_i · s_i)
    h_diag: Any  #: scale of the initial inverse Hessian

    def seed(self, opt: torch.optim.Optimizer, x: torch.Tensor) -> bool:
        """Give ``opt`` (a fresh LBFGS over ``x``) this memory; False where it does not fit.

        torch's LBFGS keeps its memory in ``opt.state``; its first step builds none only when
        ``n_iter`` is 0. Seeded with ``n_iter`` 1, a zero previous step and gradient, the pair it
        would add first has y·s = 0 and is skipped, and the first direction is the two-loop
        product of the carried memory with the new gradient.
        """
        if not self.dirs or self.dirs[0].numel() != x.numel() or self.dirs[0].device != x.device:
            return False
        zero = torch.zeros(x.numel(), dtype=self.dirs[0].dtype, device=x.device)
        opt.state[x].update({"func_evals": 0, "n_iter": 1, "d": zero, "t": 0.0, "old_dirs": list(self.dirs),
                             "old_stps": list(self.steps), "ro": list(self.ro), "H_diag": self.h_diag,
                             "prev_flat_grad": zero.clone(), "prev_loss": None})
        return True

    @classmethod
    def of(cls, opt: torch.optim.Optimizer, x: torch.Tensor) -> Optional["LbfgsMemory"]:
        state = opt.state.get(x, {})
        if not state.get("old_dirs"):
            return None
        return cls(list(state["old_dirs"]), list(state["old_stps"]), list(state["ro"]), state["H_diag"])
