"""The report page of one video run folder (``neuralpaint report RUN_DIR``): what the run folder
and its manifest hold (frames, settings, timings, losses), measured against the source, drawn
with the one HTML page builder of :mod:`neuralpaint.htmlpage` (re-exported here: ``report.Page``,
``report.line_plot``, ... for ``compare``, ``--preview`` and a sweep's page).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence, Union

import numpy as np

from . import media, runstate
from .htmlpage import (Page, assets_dir, bar_plot, esc, fmt, grid_image, line_plot, pick_frames,  # noqa: F401
                       quality_section, save_png)

RUN_FORMAT = "neuralpaint-run"


def read_manifest(run_dir: Path) -> dict[str, Any]:
    """The manifest of a run folder; :class:`InputError` for a folder that is not one."""
    import json

    from .errors import InputError

    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise InputError(f"run folder {str(run_dir)!r} does not exist")
    if not run_dir.is_dir():
        raise InputError(f"run folder {str(run_dir)!r} is not a folder (give the --work-dir of a video run)")
    path = run_dir / "manifest.json"
    if not path.is_file():
        raise InputError(f"{str(run_dir)!r} has no manifest.json: it is not a neuralpaint run folder")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"manifest {str(path)!r} is unreadable ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != RUN_FORMAT:
        raise InputError(f"{str(path)!r} is not a neuralpaint run manifest")
    return data


def _recorded_source(manifest: Mapping[str, Any]) -> Optional[Path]:
    """The source clip if the manifest names one (identity.input.path or a top-level source)."""
    ident = manifest.get("identity") if isinstance(manifest.get("identity"), dict) else {}
    inp = ident.get("input") if isinstance(ident.get("input"), dict) else {}
    for value in (inp.get("path"), manifest.get("source"), ident.get("source")):
        if isinstance(value, str) and value:
            return Path(value)
    return None


def run_report(run_dir: Union[str, os.PathLike], output: Union[str, os.PathLike, None] = None,
               source: Union[str, os.PathLike, None] = None, offsets: Sequence[int] = (1,),
               callback: Any = None, style: Union[str, os.PathLike, Sequence[Union[str, os.PathLike]], None] = None
               ) -> Path:
    """Write the HTML page of a video run folder: per-frame iterations, losses, stopping reasons,
    times, plots, frames, and E_k (default E_1) of the frames in ``RUN_DIR/frames`` against the
    source clip — ``source`` if given, else the one the manifest names. When there is no source,
    it is gone, or it is not the clip the run was made from, the page says so instead.
    With the source, the measures of :mod:`neuralpaint.quality` too; their style-loss drift uses
    the run's own style image(s) (``style`` if given, else those the manifest names, checked
    against the run's fingerprints) and the run's VGG and loss settings.
    Written atomically to ``output`` (default ``RUN_DIR/report.html``)."""
    from .metrics import SourceFlows, check_offsets
    from .quality import quality_report
    from .runstate import frame_name

    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir)
    offsets = check_offsets(offsets, "--offsets")
    ident = manifest.get("identity") if isinstance(manifest.get("identity"), dict) else {}
    st = ident.get("settings") if isinstance(ident.get("settings"), dict) else {}
    recs = [r if isinstance(r, dict) else {} for r in (manifest.get("frames") or [])]
    shape = ident.get("frames") if isinstance(ident.get("frames"), list) and len(ident.get("frames")) == 3 else None
    n = int(shape[0]) if shape else len(recs)
    recs = (recs + [{}] * n)[:n]

    stylised: list[Optional[np.ndarray]] = []
    for t in range(n):
        p = run_dir / "frames" / frame_name(t)
        stylised.append(media.load_image(p) if p.is_file() else None)
    done = sum(f is not None for f in stylised)

    page = Page(Path(output) if output is not None else run_dir / "report.html",
                f"neuralpaint run: {run_dir.resolve().name}")
    size_text = f"{shape[2]}x{shape[1]}" if shape else "?"
    page.definitions([
        ("run folder", str(run_dir)),
        ("state", "complete" if manifest.get("complete") else f"incomplete: {done} of {n} frames rendered"),
        ("frames", f"{n} at {size_text}"),
        ("method", _method_text(st)),
        ("settings", ", ".join(f"{k} {st[k]}" for k in ("size", "iters", "first_iters", "optimizer", "weights",
                                                       "style_weight", "content_weight", "temporal_weight", "flow",
                                                       "seed") if k in st)),
    ])
    if st.get("weights") == "random":
        page.note("This run used an untrained VGG-19 (--weights random): its pictures do not resemble the style.")

    # -- the source and the warping error
    src_path = Path(source) if source is not None else _recorded_source(manifest)
    source_frames: Optional[list[np.ndarray]] = None
    werr = None
    quality = None
    if src_path is None:
        page.note("The manifest does not name the source clip (it keeps only its fingerprint), so the warping "
                  "error is not computed; run `neuralpaint report RUN_DIR --source CLIP` to add it.")
    elif not src_path.exists():
        page.note(f"The source clip {src_path} is gone, so the warping error is not computed.")
    else:
        source_frames, why = _load_source(src_path, ident, st, n, shape)
        if source_frames is None:
            page.note(f"The source clip {src_path} {why}; the warping error is not computed.")
        else:
            meter, why_not = _run_meter(manifest, ident, st, style)
            quality = quality_report(stylised, source_frames,
                                     SourceFlows.estimated(source_frames, str(st.get("flow", "dis"))), meter,
                                     offsets=offsets, callback=callback)
            werr = quality.warping
            page.paragraph(f"Source: {src_path}. Warping error with {werr.flow} flows of the source "
                           f"(mean squared difference of [0,1] RGB over the reliable pixels).", cls="muted")
            if meter is None:
                page.note(f"The style-loss drift is not computed: {why_not}.")

    # -- summary
    page.heading("Summary")
    total_it = sum(int(r.get("iterations") or 0) for r in recs)
    secs = [float(r.get("seconds") or 0) for r in recs]
    fsecs = [float(r.get("flow_seconds") or 0) for r in recs]
    iosecs = [float(r.get("io_seconds") or 0) for r in recs]
    reasons: dict[str, int] = {}
    for r in recs:
        if r.get("stop_reason"):
            reasons[str(r["stop_reason"])] = reasons.get(str(r["stop_reason"]), 0) + 1
    summary = [("iterations", total_it), ("iterations per frame", total_it / max(1, done)),
               ("optimisation s", sum(secs)), ("flow wait s", sum(fsecs)), ("I/O s", sum(iosecs)),
               ("s per frame", (sum(secs) + sum(fsecs) + sum(iosecs)) / max(1, done)),
               ("stopping", ", ".join(f"{k} {v}" for k, v in sorted(reasons.items())) or "—")]
    if werr is not None:
        summary += [(f"E_{k}", werr.E.get(k)) for k in werr.offsets]
    page.table(["", "value"], [[k, v] for k, v in summary])
    if quality is not None:
        quality_section(page, {"this run": quality})

    # -- per frame
    page.heading("Frames")
    parts = sorted({k for r in recs for k in (r.get("losses") or {})})
    k0 = offsets[0]
    e_frames = werr.per_frame.get(k0) if werr is not None else None
    rows = []
    for t, r in enumerate(recs):
        losses = r.get("losses") or {}
        row = [str(t + 1), r.get("passes_done"), r.get("iterations"), r.get("loss"),
               *[losses.get(p) for p in parts], r.get("stop_reason") or "—", r.get("seconds"),
               r.get("flow_seconds"), r.get("io_seconds")]
        if werr is not None:
            row.append(e_frames[t] if e_frames else None)
        if quality is not None:
            row += [quality.unstylised[quality.deltas[0]][t], quality.sharpness_drift[t],
                    quality.style_drift[t] if quality.style else None]
        rows.append(row)
    headers = ["frame", "passes", "iterations", "loss", *parts, "stop", "s", "flow s", "I/O s"]
    if werr is not None:
        headers.append(f"E_{k0}")
    if quality is not None:
        headers += [f"unstylised ({quality.deltas[0]}/255)", "sharpness ÷ 1", "style loss ÷ 1"]
    page.table(headers, rows)

    frames_x = list(range(1, n + 1))
    line_plot(page.asset("iterations.png"), {"iterations": (frames_x, [r.get("iterations") for r in recs])},
              title="iterations per frame", xlabel="frame", ylabel="iterations")
    page.image(page.files[-1], "iterations per frame")
    line_plot(page.asset("time.png"), {"optimisation": (frames_x, secs), "flow wait": (frames_x, fsecs),
                                       "I/O": (frames_x, iosecs)},
              title="time per frame", xlabel="frame", ylabel="seconds")
    page.image(page.files[-1], "seconds per frame")
    if parts:
        line_plot(page.asset("losses.png"), {p: (frames_x, [(r.get("losses") or {}).get(p) for r in recs])
                                             for p in parts},
                  title="final weighted loss parts per frame", xlabel="frame", ylabel="loss", logy=True)
        page.image(page.files[-1], "final loss parts per frame")
    picked = pick_frames(n, 4)
    hist = {f"frame {t + 1}": ([p[0] for p in recs[t].get("history") or []],
                               [p[1] for p in recs[t].get("history") or []])
            for t in picked if recs[t].get("history")}
    if hist:
        line_plot(page.asset("loss_history.png"), hist, title="loss per iteration", xlabel="iteration",
                  ylabel="loss", logy=True)
        page.image(page.files[-1], "loss per iteration of a few frames",
                   caption="multi-pass runs: the last pass of each frame")
    if werr is not None:
        line_plot(page.asset("warping_error.png"),
                  {f"E_{k}": (frames_x, werr.per_frame.get(k) or [None] * n) for k in werr.offsets
                   if werr.per_frame.get(k) is not None},
                  title="warping error per frame", xlabel="frame", ylabel="E")
        page.image(page.files[-1], "warping error per frame")

    picked = pick_frames(n, 3)
    if picked and done:
        cols = ["source", "stylised"] if source_frames is not None else ["stylised"]
        grid = [([source_frames[t]] if source_frames is not None else []) + [stylised[t]] for t in picked]
        grid_image(page.asset("frames.png"), grid, cols, [f"frame {t + 1}" for t in picked])
        page.image(page.files[-1], "frames of the run", pixelated=True)
    return page.write()


def _run_meter(manifest: Mapping[str, Any], ident: Mapping[str, Any], st: Mapping[str, Any],
               style: Union[str, os.PathLike, Sequence[Union[str, os.PathLike]], None]) -> tuple[Any, str]:
    """A :class:`~neuralpaint.metrics.LossMeter` with the run's style(s), VGG and loss settings,
    or (None, why not). Never downloads weights: a page is no reason to fetch 550 MB."""
    from . import settings as settings_mod
    from .errors import InputError
    from .metrics import LossMeter
    from .video import _hash_style
    from .vgg import cached_path

    if style is None:
        paths = manifest.get("style_paths")
        if not isinstance(paths, list) or not paths or not all(isinstance(p, str) and p for p in paths):
            return None, "the manifest does not name the style image(s); pass --style"
    else:
        paths = [style] if isinstance(style, (str, os.PathLike)) else list(style)
    recorded = ident.get("styles") if isinstance(ident.get("styles"), list) else []
    if len(paths) != len(recorded):
        return None, f"the run used {len(recorded)} style image(s), {len(paths)} given"
    for p, fingerprint in zip(paths, recorded):
        if not Path(p).is_file():
            return None, f"the style image {p} is gone"
        if _hash_style(Path(p)) != fingerprint:
            return None, f"{p} is not the style image this run used (its fingerprint differs)"
    try:
        image_s = settings_mod.build(settings_mod.ImageSettings, st)
        model_s = settings_mod.build(settings_mod.ModelSettings, st)
        if model_s.weights in ("imagenet", "auto") and not cached_path().exists():
            return None, "the ImageNet VGG-19 file the run used is not cached here"
        return LossMeter([Path(p) for p in paths], model_s, image_s, "auto"), ""
    except (InputError, OSError, TypeError) as exc:
        return None, f"the run's loss network cannot be built here ({exc})"


def _method_text(st: Mapping[str, Any]) -> str:
    bits = []
    if st.get("temporal_init"):
        bits.append("temporal init")
    if st.get("long_term"):
        bits.append(f"long-term loss (offsets {st.get('offsets')})")
    elif st.get("short_term"):
        bits.append("short-term loss")
    if (st.get("passes") or 1) > 1:
        bits.append(f"{st.get('passes')} passes")
    return ", ".join(bits) or "independent frames"


def _load_source(path: Path, ident: Mapping[str, Any], st: Mapping[str, Any], n: int,
                 shape: Optional[Sequence[int]]) -> tuple[Optional[list[np.ndarray]], str]:
    """The source frames as the run saw them, or (None, why not)."""
    from .errors import InputError

    recorded = ident.get("input") if isinstance(ident.get("input"), dict) else {}
    try:
        now = runstate.file_identity(path)
    except InputError as exc:
        return None, f"cannot be read ({exc})"
    for key in ("size", "sha256"):
        if key in recorded and recorded.get(key) != now.get(key):
            return None, "is not the clip this run was made from (its fingerprint differs)"
    size = st.get("size") if isinstance(st.get("size"), int) else None
    if shape:  # the long side the run actually worked at (--size is a cap unless given explicitly)
        size = max(int(shape[1]), int(shape[2]))
    try:
        clip = media.read_clip(path, size=size, start=st.get("start"), end=st.get("end"))
    except InputError as exc:
        return None, f"cannot be read ({exc})"
    if len(clip.frames) != n:
        return None, f"has {len(clip.frames)} frames, the run {n}"
    if shape and tuple(clip.frames[0].shape[:2]) != (int(shape[1]), int(shape[2])):
        return None, f"reads at {clip.frames[0].shape[1]}x{clip.frames[0].shape[0]}, the run was {shape[2]}x{shape[1]}"
    return clip.frames, ""


__all__ = ["Page", "esc", "fmt", "assets_dir", "line_plot", "bar_plot", "grid_image", "save_png", "pick_frames",
           "quality_section", "read_manifest", "run_report"]
