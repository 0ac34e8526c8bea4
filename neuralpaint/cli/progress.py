"""Progress of a long job on the command line, from the core's events.

- On a terminal: rich bars (frames, iterations, stages) with an ETA of our own.
- Anywhere else (a pipe, a log file, ``nohup``, a cluster job): one plain line on stderr every
  ``ProgressSettings.line_seconds``, e.g.
  ``frame 3/12  iteration 40/500  loss 1.234e+05  0.52 s/it  ETA 4:10``.
- ``--print-every N`` prints the loss and its parts every N iterations (both modes);
  ``--save-every N`` writes the current image / frame every N iterations (atomically).

The ETA comes from measured times, never from the bars' own rate: the seconds per iteration
between two iteration events of the same image, and the mean time of the frames computed in this
run (frames a resumed run skips do not count), so it is right from the first frame after a
resume.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Any, Callable, Optional

from rich.console import Console

from ..events import FrameDone, FrameStarted, IterationEvent, Notice, ScaleDone, StageEvent
from ..settings import ProgressSettings
from ..settings import default as d

err_console = Console(stderr=True, highlight=False)

#: Stages that stay on screen when finished: the overall count of a multi-part job.
OVERALL_STAGES = ("methods", "runs")


def format_duration(seconds: Optional[float]) -> str:
    """``75`` -> ``1:15``, ``3725`` -> ``1:02:05``; ``?`` when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "?"
    s = int(round(max(0.0, seconds)))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def format_losses(losses: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.4g}" for k, v in losses.items())


class ProgressTracker:
    """Where a job is and how long the rest will take (no output; fed with core events)."""

    def __init__(self) -> None:
        self.frame: Optional[int] = None  #: 0-based index within the pass of the current/last frame
        self.frames: Optional[int] = None
        self.in_frame = False
        self.pass_index, self.passes = 0, 1
        self.iteration, self.max_iters = 0, 0
        self.scale, self.scales = 0, 1
        self.loss: Optional[float] = None
        self.losses: dict[str, float] = {}
        self.s_per_it: Optional[float] = None
        self.frame_elapsed = 0.0
        self.frame_seconds: list[float] = []  #: computed (not resumed) frames of this run
        self.stages: dict[str, tuple[int, int, str]] = {}
        self.steps: Optional[tuple[int, int]] = None  #: (step, steps) of a training
        self._last: Optional[tuple[int, int, float]] = None  #: (scale, iteration, elapsed)

    def update(self, event: Any) -> None:
        if isinstance(event, IterationEvent):
            prev = self._last
            if prev is not None and prev[0] == event.scale and event.iteration > prev[1] and event.elapsed >= prev[2]:
                rate = (event.elapsed - prev[2]) / (event.iteration - prev[1])
                self.s_per_it = rate if self.s_per_it is None else 0.7 * self.s_per_it + 0.3 * rate
            self._last = (event.scale, event.iteration, event.elapsed)
            self.iteration, self.max_iters = event.iteration, event.max_iters
            self.scale, self.scales = event.scale, event.scales
            self.loss, self.losses = event.loss, dict(event.losses)
            self.frame_elapsed = event.elapsed
        elif isinstance(event, ScaleDone):
            self._last = None
            self.loss = event.loss
        elif isinstance(event, FrameStarted):
            self.frame, self.frames = event.frame, event.frames
            self.pass_index, self.passes = event.pass_index, event.passes
            self.max_iters, self.iteration, self.frame_elapsed = event.max_iters, 0, 0.0
            self.in_frame, self._last = True, None
        elif isinstance(event, FrameDone):
            self.frame, self.frames = event.frame, event.frames
            self.pass_index, self.passes = event.pass_index, event.passes
            self.in_frame, self._last = False, None
            if not event.resumed:
                self.frame_seconds.append(float(event.seconds))
                self.loss = event.loss
        elif isinstance(event, StageEvent):
            if event.total and event.done >= event.total and event.stage not in OVERALL_STAGES:
                self.stages.pop(event.stage, None)
            else:
                self.stages[event.stage] = (event.done, event.total, event.message)
        elif hasattr(event, "step") and hasattr(event, "steps"):  # fast.train.TrainStep
            self.steps = (int(event.step), int(event.steps))
            if hasattr(event, "loss"):
                self.loss = float(event.loss)

    def eta(self) -> Optional[float]:
        """Seconds left, or None before anything was measured."""
        if self.frames:
            recent = self.frame_seconds[-10:]
            if recent:
                per_frame: Optional[float] = sum(recent) / len(recent)
            elif self.s_per_it is not None and self.max_iters:
                per_frame = self.max_iters * self.s_per_it
            else:
                return None
            assert per_frame is not None
            current = self.frame if self.frame is not None else -1
            after = self.frames - (current + 1) + (self.passes - self.pass_index - 1) * self.frames
            left = after * per_frame
            if self.in_frame:
                if recent:
                    left += max(0.0, per_frame - self.frame_elapsed)
                elif self.s_per_it is not None:
                    left += max(0, self.max_iters - self.iteration) * self.s_per_it
            return left
        if self.s_per_it is None or not self.max_iters:
            return None
        left = max(0, self.max_iters - self.iteration) * self.s_per_it
        for k in range(self.scale + 1, self.scales):  # each finer scale has ~4x the pixels
            left += self.max_iters * self.s_per_it * 4 ** (k - self.scale)
        return left

    def line(self) -> str:
        """One plain status line."""
        parts = []
        for name, (done, total, message) in self.stages.items():
            parts.append(f"{name} {done}/{total}" + (f" {message}" if message else ""))
        if self.steps is not None:
            parts.append(f"step {self.steps[0]}/{self.steps[1]}")
        if self.frames:
            if self.passes > 1:
                parts.append(f"pass {self.pass_index + 1}/{self.passes}")
            parts.append(f"frame {(self.frame or 0) + 1}/{self.frames}")
        if self.max_iters and self.iteration and (self.in_frame or not self.frames):
            scale = f" (scale {self.scale + 1}/{self.scales})" if self.scales > 1 else ""
            parts.append(f"iteration {self.iteration}/{self.max_iters}{scale}")
        if self.loss is not None:
            parts.append(f"loss {self.loss:.4g}")
        if self.s_per_it is not None:
            parts.append(f"{self.s_per_it:.3g} s/it")
        eta = self.eta()
        if eta is not None:
            parts.append(f"ETA {format_duration(eta)}")
        return "  ".join(parts)

    def where(self) -> list[str]:
        """Where a render is: ["frame i/n", "pass p/P", "scale s/S"], the parts that apply."""
        bits = []
        if self.frames:
            bits.append(f"frame {(self.frame or 0) + 1}/{self.frames}")
            if self.passes > 1:
                bits.append(f"pass {self.pass_index + 1}/{self.passes}")
        if self.scales > 1:
            bits.append(f"scale {self.scale + 1}/{self.scales}")
        return bits


