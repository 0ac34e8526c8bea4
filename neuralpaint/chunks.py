"""Long videos on many GPUs: split a clip into chunks, stylise them in parallel, hide the seams.

Ruder et al.'s frame loop is sequential: frame t starts from frame t−1's result and is held to
it by the temporal loss, so the state a frame converges to depends on the whole chain before it.
Two chunks stylised independently end in different local minima: on a synthetic clip (12 frames
40×48, random VGG) the same frame differed by 40/255 per pixel between two chunks, and the hard
cut between them had a warping error E_1 ≈ 0.04, 230× the chain's own. A cross-fade over an
overlap cannot remove that: the least-squares transition between two fixed chains is the linear
blend, whose per-step error is |A − B|² / (W + 1)² for W blended frames (measured 3–7× the
interior for W = 4..6). Re-stylising the overlap with the previous chunk's result as its init
only moves the same jump to the end of the overlap (measured: a forward polish pass over the
other half drifted the shared frame by 14/255 and left a seam 75× the interior).

What works is to let two chunks share their starting state instead of meeting in the middle:

- ``seam="keyframe"`` (default). Chunks come in pairs around a *keyframe* k. The right chunk
  runs forward from k (k, k+1, ...), the left one *backward* (k, k−1, ...; a reversed frame
  folder through the same :func:`~neuralpaint.video.stylize_video`). Both first render the same
  short *settle* sequence k, k+1, k, k−1, k (``settle`` = 4 extra frames): the optimiser is
  deterministic for the same frames and settings, so both chains continue from the very same
  image, and that image has been through the warp-and-optimise cycle of its neighbours like any
  chain frame. (Without the settle frames the freshly optimised keyframe is sharper than the
  chain frames and the first backward step showed a seam of 1.5–2.8× the interior on clips with
  moving objects; with them 0.6–1.0×.) Between pairs (3+ chunks) two independent chains meet;
  there both run ``overlap`` frames past the meeting point and are cross-faded over those
  ``2·overlap`` frames. So 2 chunks are seamless; N chunks have ⌊(N−1)/2⌋ blended seams, whose
  cost falls as 1/(2·overlap+1)² (default overlap 8: a 16-frame dissolve).
- ``seam="crossfade"``: every chunk runs forward from its own first frame; each boundary is
  cross-faded over ``2·overlap`` frames (``overlap=0``: a hard cut). For comparison.

Multi-pass (``passes`` > 1) revisits the keyframe in later passes differently in the two
chunks, so the keyframe is no longer shared exactly: prefer single-pass with chunks.

A caveat when measuring the backward half with the warping error E_k
(:mod:`neuralpaint.metrics`): E_k warps frame t−k forward with the same bilinear warp a forward
chain was built with, so a forward chain scores lower than a backward one of the same quality
(up to 10× on a pure pan with few iterations); measured in the reverse direction the ranking
flips. Numbers in ``docs/sweeps.md`` give both directions.

Layout of the work folder (default: ``.<output name>.neuralpaint-chunks`` next to the output)::

    plan.json                 what was planned (clip identity, settings, chunks); resume check
    source/frame_00001.png    the source frames at the working size (lossless)
    chunk_01/input/           that chunk's frames in render order (hard links into source/)
    chunk_01/run/             its stylize_video run folder (resumable, float state, flows)
    chunk_01/out/             its stylised frames

Re-running the same call resumes every chunk from its run folder; a finished chunk costs only
the time to read its frames.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence, Union

import numpy as np

from . import atomic, guard, media, runstate, settings
from .api import ImageLike
from .errors import InputError, NeuralPaintError, ResumeError
from .events import Callback, Notice, StageEvent, emit
from .vgg import resolve_model
from .settings import ImageSettings, ModelSettings, RuntimeSettings, VideoSettings
from .chunkplan import (DEFAULT_OVERLAP, DEFAULT_SETTLE, SEAMS, Chunk, Seam, assemble, blend_weight,  # noqa: F401
                        boundaries, plan, settle_frames)

PLAN = "plan.json"
PLAN_FORMAT = "neuralpaint-chunks"


class ChunkError(NeuralPaintError):
    """A chunk failed; the others are kept and a re-run resumes."""


@dataclass
class ChunkedResult:
    output: Path
    work_dir: Path
    frames: int
    chunks: list[dict[str, Any]]
    seams: list[dict[str, Any]]
    seconds: float
    #: per-frame (0-based) source of the output: "chunk 2", "blend 1-2 (0.33)", ...
    provenance: list[str] = field(default_factory=list)


def render_chunk(job: dict[str, Any]) -> dict[str, Any]:
    """Executor job: stylise one chunk's frame folder (resumes from its run folder)."""
    from .events import Notice
    from .video import stylize_video

    notices: list[str] = []

    def keep_notices(event: Any) -> None:  # events cannot cross processes; notices come back
        if isinstance(event, Notice) and event.message not in notices:
            notices.append(event.message)

    res = stylize_video(job["input"], job["styles"], job["output"], work_dir=job["work_dir"],
                        restart=job.get("restart", False), callback=keep_notices, **job["options"])
    return {"index": job["index"], "rendered": res.frames, "seconds": res.seconds,
            "iterations": sum(r.iterations for r in res.records),
            "optimize_seconds": sum(r.seconds for r in res.records), "notices": notices}


