"""The coherent online network (Chen, Liao, Yuan, Yu & Hua, "Coherent Online Video Style Transfer",
ICCV 2017): Johnson's network split into encoder and decoder, with a mask network between them.

For frame t, with the previous frame's composed features F′_{t−1} and the optical flow
``backward`` (t → t−1) of the source frames:

    F_t   = E(x_t)                                         the per-frame features
    W(·)  = backward warp by the flow (at the features' 1/4 resolution: 4×4 means, flow / 4)
    M     = mask(x_t, |x_t − W(x_{t−1})|, c)                in [0,1] at 1/4 resolution
    F′_t  = M ⊙ W(F′_{t−1}) + (1 − M) ⊙ F_t
    O_t   = D(F′_t)

Departures from the paper, and why:

- Flow: classical optical flow from :mod:`flows` (DIS by default) stands in for their flow
  sub-network (FlowNet-style), which would need its own training data and a GPU to train.
- Mask input: the paper feeds the difference of the current frame and the warped previous
  frame; we add the current frame itself and the forward-backward reliability ``c`` of the
  classical flow (:func:`flows.reliability`), a free, strong hint of where the flow is wrong.
- The stylisation network is Johnson's (:class:`~.network.TransformNet`), not theirs; as in the
  paper's second training stage it can be kept frozen while the mask network learns.

The first frame (no previous features) is the per-frame network's output.
"""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from .network import STRIDE, TransformNet
from .regularizers import warp

#: Channels of the mask network's input: frame (3), |frame − warped previous frame| (3), c (1).
MASK_INPUTS = 7


class MaskNet(nn.Module):
    """(B,7,Hp,Wp) -> (B,1,Hp/4,Wp/4) in [0,1]: where to reuse the warped previous features.

    Four 3×3 convolutions (two of stride 2 to reach the features' resolution), ReLU, sigmoid;
    a few thousand parameters: it must cost nothing next to the stylisation network."""

    def __init__(self, width: int = 16):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(MASK_INPUTS, width, 3, padding=1), nn.ReLU(),
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(2 * width, 2 * width, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(2 * width, 1, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.body(x))


def pad_like_network(m: torch.Tensor) -> torch.Tensor:
    """Pad a (B,C,H,W) map at the bottom/right to the network's padded size (edge values)."""
    ph, pw = TransformNet.padding(*m.shape[-2:])
    if ph == 0 and pw == 0:
        return m
    return F.pad(m, (0, pw, 0, ph), mode="replicate")


def feature_flow(flow: torch.Tensor) -> torch.Tensor:
    """Image-resolution flow (B,H,W,2) in pixels -> the features' grid (B,H/4,W/4,2): the mean
    over each 4×4 cell of the padded flow, divided by 4."""
    fl = pad_like_network(flow.permute(0, 3, 1, 2))
    return (F.avg_pool2d(fl, STRIDE) / STRIDE).permute(0, 2, 3, 1)


def feature_map(m: torch.Tensor) -> torch.Tensor:
    """Image-resolution map (B,1,H,W) -> the features' grid (4×4 means of the padded map)."""
    return F.avg_pool2d(pad_like_network(m), STRIDE)


class CoherentNet(nn.Module):
    """The stylisation network (``net``) plus the mask network (``mask``). See the module docstring."""

    def __init__(self, residual_blocks: int = 5, net: Optional[TransformNet] = None):
        super().__init__()
        self.net = net if net is not None else TransformNet(residual_blocks)
        self.mask = MaskNet()

    def mask_input(self, x: torch.Tensor, warped_prev_x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return pad_like_network(torch.cat([x, (x - warped_prev_x).abs(), c], dim=1))

    def step(self, x: torch.Tensor, features: Optional[torch.Tensor] = None, prev_x: Optional[torch.Tensor] = None,
             prev_features: Optional[torch.Tensor] = None, flow: Optional[torch.Tensor] = None,
             c: Optional[torch.Tensor] = None, warp_mode: str = "bilinear"
             ) -> tuple[torch.Tensor, torch.Tensor, Optional[torch.Tensor]]:
        """One frame: (output image, composed features F′_t, mask M or None for a first frame).

        ``x``, ``prev_x``: (B,3,H,W) in [0,1]; ``features``: E(x) when already computed;
        ``prev_features``: F′_{t−1}; ``flow``: backward flow t→t−1 (B,H,W,2) in pixels;
        ``c``: its reliability (B,1,H,W) in [0,1]."""
        size = (int(x.shape[-2]), int(x.shape[-1]))
        feats = self.net.encode(x) if features is None else features
        if prev_features is None:
            return self.net.decode(feats, size), feats, None
        assert prev_x is not None and flow is not None and c is not None, "a later frame needs prev_x, flow, c"
        warped_x = warp(prev_x, flow, mode="bilinear")
        m = self.mask(self.mask_input(x, warped_x, c))
        warped_f = warp(prev_features, feature_flow(flow), mode=warp_mode)
        composed = m * warped_f + (1 - m) * feats
        return self.net.decode(composed, size), composed, m


__all__ = ["CoherentNet", "MaskNet", "MASK_INPUTS", "feature_flow", "feature_map", "pad_like_network"]
