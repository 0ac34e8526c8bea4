"""Ruder et al.'s frame loop as named steps: for each pass and frame, the initialisation, the
temporal terms, the optimisation and the record.

The pieces of the method are pure functions in :mod:`neuralpaint.temporal` (init, multi-pass
blend, temporal targets); the flows come from one store (:class:`~neuralpaint.flowstore.FlowSource`);
the run folder (:class:`~neuralpaint.runstate.RunFolder`) keeps every finished frame, so a
stopped render resumes at the first unfinished one. :func:`render` reads as the method:

    for each pass p, for each frame t in the pass's order:
        init   = previous results warped into t, closest first  (or the multi-pass blend)
        terms  = temporal loss towards the warped earlier results (short- / long-term)
        result = L-BFGS from init on content + style + TV + terms, until the stopping rule
        write the result (float state, frame, record)

Departures from the reference (manuelruder/artistic-videos), each deliberate:
- The first pass of multi-pass uses the single-pass initialisation (warped previous result when
  ``temporal_init``), not independent frames: it converges in fewer iterations and the later,
  alternating passes remove the directional bias all the same.
- The init of frame t takes each pixel from the closest earlier result that saw it and paints the
  regions none of them saw (:meth:`FrameLoop.initialisation`), never from the photograph
  (:mod:`neuralpaint.temporal` says why, with numbers). The reference warps the previous result
  everywhere.
- L-BFGS starts each frame with the previous frame's curvature memory
  (:class:`~neuralpaint.lbfgs.LbfgsMemory`) when ``carry_memory`` is on; the reference starts
  every frame from scratch.
"""

from __future__ import annotations

import time
from typing import Any, Optional, Sequence

import numpy as np
import torch

from . import media, temporal
from .color import gray3
from .errors import NonFiniteLossError
from .events import Callback, FrameDone, FrameStarted, emit
from .flowstore import FlowSource
from .losses import TemporalTerm
from .objective import ImageTerm
from .lbfgs import LbfgsMemory
from .optimize import STOP_NONFINITE, OptimizeResult, Stylizer
from .runstate import RunFolder
from .settings import ImageSettings, VideoSettings

#: Frames whose flows are computed ahead of the one being optimised.
LOOKAHEAD = 3


def render(run: RunFolder, frames: Sequence[np.ndarray], stylizer: Stylizer, source: FlowSource,
           image_s: ImageSettings, video_s: VideoSettings, device: torch.device, callback: Callback,
           first_init: Optional[torch.Tensor] = None) -> None:
    """Render every unfinished (pass, frame) of ``run``; finished ones are skipped (resume)."""
    loop = FrameLoop(run, frames, stylizer, source, image_s, video_s, device, callback)
    for p in range(video_s.passes):
        order = loop.order(p)
        for i, t in enumerate(order):
            if loop.skip_finished(p, i, t):
                continue
            source.prefetch(loop.flows_ahead(p, order[i + 1: i + 1 + LOOKAHEAD]))
            loop.start(p, i, t)
            init = loop.initialisation(p, i, t, first_init)
            terms = loop.temporal_terms(p, i, t)
            result = loop.optimise(p, i, t, init, terms)
            loop.record(p, i, t, result)


