"""A clip: Ruder et al.'s method on top of the image settings, the output's encoding, what the
command line shows while rendering, and chunked rendering. One
:func:`~neuralpaint.settings.spine.option` line per field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Optional

from ..errors import InputError
from . import text
from .spine import check, option

FLOW_METHODS = ("dis", "farneback", "deepflow", "tvl1")
DEFAULT_FLOW = "dis"
#: Video encoding: H.264 constant rate factor of MP4/MOV/MKV/AVI output (18: visually lossless)
#: and its range; VP9 constant quality of WebM output and its range; the highest frame rate.
H264_CRF, H264_CRF_MAX = 18, 51
VP9_CRF, VP9_CRF_MAX = 31, 63
MAX_FPS = 1000
#: ``VideoSettings.init_fill`` (mirrors :data:`neuralpaint.temporal.INIT_FILLS`).
INIT_FILLS = ("pass", "inpaint", "warped", "content")
#: Where chunks of a clip render (``neuralpaint.sweep.executors``).
EXECUTORS = ("local", "ray")


@dataclass(frozen=True)
class VideoSettings:
    """Ruder et al.'s video method on top of :class:`ImageSettings`.

    In a video run ``first_iters`` caps the first frame of the first pass and ``later_iters`` each
    later one (``--iters`` on the command line; ``ImageSettings.iters`` caps an image only).
    """

    PANEL: ClassVar[str] = "Video"

    temporal_init: bool = option(True, "Start each frame from the previous result warped by optical flow.")
    #: How the pixels of a frame's init that no earlier result covers start (see
    #: :mod:`neuralpaint.temporal`): ``pass`` (a short independent pass paints each such region
    #: from the photograph: new content, e.g. a person walking in, gets painted with its own
    #: shape), ``inpaint`` (from the painted pixels around them: loses what is new there),
    #: ``warped`` (the warped previous result regardless of reliability: Ruder's reference) or
    #: ``content`` (the photograph, our first version: it left photographic patches).
    init_fill: str = option("pass", "Pixels of a frame's init that no earlier frame saw: pass (a short pass of "
                            "their own), inpaint (from the painted pixels around), warped (Ruder's) or content "
                            "(the photograph).", choices=INIT_FILLS, label="init fill")
    #: Iteration cap of that independent pass (at most the frame's own cap); it runs on a crop
    #: around each unseen region, so it costs a fraction of a frame's iteration.
    fill_iters: int = option(50, "Iteration cap of the pass that paints unseen pixels.", cli=False,
                             label="fill-iters", minimum=1)
    #: Start each frame's L-BFGS with the previous frame's curvature memory (our addition).
    #: Measured (street clip, 192 px, frame 2 from the warped frame 1, 150 iterations): float loss
    #: 1470 vs 1483 fresh (−0.9%), output loss 2.20e5 vs 2.35e5 (−6.6%), same time. A gain too
    #: small on one frame to change the default on; a resumed render starts its first frame fresh.
    carry_memory: bool = option(False, "Start each frame's L-BFGS with the previous frame's curvature memory.")
    #: Picture rule (our addition to Ruder's stopping rule): a frame started from earlier results
    #: stops at a check (every ``ImageSettings.window`` iterations) where its picture moved less
    #: than this many 1/255 steps (mean absolute change of the image as shown) since the last
    #: check, once its loss is at or below the first frame's final loss. 0 = off. Measured on the
    #: street clip (12 frames, 192 px, HED, caps 500/500): at 2 the later frames took 64
    #: iterations instead of 500 (7.8x faster) with a lower E_1 (0.76x), but frame 12 was
    #: visibly softer (sharpness 0.88 of frame 1's against 0.92; 0.93 with ``warp_detail`` 0.5),
    #: the style loss 3.6x and the near-photographic share 3.4% against 2.2%: a speed setting,
    #: not the default.
    picture_tol: float = option(0.0, "Later frames stop once their picture changes less than this per window (mean "
                                "absolute change in 1/255 steps, e.g. 2: ~4x faster, less painted) and their loss "
                                "is down to the first frame's; 0 = off.", label="picture-tol", nonneg=True)
    #: Detail restored after each warp of a result (our addition; Ruder warps bilinearly and
    #: leaves it): bicubic interpolation at a sub-pixel position smooths the picture, and a frame
    #: started from the previous result inherits the smoothing of every warp before it (and the
    #: temporal loss holds it to that smoothed target). An unsharp mask whose strength follows
    #: the sub-pixel phase of the flow gives it back (:func:`flows.restore_detail`). Measured on
    #: the street clip (12 frames, 192 px, HED): sharpness of frame 12 ÷ frame 1 at 150 iterations
    #: per later frame 0.88 without, 0.92 with 0.5; with the picture rule 0.88 → 0.93; E_1 and the
    #: style loss unchanged (docs/metrics.md, "Sharpness drift").
    warp_detail: float = option(0.5, "Fine detail given back to each warped result (unsharp mask scaled by the "
                                "sub-pixel phase of the flow; 0 = off).", label="warp-detail", nonneg=True)
    short_term: bool = option(True, "Temporal loss against the previous frame.")
    long_term: bool = option(False, "Temporal loss against the frames at --offsets.")
    #: Frame offsets J of the long-term loss (short-term alone uses offset 1). The paper: 1,10,20,40.
    offsets: tuple[int, ...] = option((1, 2, 4), "Frame offsets of the long-term loss.", text=text.OFFSETS)
    #: Weight of the temporal term (1/3HW) Σ c·(x − warp(x̂))² on [0,1] images. Derived from the
    #: Lua code's 1e3 (content 5): Caffe's 0–255 pixels make squared pixel differences 255² larger
    #: and relu4_2 features about (255·0.229)² larger than ours, so the ratio to the content
    #: weight becomes ≈ 1e3·255² / (5·58²) ≈ 4e3. Measured on trained features (HED, street clip,
    #: 192 px, caps 60/30, scripts/quality_video.py --temporal-weights): 1e3, 4e3, 1.6e4 and 6.4e4
    #: give the same E_1 (0.25x naive), disocclusion error, unstylised share and style loss to two
    #: digits; the term stays ~1e-4 of the style loss because the init already agrees with its
    #: targets where they are reliable. At this budget the init, not this weight, makes the video
    #: steady; kept at 4e3.
    temporal_weight: float = option(4e3, "Weight of the temporal loss (steadier video, less style where the "
                                    "flow is reliable).", label="temporal-weight", nonneg=True)
    flow: str = option(DEFAULT_FLOW, "Optical flow: dis, farneback, deepflow or tvl1.", choices=FLOW_METHODS,
                       label="flow method", fast=True)
    #: Iteration cap of the first frame of the first pass.
    first_iters: int = option(500, "Iteration cap of the first frame.", label="first-iters", minimum=1)
    #: Iteration cap of each later frame of the first pass (a later frame starts from the warped
    #: previous result and carries its work on). Measured on the street clip (12 frames, 192 px,
    #: VGG-16 (HED), Starry Night; README, Speed): the loss never settles on trained features, so
    #: the cap is the frame's time. 500 (the image's cap, our first default) against 250 with
    #: ``warp_detail`` 0.5: 0.49x the seconds per later frame (122.9 -> 60.6 s), frame 12 sharper
    #: (0.93 of frame 1's against 0.92) and steadier (E_1 0.00130 against 0.00156), alike to the
    #: eye, at a style loss 0.34 of the naive run's against 0.24, 2.6% near-photographic pixels
    #: against 2.2% (naive 4.0%) and an error inside disocclusions 0.37 of naive's against 0.34:
    #: each frame carries the work on, so the level the chain reaches follows its iterations.
    later_iters: int = option(250, "Iteration cap of each later frame (the first: --first-iters).",
                              flag="--iters", label="iters", minimum=1)
    #: Multi-pass (Ruder): number of passes over all frames, alternating direction.
    passes: int = option(1, "Multi-pass: passes over all frames, alternating direction.", minimum=1)
    #: Pass (1-based) from which the temporal loss is on in multi-pass; ``None`` = passes // 2 + 1
    #: (the reference's 15 passes with temporal from pass 8).
    temporal_from_pass: Optional[int] = option(None, "First pass with the temporal loss.", cli=False, minimum=1)
    #: δ of the multi-pass blended init.
    blend_delta: float = option(1.0, "δ of the multi-pass blended init.", cli=False, nonneg=True)
    #: In multi-pass the temporal weight is scaled by this (reference: half the single-pass one).
    multipass_temporal_scale: float = option(0.5, "Temporal weight factor in multi-pass.", cli=False, nonneg=True)
    #: Iteration cap per frame in passes after the first.
    multipass_iters: int = option(100, "Iteration cap per frame in passes after the first.", minimum=1)
    #: Read the flows from this folder of ``.flo`` files instead of computing them (artistic-videos'
    #: ``-flow_pattern``): ``backward_{t:05d}_{j}.flo`` (frame t -> t-j) and ``forward_{t:05d}_{j}.flo``
    #: (t-j -> t), t the 1-based source frame number: the names ``neuralpaint flow`` writes.
    flow_dir: Optional[str] = option(
        None, "Read the flows from this folder's .flo files instead: backward_{{t:05d}}_{{j}}.flo and "
        "forward_{{t:05d}}_{{j}}.flo, t the 1-based frame (what `neuralpaint flow` writes).", text=text.PATH)
    #: Copy the source's audio into an MP4 output.
    audio: bool = option(True, "Copy the source's audio into an MP4 output.", fast=True)
    #: Constant rate factor of a video output; ``None``: :data:`H264_CRF` for H.264 (MP4, MOV,
    #: MKV, AVI), :data:`VP9_CRF` for WebM's VP9. Lower is better and bigger.
    crf: Optional[int] = option(None, f"Video quality, lower is better and bigger \\[default: {H264_CRF} for H.264 "
                                f"(mp4, mov, mkv, avi), {VP9_CRF} for WebM].", fast=True,
                                minimum=0, maximum=max(H264_CRF_MAX, VP9_CRF_MAX))
    #: Frame rate of the output; ``None``: the source's (GIF durations, a video's exact rate).
    #: A different rate changes the playing speed, so it refuses to copy audio (``--no-audio``).
    fps: Optional[float] = option(None, "Frame rate of the output, e.g. 24 or 30000/1001 \\[default: the source's]; "
                                  "another rate than the source's needs --no-audio.", text=text.FPS,
                                  positive=True, fast=True)
    #: First and last frame (1-based, inclusive) to stylise; ``None`` = the whole clip.
    start: Optional[int] = option(None, "First frame to render (1-based).", minimum=1, fast=True)
    end: Optional[int] = option(None, "Last frame to render (1-based, inclusive).", minimum=1, fast=True)

    def __post_init__(self) -> None:
        offsets = tuple(self.offsets)
        if not offsets:
            raise InputError("offsets must list at least one frame offset, e.g. 1,2,4")
        for j in offsets:
            if isinstance(j, bool) or not isinstance(j, int) or j < 1:
                raise InputError(f"offsets must be positive integers, got {j!r} in {','.join(map(str, offsets))}")
        if len(set(offsets)) != len(offsets):
            raise InputError(f"offsets must not repeat, got {','.join(map(str, offsets))}")
        check(self)
        if self.flow_dir is not None and (not isinstance(self.flow_dir, str) or not self.flow_dir):
            raise InputError(f"flow_dir must be a folder path, got {self.flow_dir!r}")
        if self.fps is not None and float(self.fps) > MAX_FPS:
            raise InputError(f"fps must be at most {MAX_FPS}, got {self.fps!r}")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise InputError(f"--end {self.end} is before --start {self.start}")

    @property
    def temporal_offsets(self) -> tuple[int, ...]:
        """Offsets used by the temporal loss: J sorted for long-term, (1,) for short-term only."""
        if self.long_term:
            return tuple(sorted(self.offsets))
        if self.short_term:
            return (1,)
        return ()

    @property
    def init_offsets(self) -> tuple[int, ...]:
        """Earlier frames a frame's init takes pixels from (closest first): J ∪ {1}."""
        return tuple(sorted(set(self.offsets) | {1})) if self.temporal_init else ()

    @property
    def flow_offsets(self) -> tuple[int, ...]:
        """Every offset whose flows a render reads: the temporal loss's, the init's, and 1 for
        multi-pass's blended init."""
        return tuple(sorted(set(self.temporal_offsets) | set(self.init_offsets) | ({1} if self.passes > 1 else set())))

    @property
    def first_temporal_pass(self) -> int:
        return self.temporal_from_pass if self.temporal_from_pass is not None else self.passes // 2 + 1