def _link_or_copy(src: Path, dst: Path) -> None:
    if dst.exists():
        return
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _style_hash(style: ImageLike) -> str:
    import hashlib
    if isinstance(style, np.ndarray):
        return "array:" + hashlib.sha256(np.ascontiguousarray(style).tobytes()).hexdigest()[:16]
    return "file:" + hashlib.sha256(Path(style).read_bytes()).hexdigest()[:16]


def default_work_dir(output: Path) -> Path:
    name = output.name.rstrip("/") or "output"
    return output.parent / f".{name}.neuralpaint-chunks"


def stylize_video_chunked(input: Union[str, Path], styles: Sequence[ImageLike] = (),
                          output: Union[str, Path, None] = None, *, chunks: int = 2,
                          overlap: Optional[int] = None, seam: str = "keyframe", settle: Optional[int] = None,
                          executor: Any = "local",
                          address: Optional[str] = None, max_parallel: Optional[int] = None,
                          work_dir: Union[str, Path, None] = None, restart: bool = False,
                          callback: Callback = None, **options: Any) -> ChunkedResult:
    """Stylise a clip as ``chunks`` parallel renders and join them without visible seams.

    ``executor``: ``"local"`` (worker processes, one per GPU; ``max_parallel`` on CPU),
    ``"ray"`` (one Ray task per chunk, ``num_gpus=1`` each; ``address`` of the cluster) or an
    :class:`neuralpaint.sweep.executors.Executor`. ``overlap``: frames each chain runs past a
    meeting point (default :data:`DEFAULT_OVERLAP`). Other options as
    :func:`~neuralpaint.video.stylize_video` (``start``/``end`` select the frames to render).
    The output has the source's frame count and timing (GIF durations, fps, audio).
    """
    from .sweep.executors import Executor
    from .video import input_roles, resolve_io

    t_run = time.perf_counter()
    if isinstance(chunks, bool) or not isinstance(chunks, int):
        raise InputError(f"--chunks must be an integer, got {chunks!r}")
    overlap = DEFAULT_OVERLAP if overlap is None else overlap
    if isinstance(overlap, bool) or not isinstance(overlap, int):
        raise InputError(f"--overlap must be an integer, got {overlap!r}")
    settings.refuse_image_cap(options)
    image_s, video_s, model_s, runtime_s = settings.split(
        options, ImageSettings, VideoSettings, ModelSettings, RuntimeSettings)
    for name, value in (("--init-image", image_s.init_image), ("--flow-dir", video_s.flow_dir)):
        if value is not None:  # each chunk paints its own frame folder, in its own direction
            raise InputError(f"{name} {value!r} does not work with --chunks {chunks}; render with --chunks 1")
    model_s = resolve_model(model_s, callback)
    options = {**options, "weights": model_s.weights}  # the workers use the same concrete features
    input_path, out_text, out_path, style_list = resolve_io(input, output, styles)
    style_paths = []
    for s in style_list:
        if isinstance(s, np.ndarray):
            raise InputError("chunked rendering needs style images as files (they go to worker processes)")
        style_paths.append(str(Path(s).resolve()))
    stack = contextlib.ExitStack()
    stack.enter_context(guard.reading(*input_roles(input_path, style_list, model_s)))
    own = not isinstance(executor, Executor)
    try:
        return _run_chunked(stack, input_path, out_text, out_path, style_paths, chunks, overlap, seam, settle,
                            executor, own, address, max_parallel, work_dir, restart, callback, options,
                            image_s, video_s, model_s, runtime_s, t_run)
    finally:
        stack.close()


