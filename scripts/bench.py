#!/usr/bin/env python
"""Benchmark neuralpaint's optimisation path against a plain reference loop, in one process.

The reference is the loop tutorials write (the PyTorch "Neural Transfer" tutorial's shape):
VGG-19 to relu5_1 in fp32 and NCHW, weights left trainable (so autograd also computes their
gradients), loss modules inside the network, the image clamped in every closure,
``torch.optim.LBFGS``. Ours is :class:`neuralpaint.optimize.Stylizer`. Both use the same image
size, iterations, weights (seeded random unless ``--weights``) and loss weights, and both run
after a warm-up. On CUDA the timings use CUDA events.

    python scripts/bench.py --device cpu --size 128 --iters 20          # image, per iteration
    python scripts/bench.py --video --weights hed --frames 12 --set today: --set new:later_iters=200
    python scripts/bench.py --end-to-end                                # whole processes
    python scripts/bench.py --device cuda --device-table                # 256/512/1024 x precisions

The final losses differ because the reference clamps the image to [0,1] in every closure and
ours does not (Gatys' formulation; outputs are clamped at the end); both start from the same
loss (checked). Prints per-iteration milliseconds, the ratio (median over interleaved
``--repeat`` runs), achieved TFLOP/s (conv FLOPs of the forward pass plus the input gradient,
counted the same way for both), peak memory. ``--video``: seconds per finished frame and video
quality on real footage (``bench_video.py``); ``--end-to-end``: ``neuralpaint image`` against the
plain loop as whole processes (``end_to_end.py``). ``--json PATH`` writes everything as JSON too.
"""

from __future__ import annotations

import argparse
import json
import platform
import math
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from neuralpaint import vgg as vggmod
from neuralpaint.device import configure_precision, resolve_device
from neuralpaint.optimize import Stylizer
from neuralpaint.settings import (IMAGENET_MEAN, IMAGENET_STD, VGG19_LAYERS, ImageSettings,
                                  ModelSettings, RuntimeSettings)

CONTENT_LAYER = "relu4_2"
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


# ---------------------------------------------------------------------------------------------
# the plain reference loop


class _Normalization(nn.Module):
    def __init__(self, border: torch.Tensor | None = None) -> None:
        super().__init__()
        self.mean = nn.Parameter(torch.tensor(IMAGENET_MEAN).view(-1, 1, 1), requires_grad=False)
        self.std = nn.Parameter(torch.tensor(IMAGENET_STD).view(-1, 1, 1), requires_grad=False)
        # trained features whose conv1_1 pads with their own mean colour (HED): pad it here
        self.border = border

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        x = (img - self.mean) / self.std
        if self.border is not None:
            x = F.pad(x - self.border, (1, 1, 1, 1)) + self.border
        return x


def _ref_gram(x: torch.Tensor) -> torch.Tensor:
    a, b, c, d = x.size()
    f = x.view(a * b, c * d)
    return torch.mm(f, f.t()).div(a * b * c * d)


class _ContentLoss(nn.Module):
    def __init__(self, target: torch.Tensor):
        super().__init__()
        self.target = target.detach()
        self.loss = torch.zeros(())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.loss = F.mse_loss(x, self.target)
        return x


class _StyleLoss(nn.Module):
    def __init__(self, target_feature: torch.Tensor):
        super().__init__()
        self.target = _ref_gram(target_feature).detach()
        self.loss = torch.zeros(())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.loss = F.mse_loss(_ref_gram(x), self.target)
        return x


def reference_model(features: nn.Sequential, content: torch.Tensor, style: torch.Tensor,
                    border: torch.Tensor | None = None):
    """The tutorial's construction: loss modules spliced in after the named ReLUs. ``border``:
    the padding colour of conv1_1 in normalised space for features that pad explicitly (HED)."""
    cnn = features
    model = nn.Sequential(_Normalization(border).to(content.device))
    content_losses, style_losses = [], []
    want = {VGG19_LAYERS[n]: n for n in (CONTENT_LAYER, *STYLE_LAYERS)}
    for i, layer in enumerate(cnn):
        if i > max(want):
            break
        model.add_module(f"layer_{i}", layer)  # "0" would replace the normalisation module
        name = want.get(i)
        if name == CONTENT_LAYER:
            cl = _ContentLoss(model(content).detach())
            model.add_module(f"content_{i}", cl)
            content_losses.append(cl)
        if name in STYLE_LAYERS:
            sl = _StyleLoss(model(style).detach())
            model.add_module(f"style_{i}", sl)
            style_losses.append(sl)
    return model, content_losses, style_losses