@dataclass(frozen=True)
class ProgressSettings:
    """What the command line shows and writes while a render runs (never changes the pixels)."""

    PANEL: ClassVar[str] = "Progress"

    #: Without a terminal (a pipe, a log file, ``nohup``): one plain progress line this often.
    line_seconds: float = option(5.0, "Seconds between plain progress lines.", cli=False, nonneg=True)
    #: Print the loss and its parts every N iterations (0 = never); neural-style's -print_iter.
    print_every: int = option(0, "Print the loss and its parts every N iterations (0 = never).",
                              label="print-every", minimum=0)
    #: Write the current image / frame every N iterations (0 = never); neural-style's -save_iter.
    save_every: int = option(0, "Write the current image / frame every N iterations into the run folder "
                             "(0 = never).", label="save-every", minimum=0)
    #: Keep an image's run folder (Ctrl-C state, ``--save-every`` image) after it finished.
    #: Off: a finished image has nothing to resume.
    keep_image_work: bool = option(False, "Keep an image's run folder.", cli=False)
    #: Keep a video's run folder after the output is written. On: it is what makes a re-run (more
    #: frames, other output kind) instant, what ``report`` reads, and it holds the finished frames;
    #: ``--no-keep-work`` or ``neuralpaint clean`` remove it (README, "Run folders").
    keep_video_work: bool = option(True, "Keep a video's run folder.", cli=False)
    #: ``--preview``: the page and its image are rewritten at most this often, and the page
    #: reloads itself at this interval (seconds).
    preview_seconds: float = option(3.0, "Seconds between preview updates.", cli=False, positive=True)
    #: Most points of the preview's loss curve (older ones are thinned out beyond it).
    preview_points: int = option(400, "Points of the preview's loss curve.", cli=False, minimum=2)

    def __post_init__(self) -> None:
        check(self)