def _check_inputs(style_paths: Sequence[str], image_s: ImageSettings, model_s: ModelSettings) -> None:
    """Read every style and the weights here, before the work folder exists: the workers would
    only fail later, leaving a work folder that blocks the repaired command."""
    from .api import style_tensors
    from .vgg import load_vgg

    style_tensors(list(style_paths), image_s.size, image_s.style_scale)
    load_vgg(model_s, ["relu5_1"], "cpu", channels_last=False)


def _run_chunked(stack: contextlib.ExitStack, input_path: Path, out_text: str, out_path: Path,
                 style_paths: list[str], chunks: int, overlap: int, seam: str, settle: Optional[int],
                 executor: Any, own: bool, address: Optional[str], max_parallel: Optional[int],
                 work_dir: Union[str, Path, None], restart: bool, callback: Callback, options: dict[str, Any],
                 image_s: ImageSettings, video_s: VideoSettings, model_s: ModelSettings,
                 runtime_s: RuntimeSettings, t_run: float) -> ChunkedResult:
    from .sweep.executors import make_executor

    emit(callback, StageEvent("reading", 0, 1, str(input_path)))
    clip = media.read_clip(input_path, size=image_s.size, start=video_s.start, end=video_s.end,
                           upscale=image_s.upscale)
    n = len(clip.frames)
    if n == 0:
        raise InputError(f"input {str(input_path)!r} has no frames")
    emit(callback, StageEvent("reading", 1, 1, f"{n} frames"))
    media.check_encoding(out_text, crf=video_s.crf, fps=video_s.fps, source=clip, audio=video_s.audio)
    settle = DEFAULT_SETTLE if settle is None else settle
    if video_s.passes > 1 and seam == "keyframe" and chunks > 1:
        message = (f"--passes {video_s.passes} with --chunks: later passes revisit each keyframe differently "
                   f"in its two chunks, so the keyframe joins are no longer exact")
        if callback is not None:
            callback(Notice(message))
        else:
            warnings.warn(message, stacklevel=2)
    chunk_list, seams = plan(n, chunks, overlap, seam, settle)
    _check_inputs(style_paths, image_s, model_s)

    # absolute: worker processes and Ray tasks do not share this process's working directory
    wd = (Path(work_dir) if work_dir is not None else default_work_dir(out_path)).expanduser().resolve()
    run_options = {k: v for k, v in options.items() if k not in ("start", "end", "audio", "crf", "fps")}
    identity = {
        # content, not mtime: copying or touching the source does not invalidate the chunks
        "format": PLAN_FORMAT,
        "input": {k: v for k, v in runstate.file_identity(input_path).items() if k != "mtime_ns"},
        "range": [video_s.start, video_s.end], "frames": n, "size": list(clip.size),
        "styles": [_style_hash(s) for s in style_paths], "chunks": chunks, "overlap": overlap, "seam": seam,
        "settle": settle if seam == "keyframe" else 0,
        "settings": {k: v for k, v in settings.as_dict(image_s, video_s, model_s, runtime_s).items()
                     if k not in ("device", "progress_every", "compile", "audio", "start", "end", "crf", "fps")},
    }
    guard.check_writes([(p, "-o") for p in media.planned_files(out_text, n, clip.first)] + [(wd, "--work-dir")])
    # the executor is made (and its options checked) before the work folder too
    ex = make_executor(executor, address=address, max_parallel=max_parallel) if own else executor
    if own:
        stack.callback(ex.close)
    _open_work_dir(wd, identity, restart)
    src_dir = wd / "source"
    src_dir.mkdir(parents=True, exist_ok=True)
    for t, f in enumerate(clip.frames):
        p = src_dir / f"frame_{t + 1:05d}.png"
        if not p.exists():
            media.save_image(p, f)
    jobs = []
    for c in chunk_list:
        cdir = wd / f"chunk_{c.index + 1:02d}"
        inp = cdir / "input"
        inp.mkdir(parents=True, exist_ok=True)
        for i, t in enumerate(c.frames):
            _link_or_copy(src_dir / f"frame_{t + 1:05d}.png", inp / f"frame_{i + 1:05d}.png")
        jobs.append({"index": c.index, "input": str(inp), "styles": style_paths, "output": str(cdir / "out") + "/",
                     "work_dir": str(cdir / "run"), "options": run_options, "restart": False})
    atomic.write_text(wd / PLAN, json.dumps({**identity, "plan": [c.to_json() for c in chunk_list],
                                             "seams": [s.to_json() for s in seams]}, indent=1, default=str))

    infos: dict[int, dict[str, Any]] = {}
    errors: list[str] = []
    seen_notices: set[str] = set()
    emit(callback, StageEvent("chunks", 0, len(jobs), ex.describe()))
    # (the executor is closed by the caller's ExitStack)
    for i, outcome in enumerate(ex.map(render_chunk, jobs), 1):
        idx = outcome.job["index"]
        c = chunk_list[idx]
        if outcome.ok:
            infos[idx] = outcome.value
            for message in outcome.value.get("notices", []):
                if message not in seen_notices:
                    seen_notices.add(message)
                    if callback is not None:
                        callback(Notice(message))
                    else:
                        warnings.warn(message, stacklevel=2)
            msg = f"chunk {idx + 1} (frames {c.first + 1}-{c.last + 1}) {outcome.value['seconds']:.1f}s"
        else:
            errors.append(f"chunk {idx + 1} (frames {c.first + 1}-{c.last + 1}) failed: {outcome.error}")
            msg = errors[-1]
        emit(callback, StageEvent("chunks", i, len(jobs), msg))
    if errors:
        raise ChunkError("; ".join(sorted(errors)) + " (finished chunks are kept; re-run to resume)")

    cache: dict[tuple[int, int], np.ndarray] = {}

    def frame_of(ci: int, t: int) -> np.ndarray:
        key = (ci, t)
        if key not in cache:
            pos = chunk_list[ci].position(t)
            cache[key] = media.load_image(wd / f"chunk_{ci + 1:02d}" / "run" / "frames" / f"frame_{pos + 1:05d}.png")
        return cache[key]

    frames, prov = assemble(n, chunk_list, seams, frame_of)
    guard.check_result(frames, clip.frames, f"the chunked render in {str(wd)!r}",
                       "check the style and --weights, then re-run with --restart")
    emit(callback, StageEvent("encoding", 0, 1, str(out_path)))
    media.write_clip(out_text, frames, clip, audio=video_s.audio, crf=video_s.crf, fps=video_s.fps)
    emit(callback, StageEvent("encoding", 1, 1))
    chunk_json = []
    for c in chunk_list:
        d = c.to_json()
        d.update({k: v for k, v in infos.get(c.index, {}).items() if k not in ("index", "notices")})
        chunk_json.append(d)
    return ChunkedResult(output=out_path, work_dir=wd, frames=n, chunks=chunk_json,
                         seams=[s.to_json() for s in seams], seconds=time.perf_counter() - t_run, provenance=prov)


def _open_work_dir(wd: Path, identity: dict[str, Any], restart: bool) -> None:
    p = wd / PLAN
    if p.exists():
        try:
            old = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = None
        changed = runstate.differences(old, identity, keys=identity, default=str)
        if restart or changed:
            if not restart:
                raise ResumeError(f"work dir {str(wd)!r} holds chunks of another render ({changed[0]} changed); "
                                  f"re-run with --restart to start over, or use another --work-dir")
            shutil.rmtree(wd)
    elif wd.exists() and any(wd.iterdir()) and not restart:
        raise ResumeError(f"work dir {str(wd)!r} is not empty and has no {PLAN}; choose another --work-dir")
    try:
        wd.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create work dir {str(wd)!r}: {exc.strerror or exc}") from None
    atomic.write_text(p, json.dumps(identity, indent=1, default=str))  # claimed before any other file


__all__ = ["stylize_video_chunked", "ChunkedResult", "ChunkError", "plan", "assemble", "boundaries",
           "render_chunk", "SEAMS", "DEFAULT_OVERLAP"]