class FrameLoop:
    """The state the steps share: float results by frame, this frame's warps, the L-BFGS memory."""

    def __init__(self, run: RunFolder, frames: Sequence[np.ndarray], stylizer: Stylizer, source: FlowSource,
                 image_s: ImageSettings, video_s: VideoSettings, device: torch.device, callback: Callback):
        self.run, self.frames, self.stylizer, self.source = run, frames, stylizer, source
        self.image_s, self.video_s, self.device, self.callback = image_s, video_s, device, callback
        self.n = len(frames)
        self.raws: dict[int, np.ndarray] = {}  #: float results (optimised space), HxWx3
        self.warps: dict[int, tuple[np.ndarray, np.ndarray]] = {}  #: frame s warped into this frame t
        self.memory: Optional[LbfgsMemory] = None  #: the previous frame's L-BFGS memory (this pass)
        self.flow_wait = 0.0

    # -- the order and what is already done -------------------------------------------------

    def order(self, p: int) -> list[int]:
        """Frames of pass ``p``: forward on even passes, backward on odd ones."""
        self.memory = None
        return list(range(self.n)) if p % 2 == 0 else list(range(self.n - 1, -1, -1))

    @staticmethod
    def direction(p: int) -> int:
        return 1 if p % 2 == 0 else -1

    def skip_finished(self, p: int, i: int, t: int) -> bool:
        """True (and reported) when frame t of pass p is in the run folder already."""
        if not self.run.is_done(t, p):
            return False
        rec = self.run.records[t]
        emit(self.callback, FrameDone(frame=i, frames=self.n, pass_index=p, passes=self.video_s.passes,
                                      iterations=rec.iterations, loss=rec.loss or 0.0,
                                      stop_reason=rec.stop_reason or "", seconds=0.0, resumed=True))
        self.memory = None  # resumed: the memory of the frame before is gone
        return True

    def flows_ahead(self, p: int, ahead: Sequence[int]) -> list[tuple[int, int]]:
        """The (t, j) flows the next frames of this pass will need (computed while t optimises)."""
        need = self.video_s.flow_offsets
        forward = self.direction(p) == 1
        return [(u, j) if forward else (u + j, j) for u in ahead for j in need]

    def cap(self, p: int, i: int) -> int:
        """Iteration cap of frame ``i`` of pass ``p``: the first frame gets more (no warm start)."""
        if p == 0:
            return self.video_s.first_iters if i == 0 else self.video_s.later_iters
        return self.video_s.multipass_iters

    def start(self, p: int, i: int, t: int) -> None:
        self.warps = {}
        self.wait_before = self.source.wait_seconds
        emit(self.callback, FrameStarted(frame=i, frames=self.n, pass_index=p, passes=self.video_s.passes,
                                         max_iters=self.cap(p, i)))

    # -- the pieces of frame t ---------------------------------------------------------------

    def raw(self, t: int) -> np.ndarray:
        if t not in self.raws:
            self.raws[t] = self.run.read_state(t)
        return self.raws[t]

    def content(self, t: int) -> torch.Tensor:
        return media.image_to_tensor(self.frames[t]).to(self.device)

    def target(self, t: int) -> torch.Tensor:
        """Frame t in the optimised space (luminance when preserving colours)."""
        c = self.content(t)
        return gray3(c) if self.image_s.preserve_colors else c

    def warped(self, t: int, s: int) -> tuple[np.ndarray, np.ndarray]:
        """The result of frame s warped into t and its reliability (once per frame: the init and
        the temporal term both need it)."""
        if s not in self.warps:
            self.warps[s] = self.source.warp_into(t, s, self.raw(s), detail=self.video_s.warp_detail)
        return self.warps[s]

    def initialisation(self, p: int, i: int, t: int, first_init: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
        """Where frame t's optimisation starts (None: ``ImageSettings.init``, the photograph).

        First pass: each pixel from the closest earlier result that saw it
        (:func:`temporal.initial_image`), the regions none saw painted (``init_fill``). Later
        passes: the multi-pass blend of this frame's result with its warped neighbours.
        """
        v = self.video_s
        if p > 0:
            neighbours = [self.warped(t, s) for s in (t - 1, t + 1) if 0 <= s < self.n]
            return self._tensor(temporal.multipass_init(self.raw(t), neighbours, v.blend_delta))
        if i == 0:
            return first_init  # --init-image (None: ImageSettings.init)
        if not v.temporal_init:
            return None
        js = [j for j in v.init_offsets if i - j >= 0]
        pairs = [self.warped(t, t - j) for j in js]
        still = [(self.raw(t - j), self.source.get(t, j).c_still) for j in js]
        content = self.content(t)  # the photograph: Stylizer.run takes it to the optimised space
        covered = temporal.coverage([c for _, c in pairs], still)
        painted = None
        if v.init_fill == "pass":
            painted = paint_unseen(self.stylizer, content, covered, min(v.fill_iters, self.cap(p, i)))
        init = temporal.initial_image([w for w, _ in pairs], [c for _, c in pairs], _to_np(self.target(t)),
                                      v.init_fill, still=still, painted=painted)
        return self._tensor(init)

    def temporal_terms(self, p: int, i: int, t: int) -> list[tuple[ImageTerm, float]]:
        """The temporal loss of frame t: towards the earlier results of this pass warped into it,
        combined closest first (:func:`temporal.temporal_targets`), with its weight."""
        v = self.video_s
        on = p + 1 >= (v.first_temporal_pass if v.passes > 1 else 1)
        weight = v.temporal_weight * (v.multipass_temporal_scale if v.passes > 1 else 1.0)
        if not (on and v.temporal_offsets and weight > 0):
            return []
        d = self.direction(p)
        pairs = [self.warped(t, t - d * j) for j in v.temporal_offsets
                 if 0 <= t - d * j < self.n and not (p == 0 and i - j < 0)]
        if not pairs:
            return []
        targets, weights = temporal.temporal_targets(pairs)
        return [(TemporalTerm([self._tensor(x) for x in targets], [self._tensor(c) for c in weights]), weight)]

    def optimise(self, p: int, i: int, t: int, init: Optional[torch.Tensor],
                 terms: list[tuple[ImageTerm, float]]) -> OptimizeResult:
        """L-BFGS (or Adam) on frame t from ``init`` until the stopping rule or the cap.

        A non-finite loss writes nothing of this frame: the finished frames stay, and a re-run
        with a saner setting resumes here.
        """
        self.flow_wait = self.source.wait_seconds - self.wait_before
        memory = self.memory if self.video_s.carry_memory else None
        result = self.stylizer.run(self.content(t), init=init, extra_terms=terms, max_iters=self.cap(p, i),
                                   callback=self.callback, memory=memory, **self.picture_rule(p, i))
        if result.stop_reason == STOP_NONFINITE:
            s, v = self.image_s, self.video_s
            done = sum(1 for u in range(self.n) if self.run.is_done(u, p))
            kept = (f"the {done} finished frames stay in {str(self.run.path)!r}" if i > 0 or p > 0
                    else "no frame was finished")
            raise NonFiniteLossError(
                f"the loss became NaN or infinite on frame {t + 1} (pass {p + 1}); {kept}; lower "
                f"--style-weight ({s.style_weight:g}), --temporal-weight ({v.temporal_weight:g}) or "
                f"--lr and re-run with --restart (other settings make a different render, which "
                f"starts over)")
        self.memory = result.memory
        return result

    def picture_rule(self, p: int, i: int) -> dict[str, Any]:
        """The picture rule of frame i of pass p (``VideoSettings.picture_tol``): for a frame of the
        first pass started from earlier results; it waits for the first frame's final loss (that
        frame is painted from the photograph with the whole ``first_iters`` budget), so no later
        frame stops on a settled picture while its loss is worse than that, and one that never
        gets there runs to its cap. Not the previous frame's loss: that ratchets down frame after
        frame (the 500-iteration frames of the street clip: 2594, 1090, 844, 732) and each later
        frame would need more iterations than the one before."""
        v = self.video_s
        if p > 0 or i == 0 or not v.temporal_init or v.picture_tol <= 0:
            return {}
        return {"picture_tol": v.picture_tol, "settle_below": self.run.records[0].loss}  # pass 1 starts at frame 0

    def record(self, p: int, i: int, t: int, result: OptimizeResult) -> None:
        """Write frame t's float state, its frame and its record; forget results no longer needed."""
        t_io = time.perf_counter()
        raw_np = _to_np(result.raw)
        self.run.write_state(t, raw_np)
        media.save_image(self.run.frame_path(t), media.tensor_to_image(result.image))
        self.raws[t] = raw_np
        v = self.video_s
        keep = max([*v.temporal_offsets, *v.init_offsets], default=1) + 1
        if not (v.passes > 1 and self.n <= 64):  # multi-pass on short clips keeps every result
            d = self.direction(p)
            for k in [k for k in self.raws if (k - t) * d < -keep]:
                del self.raws[k]
        rec = self.run.records[t]
        rec.passes_done = p + 1
        rec.iterations += result.iterations
        rec.iterations_per_pass.append(result.iterations)
        rec.loss, rec.losses, rec.stop_reason = result.loss, result.losses, result.stop_reason
        rec.seconds += result.seconds
        rec.flow_seconds += self.flow_wait
        rec.history = [[float(a), float(b)] for a, b in result.history]
        rec.changes = [[float(a), float(b)] for a, b in result.changes]
        rec.io_seconds += time.perf_counter() - t_io
        self.run.save()
        emit(self.callback, FrameDone(frame=i, frames=self.n, pass_index=p, passes=v.passes,
                                      iterations=result.iterations, loss=result.loss,
                                      stop_reason=result.stop_reason, seconds=result.seconds))

    def _tensor(self, a: np.ndarray) -> torch.Tensor:
        return _to_torch(a, self.device)


def paint_unseen(stylizer: Stylizer, content: torch.Tensor, covered: np.ndarray, iters: int) -> Optional[np.ndarray]:
    """The regions of frame t that no earlier result covers, each painted by a short independent
    pass from the photograph on a crop around it (the style Grams of the whole frame's size, no
    temporal term): HxWx3 in the optimised space, NaN outside the regions; None when none.

    Our addition to Ruder et al. (their init fills them with the warped result, ours first with
    the photograph): new content, a person walking in, keeps its shape and is painted, instead
    of starting photographic (held so by the temporal term at small budgets) or as a smear of
    the surrounding paint."""
    boxes = temporal.unseen_regions(covered)
    if not boxes:
        return None
    h, w = covered.shape
    out = np.full((h, w, 3), np.nan, np.float32)
    for y0, y1, x0, x1 in boxes:
        res = stylizer.run(content[..., y0:y1, x0:x1], max_iters=iters, style_long_side=max(h, w))
        out[y0:y1, x0:x1] = _to_np(res.raw)
    return out


def _to_np(x: torch.Tensor) -> np.ndarray:
    return x.detach()[0].permute(1, 2, 0).float().cpu().numpy()


def _to_torch(a: np.ndarray, device: torch.device) -> torch.Tensor:
    arr = a if a.ndim == 3 else a[..., None]
    return torch.from_numpy(np.ascontiguousarray(arr)).permute(2, 0, 1).unsqueeze(0).contiguous().to(device)
