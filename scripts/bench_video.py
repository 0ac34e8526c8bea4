"""``scripts/bench.py --video``: seconds per finished frame on real footage, with the video-quality
numbers beside them, for named configurations and for a plain reference loop run frame by frame.

Each configuration (``--set NAME:key=value,...``; settings fields, as ``stylize_video`` takes them)
renders the first ``--frames`` frames of ``--clip`` at ``--video-size`` into its own resumable run
folder under ``--out``; the reference (the tutorial loop of ``bench.py``: Gatys per frame from the
content, ``--ref-iters`` fixed iterations, no temporal terms, image clamped in every closure)
renders into ``--out/reference-N/`` with a record per frame, resumable too. Then every version is
measured in one pass (:func:`neuralpaint.quality.quality_reports`, as ``quality_video.py`` does).

Per row: the first frame's iterations and seconds, the later frames' mean iterations, optimisation
seconds and flow wait, the median iteration at which a later frame's loss came (for good) within
1% of its final value (from the per-iteration history in the run folder's manifest), and E_1,
E_1 ÷ the source's, the error inside disoccluded pixels, the unstylised share and sharpness of
the last frame, and the mean style loss of frames 2..n ÷ the reference's.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Optional

import numpy as np
import torch

from neuralpaint import atomic, clipruns, media
from neuralpaint.errors import InputError
from neuralpaint.settings import ImageSettings, ModelSettings

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"


def add_arguments(ap: argparse.ArgumentParser) -> None:
    g = ap.add_argument_group("--video (real footage: seconds per finished frame and quality)")
    g.add_argument("--clip", type=Path, default=DATA / "clip-street", help="a frame folder")
    g.add_argument("--style", type=Path, default=DATA / "styles" / "starry_night.jpg")
    g.add_argument("--frames", type=int, default=12, help="the first N frames of the clip")
    g.add_argument("--video-size", type=int, default=None, help="long side [default: 192; CUDA table: --sizes]")
    g.add_argument("--set", action="append", default=[], metavar="NAME:KEY=VALUE,...", dest="configs",
                   help="a configuration to render (settings fields, e.g. 'new:later_iters=200,window=20'); "
                        "repeat for more rows; 'today:' is the default settings [default: one row 'default']")
    g.add_argument("--ref-iters", type=int, default=None,
                   help="iterations per frame of the reference loop [default: an image's cap, ImageSettings.iters]")
    g.add_argument("--no-reference", action="store_true", help="leave out the reference loop's row")
    g.add_argument("--out", type=Path, default=ROOT / "out" / "bench_video", help="run folders (resumable)")


def parse_config(spec: str) -> tuple[str, dict[str, Any]]:
    """``NAME:key=value,key=value`` -> (NAME, options); values read as JSON where they parse
    (numbers, true/false), else as strings. A spec without ``:`` is named after itself."""
    name, sep, rest = spec.partition(":")
    if not sep:
        name, rest = spec, spec
    opts: dict[str, Any] = {}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise InputError(f"--set {spec!r}: {item!r} is not KEY=VALUE")
        try:
            opts[key.strip().replace("-", "_")] = json.loads(value)
        except ValueError:
            opts[key.strip().replace("-", "_")] = value
    if not name.strip() or "/" in name:
        raise InputError(f"--set {spec!r}: the name before ':' must be a plain word")
    return name.strip(), opts


def frame_folder(clip: Path, n: int, dest: Path) -> Path:
    """The first ``n`` frames of the frame folder ``clip`` copied into ``dest`` (once)."""
    if not dest.exists():
        files = sorted(p for p in clip.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))[:n]
        if not files:
            raise InputError(f"--clip {str(clip)!r} holds no PNG or JPEG frames")
        tmp = dest.with_name(dest.name + ".part")
        tmp.mkdir(parents=True, exist_ok=True)
        for i, f in enumerate(files):
            (tmp / f"frame_{i + 1:05d}{f.suffix.lower()}").write_bytes(f.read_bytes())
        tmp.rename(dest)
    return dest


def reference_run(source: list[np.ndarray], style: Path, out: Path, iters: int, weights: str,
                  device: torch.device) -> tuple[list[np.ndarray], list[Any]]:
    """The tutorial loop frame by frame (resumable: a frame with its PNG and record is kept)."""
    import bench

    from neuralpaint.api import style_tensors
    from neuralpaint.objective import resize

    folder = out / f"reference-{iters}"
    folder.mkdir(parents=True, exist_ok=True)
    rec_path = folder / "records.json"
    records: list[dict[str, Any]] = json.loads(rec_path.read_text()) if rec_path.exists() else []
    image_s = ImageSettings(size=max(source[0].shape[:2]))
    features, border = bench.reference_features(ModelSettings(weights=weights), device)
    # the tutorial needs the style at the content's size (its loss modules see both)
    style_t = style_tensors([media.load_image(style)], image_s.size, image_s.style_scale)[0]
    style_t = resize(style_t, tuple(source[0].shape[:2])).to(device)  # type: ignore[arg-type]
    frames: list[np.ndarray] = []
    for t, frame in enumerate(source):
        path = folder / f"frame_{t + 1:05d}.png"
        if t < len(records) and path.exists():
            frames.append(media.load_image(path))
            continue
        got: dict[str, Any] = {}
        timer = bench.Timer(device)
        _, loss = bench.run_reference(features, media.image_to_tensor(frame, device), style_t, iters,
                                      image_s.style_weight, image_s.content_weight, timer, border, got)
        t_io = time.perf_counter()
        img = media.tensor_to_image(got["image"])
        media.save_image(path, img)
        frames.append(img)
        records[t:] = [{"iterations": iters, "seconds": timer.seconds, "flow_seconds": 0.0, "loss": loss,
                        "io_seconds": time.perf_counter() - t_io, "history": got["history"]}]
        atomic.write_text(rec_path, json.dumps(records))
    return frames, [SimpleNamespace(**r) for r in records]


def bench_clip(args: argparse.Namespace, device: torch.device, size: Optional[int] = None,
               precision: Optional[str] = None) -> dict[str, Any]:
    """Render every configuration (and the reference) and measure them: the rows of the table."""
    from neuralpaint.metrics import LossMeter, SourceFlows
    from neuralpaint.quality import quality_reports

    size = size or args.video_size or 192
    weights = args.weights or "hed"
    out = args.out / f"{size}px-{weights}" / (precision or "default")
    src_dir = frame_folder(args.clip, args.frames, args.out / f"source-{args.frames}")
    source = [media.resize_long_side(media.load_image(p), size) for p in sorted(src_dir.iterdir())]
    configs = [parse_config(s) for s in args.configs] or [("default", {})]
    base = {"size": size, "upscale": True, "weights": weights, "device": str(device)}
    if precision:
        base["precision"] = precision
    rendered: dict[str, tuple[list[np.ndarray], list[Any]]] = {}
    for name, opts in configs:
        frames, records, _ = clipruns.render(src_dir, args.style, out, name, {**base, **opts})
        rendered[name] = (frames, records)
        print(f"[video {size}px] {name}: rendered", file=sys.stderr, flush=True)
    ref_iters = args.ref_iters or ImageSettings().iters
    ref_name = f"reference ({ref_iters} it/frame)"
    if not args.no_reference:
        rendered[ref_name] = reference_run(source, args.style, out, ref_iters, weights, device)
        print(f"[video {size}px] reference: rendered", file=sys.stderr, flush=True)
    flows_src = SourceFlows.estimated(source, "dis", cache_dir=args.out / f".flows-{size}")
    meter = LossMeter(args.style, ModelSettings(weights=weights), ImageSettings(size=size), device=device)
    reports = quality_reports({k: v[0] for k, v in rendered.items()}, source, flows_src, meter, offsets=(1,))
    ref_style = clipruns.mean_later(reports[ref_name].style) if ref_name in reports else None
    rows = []
    for name, (_, records) in rendered.items():
        rep = reports[name]
        style = clipruns.mean_later(rep.style)
        rows.append({"config": name, "options": dict(configs).get(name, {}), "frames": len(records),
                     **clipruns.timing(records),
                     "E1": rep.E[1], "E1_vs_source": rep.ratio(1), "disocc_E1": rep.disoccluded_E[1],
                     "unstylised_last": rep.unstylised_last(25), "sharpness_last": rep.sharpness_last,
                     "style_mean_2_n": style,
                     "style_vs_reference": style / ref_style if style is not None and ref_style else None})
    return {"size": size, "weights": weights, "precision": precision, "frames": len(source),
            "source_E1": next(iter(reports.values())).source_E[1], "rows": rows}


def print_table(v: dict[str, Any]) -> None:
    def f(x: Any, spec: str = ".3g") -> str:
        return "—" if x is None else format(x, spec)

    print(f"\n# video: {v['frames']} frames at {v['size']} px, weights {v['weights']}"
          f"{', ' + v['precision'] if v['precision'] else ''}; source E_1 {f(v['source_E1'])}; "
          f"it→1%: median iteration at which a later frame's loss stays within 1% of its final value; "
          f"caught up: median iteration at which it reached the previous frame's final loss (frames that did)")
    print("| config | first it | first s | later it | later s | flow wait s | it→1% | it→1% ÷ it | caught up | "
          "E_1 | E_1 ÷ source | disocc. E_1 | unstylised last | sharpness last÷first | style 2..n | ÷ ref |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in v["rows"]:
        print(f"| {r['config']} | {f(r.get('first_iters'), '.0f')} | {f(r.get('first_seconds'), '.1f')} | "
              f"{f(r.get('later_iters'), '.0f')} | {f(r.get('later_seconds'), '.1f')} | "
              f"{f(r.get('later_flow_wait'), '.2f')} | {f(r.get('converged_at_median'), '.0f')} | "
              f"{f(r.get('converged_share_median'), '.2f')} | "
              f"{f(r.get('caught_up_median'), '.0f')} ({r.get('caught_up_frames', 0)}/{r['frames'] - 1}) | "
              f"{f(r['E1'])} | {f(r['E1_vs_source'], '.2f')} | "
              f"{f(r['disocc_E1'])} | {f(r['unstylised_last'], '.1%')} | {f(r['sharpness_last'], '.2f')} | "
              f"{f(r['style_mean_2_n'])} | {f(r['style_vs_reference'], '.2f')} |")
