"""Video encoding through PyAV (FFmpeg), and the source's audio carried over.

- Video output: H.264 (libx264, yuv420p, CRF 18, BT.709 tagged, ``+faststart``) in MP4, MOV, MKV
  and AVI; VP9 + Opus in WebM. The source's exact fps (e.g. 30000/1001) is the stream rate. Its
  first audio stream is copied packet for packet when the container can hold the codec, else
  re-encoded (AAC; Opus for WebM); a ``start``/``end`` slice cuts the audio to the same time
  span (to the packet, ~20 ms for AAC).
- H.264 needs even dimensions: odd widths/heights are padded by one replicated edge row/column
  (no content is lost; the output is at most one pixel larger).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from ..atomic import atomic_path, remove_stale_temps
from ..errors import InputError
# H.264 constant rate factor of MP4/MOV/MKV/AVI output, VP9 constant quality of WebM output and
# the ranges --crf accepts: defaults, so they live in settings
from ..settings import H264_CRF, H264_CRF_MAX, VP9_CRF, VP9_CRF_MAX
from .clip import Clip, Encoding, Progress, _clip_durations, _clip_rate, _playable_ms
from .limits import _one_line, _q
from .video import _av, _open_video


def check_crf(path: str, crf: Any) -> None:
    """``--crf``: 0..51 for H.264, 0..63 for WebM's VP9."""
    webm = Path(path).suffix.lower() == ".webm"
    top = VP9_CRF_MAX if webm else H264_CRF_MAX
    if isinstance(crf, bool) or not isinstance(crf, int) or not 0 <= crf <= top:
        raise InputError(f"--crf must be an integer from 0 to {top} for {'VP9 (WebM)' if webm else 'H.264'}, "
                         f"got {crf!r}")