def reference_features(model: ModelSettings, device: torch.device) -> tuple[nn.Sequential, torch.Tensor | None]:
    """The tutorial's trunk: the same weights as ours, left trainable; and the border of
    features that pad conv1_1 explicitly (None for ImageNet and random weights)."""
    if model.weights == "random":
        return vggmod.random_features(model.pooling, model.weights_seed).requires_grad_(True).to(device), None
    net = vggmod.load_vgg(model, [*STYLE_LAYERS, CONTENT_LAYER], channels_last=False)
    border = net.border.view(-1, 1, 1).to(device) if net.pad_first else None
    return net.features.requires_grad_(True).to(device), border


def run_reference(features: nn.Sequential, content: torch.Tensor, style: torch.Tensor, iters: int,
                  style_weight: float, content_weight: float, timer: "Timer",
                  border: torch.Tensor | None = None, result: dict[str, Any] | None = None) -> tuple[float, float]:
    """The tutorial's loop; ``result`` (if given) receives the clamped ``image`` and the
    ``history`` of (evaluation, loss) pairs."""
    model, cls, sls = reference_model(features, content, style, border)
    img = content.clone().requires_grad_(True)
    opt = torch.optim.LBFGS([img], max_iter=iters, history_size=100, tolerance_grad=-1, tolerance_change=-1)
    last: dict[str, Any] = {}
    losses: list[torch.Tensor] = []

    def closure() -> torch.Tensor:
        with torch.no_grad():
            img.clamp_(0, 1)
        opt.zero_grad()
        model(img)
        s = sum(sl.loss for sl in sls) * style_weight
        c = sum(cl.loss for cl in cls) * content_weight
        loss = s + c
        loss.backward()
        last["loss"] = loss
        losses.append(loss.detach())
        return loss

    with timer:
        opt.step(closure)
    if result is not None:
        with torch.no_grad():
            result["image"] = img.detach().clamp(0, 1)
        result["history"] = [[i + 1, v] for i, v in enumerate(torch.stack(losses).tolist())]
    return timer.seconds / iters, float(last["loss"].detach())


# ---------------------------------------------------------------------------------------------
# timing helpers


class Timer:
    def __init__(self, device: torch.device):
        self.device = device
        self.seconds = 0.0

    def __enter__(self) -> "Timer":
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.start = torch.cuda.Event(enable_timing=True)
            self.end = torch.cuda.Event(enable_timing=True)
            self.start.record()
        else:
            self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.device.type == "cuda":
            self.end.record()
            torch.cuda.synchronize(self.device)
            self.seconds = self.start.elapsed_time(self.end) / 1000.0
        else:
            self.seconds = time.perf_counter() - self.t0


def conv_flops(h: int, w: int, depth: int) -> float:
    """Multiply-adds ×2 of VGG-19's convolutions up to layer index ``depth`` for one (h, w) image."""
    total, ch, hh, ww = 0.0, 3, h, w
    for m in list(vggmod.build_features())[:depth]:
        if isinstance(m, nn.Conv2d):
            total += 2.0 * ch * m.out_channels * 9 * hh * ww
            ch = m.out_channels
        elif isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
            hh, ww = hh // 2, ww // 2
    return total


def peak_memory(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.max_memory_allocated(device) / 2**20:.0f} MiB (CUDA, max allocated)"
    return f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB (process max RSS)"


