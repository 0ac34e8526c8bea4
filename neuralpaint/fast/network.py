"""Johnson et al.'s image transformation network (the fast path), in torch.

Layout (Johnson et al. 2016, supplementary; with the fixes that became standard):

    c9s1-32  d64  d128  R128 ×5  u64  u32  c9s1-3

- ``c9s1-k``: 9×9 convolution, stride 1, k filters; ``dk``: 3×3 convolution, stride 2;
  ``Rk``: residual block of two 3×3 convolutions (the second without ReLU, no ReLU after the
  sum); ``uk``: nearest-neighbour 2× upsampling followed by a 3×3 convolution. Upsampling +
  convolution replaces Johnson's fractionally strided convolutions, which leave checkerboard
  artefacts (Odena et al. 2016).
- Instance normalisation (affine) instead of batch normalisation (Ulyanov et al. 2016), after
  every convolution except the last; reflection padding instead of zero padding everywhere.
- Output: ``sigmoid`` of the last convolution, so the image is in [0,1] by construction
  (Johnson's scaled tanh ``150·tanh(x)`` was for 0–255 pixels; ``sigmoid(x) = (tanh(x/2)+1)/2``
  is the same shape on our range).

Any H×W works: the input is padded reflectively (bottom and right) to a multiple of 4 and at
least :data:`MIN_SIDE`, and the output is cropped back. :meth:`TransformNet.encode` /
:meth:`TransformNet.decode` split the network after the residual blocks (128 channels at 1/4
resolution), where ``--fast-blend`` can compose features.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

#: Spatial stride of the encoder: the feature maps are (H/4, W/4) of the padded input.
STRIDE = 4
#: Smallest side the network runs at (smaller inputs are padded up, then cropped).
MIN_SIDE = 16


class ConvLayer(nn.Module):
    """Reflection padding + convolution (+ instance norm + ReLU unless ``last``)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, relu: bool = True,
                 norm: bool = True):
        super().__init__()
        self.pad = nn.ReflectionPad2d(kernel // 2)
        self.conv = nn.Conv2d(cin, cout, kernel, stride)
        self.norm = nn.InstanceNorm2d(cout, affine=True) if norm else None
        self.relu = relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(self.pad(x))
        if self.norm is not None:
            x = self.norm(x)
        return F.relu(x) if self.relu else x


class ResidualBlock(nn.Module):
    """x + IN(conv(ReLU(IN(conv(x))))) (Gross & Wilber's variant used by Johnson et al.)."""

    def __init__(self, channels: int):
        super().__init__()
        self.a = ConvLayer(channels, channels, 3)
        self.b = ConvLayer(channels, channels, 3, relu=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.b(self.a(x))


class UpsampleConv(nn.Module):
    """Nearest-neighbour 2× upsampling, then a 3×3 ConvLayer."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = ConvLayer(cin, cout, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class TransformNet(nn.Module):
    """(B,3,H,W) in [0,1] -> (B,3,H,W) in [0,1]. See the module docstring."""

    def __init__(self, residual_blocks: int = 5):
        super().__init__()
        self.encoder = nn.Sequential(
            ConvLayer(3, 32, 9), ConvLayer(32, 64, 3, stride=2), ConvLayer(64, 128, 3, stride=2),
            *[ResidualBlock(128) for _ in range(residual_blocks)])
        self.decoder = nn.Sequential(
            UpsampleConv(128, 64), UpsampleConv(64, 32), ConvLayer(32, 3, 9, relu=False, norm=False))

    @staticmethod
    def padding(h: int, w: int) -> tuple[int, int]:
        """(bottom, right) padding that makes (h, w) multiples of 4 and at least MIN_SIDE."""
        ph = max(MIN_SIDE, -(-h // STRIDE) * STRIDE) - h
        pw = max(MIN_SIDE, -(-w // STRIDE) * STRIDE) - w
        return ph, pw

    @staticmethod
    def pad(x: torch.Tensor) -> torch.Tensor:
        ph, pw = TransformNet.padding(*x.shape[-2:])
        if ph == 0 and pw == 0:
            return x
        h, w = x.shape[-2:]
        # Reflection needs the pad to be smaller than the side; tiny inputs are replicated.
        mode = "reflect" if ph < h and pw < w else "replicate"
        return F.pad(x, (0, pw, 0, ph), mode=mode)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Image (B,3,H,W) -> features (B,128,Hp/4,Wp/4) of the padded image (Hp, Wp)."""
        return self.encoder(self.pad(x))

    def decode(self, features: torch.Tensor, size: tuple[int, int] | None = None) -> torch.Tensor:
        """Features -> image in [0,1], cropped to ``size`` (H, W) when given."""
        y = torch.sigmoid(self.decoder(features))
        if size is not None:
            y = y[..., : size[0], : size[1]]
        return y

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x), tuple(x.shape[-2:]))


def feature_size(h: int, w: int) -> tuple[int, int]:
    """(H/4, W/4) of the padded (h, w): the size of :meth:`TransformNet.encode`'s output."""
    ph, pw = TransformNet.padding(h, w)
    return (h + ph) // STRIDE, (w + pw) // STRIDE