def _pad_even(arr: np.ndarray) -> np.ndarray:
    h, w = arr.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return arr
    return np.pad(arr, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")


def _video_codec(suffix: str, crf: Optional[int] = None) -> tuple[str, dict[str, str], str]:
    """(video codec, its options, audio codec for re-encoding) of an output suffix."""
    if suffix == ".webm":
        return ("libvpx-vp9", {"crf": str(VP9_CRF if crf is None else crf), "b": "0", "row-mt": "1",
                               "deadline": "good", "cpu-used": "4"}, "libopus")
    return "libx264", {"crf": str(H264_CRF if crf is None else crf), "preset": "medium"}, "aac"


def write_video(path: Path, frames: Sequence[np.ndarray], clip: Optional[Clip], enc: Encoding,
                progress: Progress) -> None:
    remove_stale_temps(path)  # left by an encode that was killed (kill -9) before its rename
    rate, audio, crf = enc.rate, enc.audio, enc.crf
    av = _av()
    suffix = path.suffix.lower()
    vcodec, vopts, acodec = _video_codec(suffix, crf)
    n = len(frames)
    # Timing: the override, the source's exact fps, or GIF durations (constant when they all
    # agree, else millisecond timestamps).
    pts_ms: Optional[list[int]] = None
    durations = _clip_durations(clip, n) if rate is None else None
    if rate is None and clip is not None and clip.fps:
        rate = Fraction(clip.fps)
    if rate is None and durations is not None:
        played = [_playable_ms(d) for d in durations]
        if len(set(played)) == 1 or suffix == ".avi":  # AVI has no per-frame timestamps
            rate = Fraction(1000, played[0])
        else:
            rate = Fraction(1000 * n, sum(played))
            pts_ms = [0]
            for d in played[:-1]:
                pts_ms.append(pts_ms[-1] + d)
    if rate is None:
        rate = _clip_rate(clip)
    src_audio = bool(audio and clip is not None and clip.kind == "video" and clip.audio)
    h, w = frames[0].shape[:2]
    options = {"movflags": "+faststart"} if suffix in (".mp4", ".mov") else {}

    try:
        with atomic_path(path) as tmp:
            out = av.open(str(tmp), mode="w", container_options=options)
            src = None
            try:
                vs = out.add_stream(vcodec, rate=rate)
                vs.width, vs.height = w + w % 2, h + h % 2
                vs.pix_fmt = "yuv420p"
                vs.options = vopts
                cc = vs.codec_context
                cc.colorspace = 1        # BT.709 matrix,
                cc.color_primaries = 1   # primaries
                cc.color_trc = 1         # and transfer, tagged
                cc.color_range = 1       # limited ("TV") range
                if pts_ms is not None:
                    # Millisecond timestamps; no B-frames, so that decode order is display order
                    # and the container's sample durations are the frames' own durations.
                    vs.time_base = Fraction(1, 1000)
                    cc.time_base = Fraction(1, 1000)
                    if vcodec == "libx264":
                        vs.options = {**vopts, "bf": "0"}
                audio_plan = None
                if src_audio:
                    assert clip is not None
                    src, audio_plan = _plan_audio(av, clip, out, acodec)
                tb = Fraction(1, 1000) if pts_ms is not None else 1 / rate
                for i, f in enumerate(frames):
                    vf = av.VideoFrame.from_ndarray(_pad_even(f), format="rgb24")
                    vf = vf.reformat(format="yuv420p", dst_colorspace="ITU709", dst_color_range="MPEG")
                    vf.colorspace, vf.color_range = 1, 1
                    vf.pts = pts_ms[i] if pts_ms is not None else i
                    vf.time_base = tb
                    if pts_ms is not None:
                        vf.duration = (pts_ms[i + 1] - pts_ms[i]) if i + 1 < n else _playable_ms(durations[-1])  # type: ignore[index]
                    for pkt in vs.encode(vf):
                        out.mux(pkt)
                    if progress is not None and i + 1 < n:
                        progress(i + 1, n)
                for pkt in vs.encode(None):
                    out.mux(pkt)
                if audio_plan is not None:
                    _copy_audio(av, src, out, audio_plan)
            except BaseException:
                with contextlib.suppress(Exception):
                    out.close()
                raise
            finally:
                if src is not None:
                    with contextlib.suppress(Exception):
                        src.close()
            out.close()
    except InputError:
        raise
    except OSError as exc:  # pragma: no cover - atomic_path turns these into InputError
        raise InputError(f"cannot write video {_q(path)}: {exc.strerror or exc}") from None
    except av.FFmpegError as exc:
        raise InputError(f"cannot write video {_q(path)}: {_one_line(exc)}") from None
    if progress is not None:
        progress(n, n)


@dataclass
class _AudioPlan:
    in_stream: Any
    out_stream: Any
    copy: bool
    window: Optional[tuple[float, float]]  # seconds in the source; None = everything


def _plan_audio(av: Any, clip: Clip, out: Any, acodec: str) -> tuple[Any, Optional[_AudioPlan]]:
    src = _open_video(clip.source)
    if not src.streams.audio:
        return src, None
    ain = src.streams.audio[0]
    whole = clip.first == 1 and clip.source_frames is not None
    window = None if whole else clip.time_range
    name = ain.codec_context.name
    if name in out.supported_codecs:
        aout = out.add_stream_from_template(ain)
        return src, _AudioPlan(ain, aout, True, window)
    rate = ain.codec_context.sample_rate or 48000
    if acodec == "libopus" and rate not in (8000, 12000, 16000, 24000, 48000):
        rate = 48000
    aout = out.add_stream(acodec, rate=rate)
    with contextlib.suppress(Exception):
        aout.layout = ain.codec_context.layout
    return src, _AudioPlan(ain, aout, False, window)


def _copy_audio(av: Any, src: Any, out: Any, plan: _AudioPlan) -> None:
    ain, aout = plan.in_stream, plan.out_stream
    tb = ain.time_base
    offset = 0
    if plan.window is not None and tb:
        offset = int(round(plan.window[0] / tb))
    if plan.copy:
        for pkt in src.demux(ain):
            if pkt.dts is None or pkt.pts is None:
                continue
            if plan.window is not None:
                t = float(pkt.pts * tb)
                if t < plan.window[0] - 1e-6 or t >= plan.window[1]:
                    continue
                pkt.pts -= offset
                pkt.dts -= offset
            pkt.stream = aout
            out.mux(pkt)
        return
    for frame in src.decode(ain):
        if plan.window is not None and frame.time is not None:
            if frame.time < plan.window[0] - 1e-6 or frame.time >= plan.window[1]:
                continue
        frame.pts = None
        for pkt in aout.encode(frame):
            out.mux(pkt)
    for pkt in aout.encode(None):
        out.mux(pkt)


# ---------------------------------------------------------------------------------------------
# identity