@dataclass(frozen=True)
class ChunkSettings:
    """``video --chunks N``: one clip rendered as N chains in parallel (:mod:`neuralpaint.chunks`)."""

    PANEL: ClassVar[str] = "Chunks"

    chunks: int = option(1, "Render in N chunks in parallel (one per GPU / Ray task); see docs/sweeps.md.",
                         label="--chunks", minimum=1)
    #: Frames each chain runs past a meeting point (cross-faded over twice this).
    overlap: int = option(8, "With --chunks: frames two chains run past their meeting point (cross-faded over "
                          "twice this).", label="--overlap", minimum=0)
    executor: str = option("local", "With --chunks: local or ray.", choices=EXECUTORS, label="executor")
    address: Optional[str] = option(None, "With --executor ray: the cluster's address \\[default: RAY_ADDRESS, "
                                    "else a local Ray].")
    #: Checked by the executor (``neuralpaint.sweep.executors``), which a sweep shares.
    max_parallel: Optional[int] = option(None, "With --chunks: chunks at once \\[default: one per GPU, else 1].")

    def __post_init__(self) -> None:
        check(self)


def refuse_image_cap(options: Mapping[str, Any]) -> None:
    """A video's options must not hold ``iters``: it caps an image (``ImageSettings.iters``); a
    video's caps are ``first_iters`` and ``later_iters`` (``--iters`` of ``neuralpaint video``).
    Refused in one line rather than ignored, whatever its value."""
    if "iters" in options:
        raise InputError(f"iters={options['iters']!r} caps an image; a video's later frames take later_iters "
                         f"(--iters on the command line) and its first frame first_iters")