class ProgressRenderer:
    """Renders core events on stderr: rich bars on a terminal, plain lines elsewhere.

    ``quiet``: no bars or lines (notices, ``--print-every`` and ``--save-every`` still work).
    ``save_path``: where ``--save-every`` writes (the events' ``snapshot()``).
    ``interactive``: force bars (True) or plain lines (False); default: whether stderr is a terminal.
    """

    def __init__(self, quiet: bool = False, label: str = "painting", *, print_every: int = 0,
                 save_every: int = 0, save_path: Optional[Path] = None,
                 interactive: Optional[bool] = None, line_seconds: Optional[float] = None,
                 clock: Callable[[], float] = time.monotonic,
                 on_snapshot: Optional[Callable[[Any, Any], None]] = None):
        self.quiet = quiet
        self.label = label
        self.print_every = print_every
        self.save_every = save_every
        self.save_path = Path(save_path) if save_path is not None else None
        self.interactive = err_console.is_terminal if interactive is None else interactive
        self.line_seconds = d(ProgressSettings, "line_seconds") if line_seconds is None else line_seconds
        self.clock = clock
        self.on_snapshot = on_snapshot  #: extra consumer of snapshots (the preview page)
        self.tracker = ProgressTracker()
        self.progress: Any = None
        self.iter_task: Any = None
        self.frame_task: Any = None
        self.stage_tasks: dict[str, Any] = {}
        self._notices: set[str] = set()
        self._last_line: Optional[float] = None
        self._key: Any = None
        self._buckets = {"print": 0, "save": 0}
        self.saved = 0  #: snapshots written

    # -- setup -----------------------------------------------------------------------------
    def __enter__(self) -> "ProgressRenderer":
        if not self.quiet and self.interactive:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
            self.progress = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TextColumn("{task.fields[eta]}"),
                console=err_console, transient=False, refresh_per_second=8)
            self.progress.__enter__()
        if self.save_every and self.save_path is not None:
            self.notice(f"writing the current result every {self.save_every} iterations to "
                        f"{str(self.save_path)!r}")
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.progress is not None:
            self.progress.__exit__(*exc)
            self.progress = None

    # -- output ----------------------------------------------------------------------------
    def print(self, message: str) -> None:
        """A line on stderr that does not break the bars."""
        if self.progress is not None:
            self.progress.console.print(message, markup=False, highlight=False, soft_wrap=True)
        else:
            print(message, file=sys.stderr, flush=True)

    def notice(self, message: str) -> None:
        if message not in self._notices:
            self._notices.add(message)
            if self.progress is not None:
                self.progress.console.print(f"[yellow]notice:[/] {message}", soft_wrap=True)
            else:
                err_console.print(f"[yellow]notice:[/] {message}", soft_wrap=True)

    def _where(self) -> str:
        where = self.tracker.where()
        return (", ".join(where) + ": ") if where else ""

    # -- events ----------------------------------------------------------------------------
    def __call__(self, event: Any) -> None:
        if isinstance(event, Notice):
            self.notice(event.message)
            return
        self.tracker.update(event)
        if isinstance(event, IterationEvent):
            self._periodic(event)
        if self.quiet:
            return
        if self.progress is not None:
            self._bars(event)
        else:
            now = self.clock()
            if self._last_line is None or now - self._last_line >= self.line_seconds:
                text = self.tracker.line()
                if text:
                    self._last_line = now
                    print(f"{self.label}: {text}" if not self.tracker.frames and not self.tracker.stages
                          and not self.tracker.steps else text, file=sys.stderr, flush=True)

    def _periodic(self, event: IterationEvent) -> None:
        t = self.tracker
        key = (t.frame, t.pass_index, event.scale)
        if key != self._key:
            self._key = key
            self._buckets = {"print": 0, "save": 0}
        if self.print_every:
            b = event.iteration // self.print_every
            if b > self._buckets["print"]:
                self._buckets["print"] = b
                self.print(f"{self._where()}iteration {event.iteration}/{event.max_iters}: loss "
                           f"{event.loss:.4g} ({format_losses(event.losses)})")
        if self.save_every and event.snapshot is not None and (self.save_path is not None or self.on_snapshot):
            b = event.iteration // self.save_every
            if b > self._buckets["save"]:
                self._buckets["save"] = b
                from .. import media
                image = media.tensor_to_image(event.snapshot())
                if self.save_path is not None:
                    media.save_image(self.save_path, image)
                    self.saved += 1
                if self.on_snapshot is not None:
                    self.on_snapshot(event, image)

    def _bars(self, event: Any) -> None:
        p = self.progress
        t = self.tracker
        eta = f"ETA {format_duration(t.eta())}" if t.eta() is not None else ""
        if isinstance(event, IterationEvent):
            desc = self.label if event.scales == 1 else f"{self.label} {event.scale + 1}/{event.scales}"
            info = f"loss {event.loss:.4g}" + (f"  {t.s_per_it:.3g} s/it" if t.s_per_it else "")
            if self.iter_task is None:
                self.iter_task = p.add_task(desc, total=event.max_iters, info=info, eta="")
            p.update(self.iter_task, description=desc, total=event.max_iters, completed=event.iteration,
                     info=info, eta="" if t.frames else eta)
            if self.frame_task is not None:
                p.update(self.frame_task, eta=eta)
        elif isinstance(event, ScaleDone):
            if self.iter_task is not None:
                p.update(self.iter_task, completed=event.iterations, total=max(event.iterations, 1),
                         info=f"loss {event.loss:.4g} ({event.stop_reason})")
        elif isinstance(event, FrameStarted):
            desc = "frames" if event.passes == 1 else f"pass {event.pass_index + 1}/{event.passes}"
            if self.frame_task is None:
                self.frame_task = p.add_task(desc, total=event.frames, info="", eta="")
            p.update(self.frame_task, description=desc, total=event.frames, eta=eta)
            if self.iter_task is not None:
                p.reset(self.iter_task, total=event.max_iters, info="")
        elif isinstance(event, FrameDone):
            if self.frame_task is None:
                self.frame_task = p.add_task("frames", total=event.frames, info="", eta="")
            state = "resumed" if event.resumed else f"{event.iterations} it, {event.stop_reason}"
            p.update(self.frame_task, completed=event.frame + 1, info=f"frame {event.frame + 1}: {state}", eta=eta)
        elif isinstance(event, StageEvent):
            if event.stage in OVERALL_STAGES:
                # a new part of a multi-part job: the bars of the previous part go (no stale bars)
                self._clear_parts()
            task = self.stage_tasks.get(event.stage)
            if task is None:
                task = self.stage_tasks[event.stage] = p.add_task(event.stage, total=event.total, info="", eta="")
            p.update(task, completed=event.done, total=event.total, info=event.message)
            if event.total and event.done >= event.total and event.stage not in OVERALL_STAGES:
                p.remove_task(task)
                del self.stage_tasks[event.stage]

    def _clear_parts(self) -> None:
        p = self.progress
        for name in [n for n in self.stage_tasks if n not in OVERALL_STAGES]:
            p.remove_task(self.stage_tasks.pop(name))
        for attr in ("iter_task", "frame_task"):
            task = getattr(self, attr)
            if task is not None:
                p.remove_task(task)
                setattr(self, attr, None)
        self.tracker = ProgressTracker()


def progress_every(print_every: int, save_every: int, default: int) -> int:
    """The core's event interval that lands on every multiple of ``--print-every`` and
    ``--save-every`` (their greatest common divisor with the default interval)."""
    step = default
    for n in (print_every, save_every):
        if n:
            step = math.gcd(step, n)
    return step
