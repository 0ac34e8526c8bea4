#!/usr/bin/env python
"""The plain loop as a whole process, for ``bench.py --end-to-end``: what a tutorial script does.

Imports torch, NumPy and Pillow only; builds VGG-19's trunk to relu5_1 (torchvision's layout,
seeded Kaiming init, or a state dict file), reads the content and style images, runs
``torch.optim.LBFGS`` for ``--iters`` iterations without a line search (one evaluation each) with
the tutorial's loss modules and per-closure clamping, and writes the PNG.

    python scripts/plain_loop.py content.png style.png out.png --size 256 --iters 50
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512]
STYLE = (1, 6, 11, 20, 29)  # relu1_1 .. relu5_1
CONTENT = 22  # relu4_2


def trunk(weights: str | None) -> nn.Sequential:
    layers: list[nn.Module] = []
    ch = 3
    for v in CFG:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(ch, int(v), 3, padding=1), nn.ReLU()]
            ch = int(v)
    net = nn.Sequential(*layers[:30])
    if weights:
        state = torch.load(weights, map_location="cpu", weights_only=True)
        net.load_state_dict({k.removeprefix("features."): v for k, v in state.items()
                             if int(k.removeprefix("features.").split(".")[0]) < 30})
    else:
        gen = torch.Generator().manual_seed(0)
        with torch.no_grad():
            for m in net:
                if isinstance(m, nn.Conv2d):
                    m.weight.normal_(0.0, (2.0 / (m.out_channels * 9)) ** 0.5, generator=gen)
                    m.bias.zero_()
    return net


def load(path: str, size: int) -> torch.Tensor:
    im = Image.open(path).convert("RGB")
    scale = size / max(im.size)
    im = im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))), Image.BICUBIC)
    return (torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1)[None].float() / 255).contiguous()


def gram(x: torch.Tensor) -> torch.Tensor:
    a, b, c, d = x.shape
    f = x.view(a * b, c * d)
    return f @ f.t() / (a * b * c * d)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("content")
    ap.add_argument("style")
    ap.add_argument("output")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--iters", type=int, default=50)
    ap.add_argument("--style-weight", type=float, default=1e6)
    ap.add_argument("--weights", default=None, help="a VGG-19 state dict (default: seeded random)")
    args = ap.parse_args()
    net = trunk(args.weights)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

    def feats(x: torch.Tensor) -> dict[int, torch.Tensor]:
        out, x = {}, (x - mean) / std
        for i, layer in enumerate(net):
            x = layer(x)
            if i in STYLE or i == CONTENT:
                out[i] = x
        return out

    content, style = load(args.content, args.size), load(args.style, args.size)
    with torch.no_grad():
        target = feats(content)[CONTENT]
        grams = {i: gram(f) for i, f in feats(style).items() if i in STYLE}
    img = content.clone().requires_grad_(True)
    opt = torch.optim.LBFGS([img], max_iter=args.iters, history_size=100, tolerance_grad=-1, tolerance_change=-1)

    def closure() -> torch.Tensor:
        with torch.no_grad():
            img.clamp_(0, 1)
        opt.zero_grad()
        f = feats(img)
        loss = F.mse_loss(f[CONTENT], target) + args.style_weight * sum(
            F.mse_loss(gram(f[i]), g) for i, g in grams.items())
        loss.backward()
        return loss

    opt.step(closure)
    out = (img.detach().clamp(0, 1)[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    Image.fromarray(out).save(args.output)


if __name__ == "__main__":
    main()