def make_images(size: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    h, w = size * 3 // 4, size
    low = torch.rand(1, 3, max(2, h // 8), max(2, w // 8), generator=g)
    content = (F.interpolate(low, size=(h, w), mode="bicubic", align_corners=False) * 0.8
               + torch.rand(1, 3, h, w, generator=g) * 0.2).clamp(0, 1)
    style = torch.rand(1, 3, h, w, generator=g)  # the tutorial needs equal sizes
    return content.to(device), style.to(device)


def run_ours(content: torch.Tensor, style: torch.Tensor, iters: int, model: ModelSettings, device: torch.device,
             precision: str, channels_last: bool, compile_: bool, style_weight: float, timer: Timer) -> tuple[float, float]:
    # No line search here: one evaluation per iteration, like the reference, so that per-iteration
    # times compare like with like (the default line search costs ~1.2 evaluations per iteration).
    image = ImageSettings(size=max(content.shape[-2:]), iters=iters, window=iters, tol=0.0, tv_weight=0.0,
                          style_weight=style_weight, line_search=False)
    runtime = RuntimeSettings(device=str(device), precision=precision, channels_last=channels_last,
                              compile=compile_, progress_every=10**9)
    st = Stylizer.create([style], image, model, runtime, device)
    st.bank.targets(max(content.shape[-2:]))  # style Grams once per run: not part of an iteration
    with timer:
        res = st.run(content)
    return timer.seconds / res.iterations, res.loss


def bench_image(args: argparse.Namespace, device: torch.device) -> dict[str, Any]:
    model = ModelSettings(weights=args.weights)
    content, style = make_images(args.size, device)
    h, w = content.shape[-2:]
    flops = 2 * conv_flops(h, w, VGG19_LAYERS["relu5_1"] + 1)  # forward + input gradient ≈ 2× forward
    out: dict[str, Any] = {"size": [h, w], "iters": args.iters, "rows": []}

    configure_precision("fp32", device)
    ref_features, border = reference_features(model, device)
    variants = [("ours", p, True, False) for p in args.precisions]
    if args.compile:
        variants.append(("ours+compile", args.precisions[0], True, True))
    if args.ablate:
        variants.append(("ours, NCHW", args.precisions[0], False, False))

    def ours(n: int, precision: str, cl: bool, comp: bool) -> tuple[float, float]:
        return run_ours(content, style, n, model, device, precision, cl, comp, args.style_weight, Timer(device))

    for _ in range(args.warmup):
        run_reference(ref_features, content, style, 3, args.style_weight, 1.0, Timer(device), border)
        for _, precision, cl, comp in variants:
            ours(3, precision, cl, comp)
    # Interleaved repeats (reference, then every variant, again and again): on a loaded machine the
    # speed drifts between minutes, so each repeat's ratio compares runs made side by side, and
    # the medians of those ratios are reported.
    ref_times: list[float] = []
    times: list[list[float]] = [[] for _ in variants]
    losses: list[float] = [math.nan] * len(variants)
    ref_loss = math.nan
    for _ in range(args.repeat):
        ref_s, ref_loss = run_reference(ref_features, content, style, args.iters, args.style_weight, 1.0, Timer(device),
                                        border)
        ref_times.append(ref_s)
        for k, (_, precision, cl, comp) in enumerate(variants):
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(device)
            s, losses[k] = ours(args.iters, precision, cl, comp)
            times[k].append(s)
    ref_med = statistics.median(ref_times)
    out["reference"] = {"ms_per_iter": ref_med * 1e3, "ms_per_iter_each": [t * 1e3 for t in ref_times],
                        "tflops": flops / ref_med / 1e12, "loss": ref_loss}
    for (label, precision, cl, comp), ts, loss in zip(variants, times, losses):
        ratio = statistics.median(t / r for t, r in zip(ts, ref_times))
        s = statistics.median(ts)
        out["rows"].append({"variant": label, "precision": precision, "channels_last": cl, "compile": comp,
                            "ms_per_iter": s * 1e3, "ms_per_iter_each": [t * 1e3 for t in ts],
                            "ratio": ratio, "speedup": 1.0 / ratio, "tflops": flops / s / 1e12,
                            "loss": loss, "loss_rel_to_ref": abs(loss - ref_loss) / max(abs(ref_loss), 1e-12),
                            "peak_memory": peak_memory(device)})
    return out


def largest_size(args: argparse.Namespace, device: torch.device) -> dict[str, Any]:
    """The largest long side whose optimisation step fits in device memory (binary search).

    Each probe runs two L-BFGS iterations of the real path; an out-of-memory error shrinks the
    upper bound. On CPU the answer would be bounded by RAM and time rather than by an
    allocator, so this is a CUDA measurement.
    """
    from neuralpaint.errors import OutOfMemoryError

    model = ModelSettings(weights=args.weights or "random")
    lo, hi, best = 256, args.max_size_limit, None
    while lo <= hi:
        mid = (lo + hi) // 2 // 64 * 64
        try:
            content, style = make_images(mid, device)
            for precision in args.precisions[:1]:
                run_ours(content, style, 2, model, device, precision, True, False, args.style_weight, Timer(device))
            best, lo = mid, mid + 64
        except (OutOfMemoryError, torch.cuda.OutOfMemoryError):
            hi = mid - 64
        finally:
            if device.type == "cuda":
                torch.cuda.empty_cache()
    total = torch.cuda.get_device_properties(device).total_memory / 2**30 if device.type == "cuda" else None
    return {"largest_long_side": best, "precision": args.precisions[0], "device_memory_gib": total}


def print_image(img: dict[str, Any], args: argparse.Namespace) -> None:
    print(f"# image {img['size'][1]}x{img['size'][0]}, {args.iters} L-BFGS iterations after warm-up")
    print(f"# medians of {args.repeat} interleaved repeats; ratio = median of (ours ÷ reference) per repeat")
    print(f"{'variant':<22}{'ms/iter':>10}{'ratio':>8}{'speedup':>9}{'TFLOP/s':>9}{'final loss':>12}  peak memory")
    r = img["reference"]
    print(f"{'reference (tutorial)':<22}{r['ms_per_iter']:>10.1f}{1.0:>8.2f}{1.0:>9.2f}{r['tflops']:>9.3f}{r['loss']:>12.4g}")
    for row in img["rows"]:
        name = f"{row['variant']} {row['precision']}"
        print(f"{name:<22}{row['ms_per_iter']:>10.1f}{row['ratio']:>8.2f}{row['speedup']:>9.2f}{row['tflops']:>9.3f}  "
              f"{row['loss']:>12.4g}  {row['peak_memory']}")
    print(f"ratio: {img['rows'][0]['ratio']:.2f}x the reference's time per iteration "
          f"({img['rows'][0]['speedup']:.2f}x faster per iteration than the reference)")


def device_table(result: dict[str, Any]) -> None:
    """The README's device table: size × precision, image ms/iter and video s/frame."""
    print("\n| size | precision | image ms/iter | × reference | video s/later frame | it/later frame | first frame s |")
    print("|---|---|---|---|---|---|---|")
    videos = {(v["size"], v["precision"]): v["rows"][0] for v in result.get("videos", [])}
    for img in result["images"]:
        for row in img["rows"]:
            v = videos.get((max(img["size"]), row["precision"]), {})
            later, its, first = (v.get("later_seconds"), v.get("later_iters"), v.get("first_seconds"))
            print(f"| {max(img['size'])} | {row['precision']} | {row['ms_per_iter']:.1f} | {row['ratio']:.2f} | "
                  f"{'—' if later is None else f'{later:.2f}'} | {'—' if its is None else f'{its:.0f}'} | "
                  f"{'—' if first is None else f'{first:.2f}'} |")


def main(argv: list[str] | None = None) -> int:
    import bench_video
    import end_to_end

    from neuralpaint.errors import InputError

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--size", type=int, default=256, help="long side (the image is 4:3)")
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3,
                    help="interleaved repeats of reference and ours; medians of times and of per-repeat ratios")
    ap.add_argument("--weights", default=None, help="[default: random for images, hed for --video]")
    ap.add_argument("--style-weight", type=float, default=1e6)
    ap.add_argument("--precisions", default=None, help="comma list of fp32,tf32,bf16 [default: fp32 on CPU; fp32,tf32,bf16 on CUDA]")
    ap.add_argument("--compile", action="store_true", help="also time torch.compile")
    ap.add_argument("--ablate", action="store_true", help="also time ours without channels_last")
    ap.add_argument("--video", action="store_true",
                    help="seconds per finished frame and video quality on real footage (instead of the image table)")
    ap.add_argument("--end-to-end", action="store_true",
                    help="`neuralpaint image` as a whole process against a plain loop process (instead of the image table)")
    ap.add_argument("--device-table", action="store_true",
                    help="the README's table: --sizes [256,512,1024] × --precisions, image and video")
    ap.add_argument("--sizes", default=None, help="comma list of sizes: one image benchmark per size (the README table)")
    ap.add_argument("--max-size", action="store_true", help="CUDA: search the largest size that fits in memory")
    ap.add_argument("--max-size-limit", type=int, default=8192)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--json", type=Path, default=None)
    bench_video.add_arguments(ap)
    end_to_end.add_arguments(ap)
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        device = resolve_device(args.device)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.precisions = (args.precisions.split(",") if args.precisions
                       else (["fp32", "tf32", "bf16"] if device.type == "cuda" else ["fp32"]))
    info = {"device": str(device), "name": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or platform.machine(),
            "torch": torch.__version__, "threads": torch.get_num_threads(), "weights": args.weights}
    print(f"# {info['device']} ({info['name']}), torch {info['torch']}, {info['threads']} threads")
    result: dict[str, Any] = {"info": info, "images": []}
    sizes = [int(x) for x in args.sizes.split(",")] if args.sizes else (
        [256, 512, 1024] if args.device_table else [args.size])
    try:
        if args.end_to_end:
            result["end_to_end"] = end_to_end.run(args)
            end_to_end.print_result(result["end_to_end"])
        elif args.video and not args.device_table:
            v = result["video"] = bench_video.bench_clip(args, device)
            bench_video.print_table(v)
        else:
            image_weights = args.weights or "random"
            for size in sizes:
                args.size = size
                img = bench_image(argparse.Namespace(**{**vars(args), "weights": image_weights}), device)
                result["images"].append(img)
                print_image(img, args)
            result["image"] = result["images"][-1]
            if args.device_table:
                result["videos"] = []
                for size in sizes:
                    for precision in args.precisions:
                        v = bench_video.bench_clip(args, device, size=size, precision=precision)
                        result["videos"].append(v)
                        bench_video.print_table(v)
                device_table(result)
        if args.max_size:
            m = result["max_size"] = largest_size(args, device)
            print(f"largest size that fits: {m['largest_long_side']} px long side ({m['precision']}, "
                  f"{m['device_memory_gib'] or float('nan'):.0f} GiB device)")
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
