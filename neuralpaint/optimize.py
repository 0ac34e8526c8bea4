"""Optimise one image against the Gatys et al. objective (plus optional extra terms).

- The objective (content + style + TV + extra terms such as the temporal term, one truncated VGG
  pass) and the style Gram targets per scale (:class:`StyleBank`) live in
  :mod:`neuralpaint.objective`, shared with fast-path training and the metrics.
- :func:`run_scale` is the optimisation loop with Ruder's stopping rule: every ``window``
  iterations stop when |f − f_past| / f_past < tol, plus a hard cap. L-BFGS keeps its state
  across ``step()`` calls, so calling ``step()`` with ``max_iter = window`` in a loop is exactly
  that rule, and we touch the host only once per window (no per-step sync of our own).
- :class:`Stylizer` ties a VGG, a style bank and settings together; :meth:`Stylizer.run` does
  coarse-to-fine (optimise small, upsample, continue) and colour preservation.

Images are (1,3,H,W) float32 in [0,1]. The optimised variable is not clamped during the
optimisation (as in Gatys' and Ruder's code); outputs are clamped to [0,1].
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

import torch
import torch.nn.functional as F

from . import color
from .device import configure_precision, effective_precision, is_oom
from .errors import InterruptedRun, OutOfMemoryError
from .events import IterationEvent, ScaleDone, emit
from .lbfgs import FixedStepLBFGS, LbfgsMemory
from .objective import ImageTerm, LossWeights, Objective, StyleBank, resize
from .settings import ImageSettings, ModelSettings, RuntimeSettings
from .vgg import VGGFeatures, load_vgg

STOP_CONVERGED = "converged"
STOP_SETTLED = "settled"
STOP_MAX_ITERS = "max_iters"
STOP_NONFINITE = "nonfinite"


def _sync_free(device: torch.device) -> bool:
    """Whether a window must not read the device inside it (CUDA: each read drains the queue of
    kernels): progress events wait for the window's one read, and fixed-step L-BFGS is
    :class:`~neuralpaint.lbfgs.FixedStepLBFGS` (torch's reads several scalars per iteration)."""
    return device.type == "cuda"


def scale_sizes(h: int, w: int, scales: int) -> list[tuple[int, int]]:
    """Sizes of coarse-to-fine: halving per scale, finishing at (h, w)."""
    return [(max(1, round(h / 2 ** (scales - 1 - s))), max(1, round(w / 2 ** (scales - 1 - s))))
            for s in range(scales)]


@dataclass
class ScaleResult:
    image: torch.Tensor
    iterations: int
    stop_reason: str
    loss: float
    losses: dict[str, float]
    history: list[tuple[int, float]]
    #: (iteration, mean absolute change of the picture over the window that ended there, in
    #: 1/255 steps): what the picture rule saw; empty when it is off
    changes: list[tuple[int, float]] = field(default_factory=list)
    memory: Optional[LbfgsMemory] = None  #: L-BFGS's curvature pairs at the end (L-BFGS only)


def run_scale(x0: torch.Tensor, objective: Objective, settings: ImageSettings, max_iters: int,
              callback: Optional[Callable[[Any], None]] = None, *, scale: int = 0, scales: int = 1,
              progress_every: int = 5, t_start: Optional[float] = None,
              start_iteration: int = 0, memory: Optional[LbfgsMemory] = None,
              picture_tol: float = 0.0, settle_below: Optional[float] = None) -> ScaleResult:
    """Optimise ``x0`` until the stopping rule fires or ``max_iters`` iterations are done.

    ``picture_tol``: the picture rule: at a check, stop when the image as shown moved less than
    this many 1/255 steps (mean absolute change) since the last check (0: off); ``settle_below``:
    it may stop the run only once the loss is at or below this (None: whenever the picture
    settles). See ``VideoSettings.picture_tol``.
    ``start_iteration``: iterations already done at this scale by an interrupted run that ``x0``
    continues (the count and the cap go on from there; the optimiser's own memory restarts).
    ``memory``: L-BFGS curvature pairs to start from (:class:`LbfgsMemory`; ignored by Adam or
    where the size differs).
    Ctrl-C raises :class:`~neuralpaint.errors.InterruptedRun` with the last evaluated iterate.
    """
    t0 = time.perf_counter() if t_start is None else t_start
    # contiguous: L-BFGS flattens the gradient with view(-1), which needs the NCHW layout
    x = x0.detach().clone(memory_format=torch.contiguous_format).requires_grad_(True)
    # bounded: the loss of the image as saved (clipped); pixels pushed past a bound stop there
    shown: Callable[[torch.Tensor], torch.Tensor] = (
        (lambda v: v.clamp(0.0, 1.0)) if settings.bounded else (lambda v: v))
    lbfgs = settings.optimizer == "lbfgs"
    opt: Any
    if lbfgs and not settings.line_search and _sync_free(x.device):
        opt = FixedStepLBFGS([x], lr=settings.step_size, history_size=settings.lbfgs_history, max_iter=settings.window)
    elif lbfgs:
        opt = torch.optim.LBFGS(
            [x], lr=settings.step_size, max_iter=settings.window, history_size=settings.lbfgs_history,
            tolerance_grad=-1, tolerance_change=-1,
            line_search_fn="strong_wolfe" if settings.line_search else None)
        if memory is not None:
            memory.seed(opt, x)
    else:
        opt = torch.optim.Adam([x], lr=settings.step_size)

    size = (int(x.shape[-2]), int(x.shape[-1]))
    counter = {"evals": 0, "reported": 0, "it": start_iteration}
    base = {"n_iter": 0, "evals": 0}
    done = start_iteration
    last: dict[str, Any] = {}
    history: list[tuple[int, float]] = []
    changes: list[tuple[int, float]] = []  # (iteration, the picture's change over the window)
    # the loss of every iteration, kept on the device and read once per window with the loss the
    # stopping rule needs (no host sync of its own); the last evaluation of an iteration wins
    # (with the line search, normally its accepted point)
    pending: list[tuple[int, torch.Tensor]] = []
    # On CUDA the progress events wait for that read too (their values stay on the device until
    # then), so a listening callback adds no host sync inside a window; on the CPU they go at once.
    defer = _sync_free(x.device)
    reports: list[tuple[int, list[str], list[torch.Tensor], float]] = []

    def report(it: int, value: float, losses: dict[str, float], elapsed: float) -> None:
        emit(callback, IterationEvent(
            iteration=min(it, max_iters), max_iters=max_iters, loss=value, losses=losses, elapsed=elapsed,
            scale=scale, scales=scales, size=size, snapshot=lambda: evaluated.detach().clone()))

    def closure() -> torch.Tensor:
        opt.zero_grad(set_to_none=True)
        total, parts = objective(shown(x))
        total.backward()
        counter["evals"] += 1
        last["total"], last["parts"] = total.detach(), {k: v.detach() for k, v in parts.items()}
        evaluated.copy_(x.detach())  # the point whose loss is last["total"] (async on GPU)
        # Iterations, not evaluations: L-BFGS's line search evaluates more than once per iteration.
        it = done + (opt.state[x].get("n_iter", 0) - base["n_iter"] + 1 if lbfgs else counter["evals"] - base["evals"])
        counter["it"] = it
        if pending and pending[-1][0] == it:
            pending[-1] = (it, last["total"])
        else:
            pending.append((it, last["total"]))
        if callback is not None and it != counter["reported"] and (it % progress_every == 0 or it == 1):
            counter["reported"] = it
            if defer:
                reports.append((it, list(parts), [total.detach(), *(v.detach() for v in parts.values())],
                                time.perf_counter() - t0))
            else:
                report(it, float(total.detach()), {k: float(v.detach()) for k, v in parts.items()},
                       time.perf_counter() - t0)
        return total

    f_past: Optional[float] = None
    # the picture at the last check, for the picture rule (the image as shown, in [0, 1] if bounded)
    seen = shown(x.detach()).clone() if picture_tol > 0 else None
    good = x.detach().clone()  # the last evaluated point with a finite loss
    evaluated = x.detach().clone()
    reason = STOP_MAX_ITERS
    f = math.nan
    try:
        while done < max_iters:
            n = min(settings.window, max_iters - done)
            if lbfgs:
                group = opt.param_groups[0]
                group["max_iter"], group["max_eval"] = n, n * 5 // 4 if not settings.line_search else n * 25
                before = opt.state[x].get("n_iter", 0)
                base["n_iter"] = before
                opt.step(closure)
                done += max(1, opt.state[x]["n_iter"] - before)
            else:
                base["evals"] = counter["evals"]
                for _ in range(n):
                    opt.step(closure)
                done += n
            # the one host sync per window: every iteration's loss, whether x is finite, and the
            # values of deferred progress events
            queued = [v for _, _, vs, _ in reports for v in vs]
            if seen is not None:  # mean absolute change of the picture since the last check
                now = shown(x.detach())
                moved = (now - seen).abs().mean() * 255.0
                seen.copy_(now)
            else:
                moved = torch.zeros((), device=x.device)
            read = torch.stack([*(v for _, v in pending), torch.isfinite(x).all().float(), moved.float(),
                                *queued]).float().tolist()
            values, finite_x = read[:len(pending)], read[len(pending)] == 1.0
            change, rest = read[len(pending) + 1], read[len(pending) + 2:]
            for it_r, names, vs, elapsed in reports:
                got, rest = rest[:len(vs)], rest[len(vs):]
                report(it_r, got[0], dict(zip(names, got[1:])), elapsed)
            reports.clear()
            for (i, _), v in zip(pending, values):
                if history and history[-1][0] == i:  # a window starts by re-evaluating the last point
                    history.pop()
                history.append((i, v))
            pending.clear()
            f = values[-1]
            if not math.isfinite(f) or not finite_x:
                with torch.no_grad():
                    x.copy_(good)  # keep the last finite iterate
                reason = STOP_NONFINITE
                break
            good.copy_(evaluated)
            if seen is not None:
                changes.append((done, change))
            if f_past is not None and abs(f - f_past) < settings.tol * abs(f_past):
                reason = STOP_CONVERGED
                break
            if seen is not None and change < picture_tol and (settle_below is None or f <= settle_below):
                reason = STOP_SETTLED
                break
            f_past = f
    except KeyboardInterrupt:
        with torch.no_grad():
            ok = bool(torch.isfinite(evaluated).all())
        raise InterruptedRun(raw=(evaluated if ok else good).detach().clone(),
                             iterations=max(start_iteration, counter["it"] - 1), scale=scale) from None
    if reason != STOP_NONFINITE:
        # The optimiser's last update was never evaluated: evaluate it once (a forward pass, no
        # gradient), so the returned image has a finite loss and the loss reported is its own.
        with torch.no_grad():
            total, parts = objective(shown(x))
        f = float(total)
        if math.isfinite(f):
            last["parts"] = parts
        else:
            x.data.copy_(good)
            f = float(last["total"]) if math.isfinite(float(last["total"])) else math.nan
            reason = STOP_NONFINITE
    if settings.bounded:
        with torch.no_grad():
            x.clamp_(0.0, 1.0)  # the result is the image its loss was measured on
    losses = {k: float(v) for k, v in last.get("parts", {}).items()}
    # entry (i, loss): the loss at the start of iteration i (1: the init); the last entry is the
    # final evaluation, labelled with the iteration count (it replaces the last iteration's start)
    while history and history[-1][0] >= done:
        history.pop()
    history.append((done, f))
    if callback is not None:
        emit(callback, ScaleDone(scale=scale, scales=scales, iterations=done, stop_reason=reason, loss=f))
    return ScaleResult(image=x.detach(), iterations=done, stop_reason=reason, loss=f, losses=losses,
                       history=history, changes=changes, memory=LbfgsMemory.of(opt, x) if lbfgs else None)


@dataclass
class Partial:
    """Where an interrupted optimisation stopped: scale index, iterations done in it, and the
    iterate (1,3,H,W) in the optimised space (any size; it is resized to the scale)."""

    scale: int
    iterations: int
    raw: torch.Tensor


@dataclass
class OptimizeResult:
    """The result of one image. ``image`` is the output in [0,1] (colours recombined when
    preserving colours); ``raw`` is the optimised variable, kept as the float state a video run
    warps into the next frame."""

    image: torch.Tensor
    raw: torch.Tensor
    iterations: int
    stop_reason: str
    loss: float
    losses: dict[str, float]
    seconds: float
    history: list[tuple[int, float]] = field(default_factory=list)
    changes: list[tuple[int, float]] = field(default_factory=list)  #: the picture rule's readings
    scale_iterations: list[int] = field(default_factory=list)
    memory: Optional[LbfgsMemory] = None  #: L-BFGS memory at the end (to seed the next frame)


def _style_side(size: tuple[int, int], full: tuple[int, int], style_long_side: Optional[int]) -> int:
    """The long side the style Grams are computed for at a scale of ``size``: the image's own,
    or, for a crop of a larger picture, the picture's (``style_long_side``) scaled alike, so a
    crop is painted with the strokes of the whole frame."""
    if style_long_side is None:
        return max(size)
    return max(16, int(round(style_long_side * max(size) / max(full))))


class Stylizer:
    """A loaded VGG + style bank + settings, reusable for many images or frames."""

    def __init__(self, vgg: VGGFeatures, bank: StyleBank, settings: ImageSettings,
                 device: torch.device, precision: str, progress_every: int = 5):
        self.vgg = vgg
        self.bank = bank
        self.settings = settings
        self.device = device
        self.precision = precision
        self.progress_every = progress_every

    @classmethod
    def create(cls, styles: Sequence[torch.Tensor], image: ImageSettings, model: ModelSettings,
               runtime: RuntimeSettings, device: torch.device,
               color_reference: Optional[torch.Tensor] = None) -> "Stylizer":
        """Load the VGG for ``image``'s layers and build the style bank.

        ``color_reference`` (the content, or a video's first frame) sets the luminance statistics
        the styles are matched to when ``image.preserve_colors`` is on.
        """
        precision = effective_precision(runtime.precision, device)
        configure_precision(precision, device)
        layers = list(image.style_layers) + [image.content_layer]
        vgg = load_vgg(model, layers, device=device, channels_last=runtime.channels_last)
        if runtime.compile:
            vgg = torch.compile(vgg)  # type: ignore[assignment]
        stats = None
        if image.preserve_colors:
            ref = color_reference if color_reference is not None else styles[0]
            stats = color.luminance_stats(ref.to(device))
        bank = StyleBank(vgg, styles, image, precision=precision, color_stats=stats)
        return cls(vgg, bank, image, device, precision, runtime.progress_every)

    def initial_image(self, content: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        s = self.settings
        if s.init == "content":
            return resize(content, size)
        if s.init == "noise":
            gen = torch.Generator(device="cpu").manual_seed(s.seed)
            noise = torch.randn((1, 3) + tuple(size), generator=gen) * s.noise_std + 0.5
            return noise.clamp(0, 1).to(content.device)
        style = self.bank.styles[0].to(content.device)
        if s.preserve_colors and self.bank.color_stats is not None:
            style = color.matched_gray3(style, self.bank.color_stats)
        return resize(style, size)

    def run(self, content: torch.Tensor, *, init: Optional[torch.Tensor] = None,
            extra_terms: Sequence[tuple[ImageTerm, float]] = (), max_iters: Optional[int] = None,
            callback: Optional[Callable[[Any], None]] = None,
            resume: Optional["Partial"] = None, style_long_side: Optional[int] = None,
            memory: Optional[LbfgsMemory] = None, picture_tol: float = 0.0,
            settle_below: Optional[float] = None) -> OptimizeResult:
        """Stylise ``content`` (1,3,H,W) in [0,1] at its own size.

        ``resume`` continues an interrupted run (:class:`Partial`: its scale, iterations done and
        iterate). Ctrl-C raises :class:`~neuralpaint.errors.InterruptedRun` whose ``raw`` is at
        full size and whose ``image`` is the displayable result.

        ``init`` (e.g. a warped previous frame, in the optimised space: luminance when
        preserving colours) replaces ``settings.init``; ``extra_terms`` are (term, weight) pairs
        defined at full size and resampled for coarser scales.
        ``memory``: L-BFGS curvature pairs of a similar problem (the previous frame) to start from.
        ``picture_tol``, ``settle_below``: the picture rule at the last scale (:func:`run_scale`).
        """
        s = self.settings
        cap = s.iters if max_iters is None else max_iters
        content = content.to(self.device)
        target_content = color.gray3(content) if s.preserve_colors else content
        h, w = content.shape[-2:]
        sizes = scale_sizes(h, w, s.scales)
        t0 = time.perf_counter()
        x: Optional[torch.Tensor] = None
        history: list[tuple[int, float]] = []
        changes: list[tuple[int, float]] = []
        its: list[int] = []
        total_iters = 0
        result: Optional[ScaleResult] = None
        torch.manual_seed(s.seed)
        first = 0
        warm = init  # the caller's start picture (a warped previous frame, --init-image)
        if resume is not None:
            first = min(max(0, int(resume.scale)), len(sizes) - 1)
            init = resume.raw
        done_before = int(resume.iterations) if resume is not None else 0

        def display(raw_x: torch.Tensor) -> torch.Tensor:
            full = resize(raw_x.detach(), (h, w))
            return color.recombine(full, content) if s.preserve_colors else full.clamp(0, 1)

        def relay(event: Any) -> None:
            if isinstance(event, IterationEvent) and event.snapshot is not None:
                snap = event.snapshot
                event = dataclasses.replace(event, snapshot=lambda: display(snap()))
            callback(event)  # type: ignore[misc]

        try:
            for k, size in enumerate(sizes):
                if k < first:
                    continue
                c_k = resize(target_content, size)
                if x is None:
                    x = (resize(init.to(self.device), size) if init is not None
                         else self.initial_image(target_content, size))
                elif warm is not None:
                    # Coarse-to-fine from a start picture: only the coarse scale's *change* is
                    # upsampled, on top of the start picture at this size, so the detail finer
                    # than the coarse scale (a warped previous frame's strokes) is kept. Gatys'
                    # coarse-to-fine upsamples the coarse result itself, which from a warm start
                    # would throw that detail away and blur the frame.
                    prev = (int(x.shape[-2]), int(x.shape[-1]))
                    warm_k = resize(warm.to(self.device), size)
                    x = warm_k + F.interpolate(x - resize(warm_k, prev), size=size, mode="bilinear",
                                               align_corners=False)
                else:
                    x = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
                objective = Objective(
                    self.vgg, LossWeights.of(s), self.bank.targets(_style_side(size, (h, w), style_long_side)), c_k,
                    extra_terms=[(term.at_size(size), wgt) for term, wgt in extra_terms], precision=self.precision)
                result = run_scale(x, objective, s, cap, relay if callback is not None else None,
                                   scale=k, scales=len(sizes), progress_every=self.progress_every,
                                   t_start=t0, start_iteration=done_before if k == first else 0,
                                   memory=memory, picture_tol=picture_tol if k == len(sizes) - 1 else 0.0,
                                   settle_below=settle_below)
                x = result.image
                history.extend(result.history)
                changes.extend(result.changes)
                its.append(result.iterations)
                total_iters += result.iterations
                if result.stop_reason == STOP_NONFINITE:
                    break
        except InterruptedRun as stop:
            stop.raw = resize(stop.raw, (h, w))
            stop.image = display(stop.raw)
            raise
        except RuntimeError as exc:
            if is_oom(exc):
                # Not --scales: coarse-to-fine ends at full size, so its peak memory is the same.
                raise OutOfMemoryError(
                    f"the {self.device} device ran out of memory at {h}x{w}; try a smaller --size "
                    f"or --precision bf16") from None
            raise
        assert x is not None and result is not None
        raw = resize(x.detach(), (h, w))  # a run stopped early at a coarse scale still returns full size
        image = color.recombine(raw, content) if s.preserve_colors else raw.clamp(0, 1)
        return OptimizeResult(image=image, raw=raw, iterations=total_iters, stop_reason=result.stop_reason,
                              loss=result.loss, losses=result.losses, seconds=time.perf_counter() - t0,
                              history=history, changes=changes, scale_iterations=its, memory=result.memory)
