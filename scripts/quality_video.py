#!/usr/bin/env python3
"""Video quality at small and default iteration budgets, on real footage.

Renders ``../shared/data/clip-street`` (12 frames, long side 192 px by default) with the naive
per-frame baseline (``--no-temporal-init --no-short-term``), the default method and
``--long-term``, at caps 30/60 (later/first frame) and at the defaults, with trained features
(``--weights hed``; ``auto`` picks them where ImageNet VGG-19 is not cached), and prints the
table of the video-quality issue:

- init loss ratio: loss at the frame's init ÷ the previous frame's final loss (median, 2..n);
- E_1 and its ratio to naive; error inside disoccluded pixels and its ratio to naive;
- unstylised share of the last frame (pixels within 25/255 of the photograph);
- sharpness of the last frame ÷ the first's (mean |Laplacian| of the luminance);
- mean style loss of frames 2..n ÷ the naive run's;
- long-term E_1 ÷ the source video's own E_1;
- seconds and iterations per later frame.

Runs are resumable: each configuration renders into its own run folder under ``--out``, so a
second call only measures. ``--fills`` adds rows for the init fills of ``--init-fill``.

    python scripts/quality_video.py --budgets small            # ~10 min on 2 CPU cores
    python scripts/quality_video.py --budgets small,default --json out/quality.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from neuralpaint import media  # noqa: E402
from neuralpaint.clipruns import caught_up, from_run_folder, init_ratios, init_vs_naive, mean_later, render  # noqa: E402
from neuralpaint.quality import quality_reports  # noqa: E402
from neuralpaint.metrics import LossMeter, SourceFlows  # noqa: E402
from neuralpaint.settings import ImageSettings, ModelSettings  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
METHODS = {
    "naive": dict(temporal_init=False, short_term=False),
    "default": {},
    "long-term": dict(long_term=True),
}
BUDGETS = {"small": dict(later_iters=30, first_iters=60), "default": {}}


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def init_vs_output(records: list[Any], style: list[Any]) -> list[float]:
    """Loss at the init of frame t ÷ the style loss of frame t−1's *output* (the 8-bit frame the
    user sees, measured with the same weights). The optimiser's final loss is that of its float
    result, which leaves [0, 1] in ~2% of its values; the output clips them, and its loss is
    then 10–400× the float result's (docs/metrics.md): this ratio compares the init with what
    the previous frame actually showed."""
    return [rec.history[0][1] / s for rec, s in zip(records[1:], style[:-1])
            if rec.history and rec.history[0][0] == 1 and s]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clip", type=Path, default=DATA / "clip-street")
    ap.add_argument("--style", type=Path, default=DATA / "styles" / "starry_night.jpg")
    ap.add_argument("--frames", type=int, default=12)
    ap.add_argument("--size", type=int, default=192)
    ap.add_argument("--weights", default="hed")
    ap.add_argument("--budgets", default="small", help="comma list of: small (caps 30/60), default")
    ap.add_argument("--methods", default="naive,default,long-term")
    ap.add_argument("--fills", default="", help="extra rows: default method with these --init-fill values")
    ap.add_argument("--temporal-weights", default="",
                    help="extra rows: default method with these --temporal-weight values")
    ap.add_argument("--extra", action="append", default=[], metavar="NAME=RUN_FOLDER",
                    help="also measure a run rendered elsewhere (e.g. by an older version) from its run "
                         "folder's frames and manifest; rows of the first budget")
    ap.add_argument("--out", type=Path, default=ROOT / "out" / "quality_video")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)

    args.out.mkdir(parents=True, exist_ok=True)
    frames_dir = args.out / "source"
    if not frames_dir.exists():  # the first N frames, as a frame folder
        frames_dir.mkdir()
        for i, f in enumerate(sorted(args.clip.glob("*.png"))[: args.frames]):
            (frames_dir / f"frame_{i + 1:05d}.png").write_bytes(f.read_bytes())
    source_full = [media.load_image(p) for p in sorted(frames_dir.glob("*.png"))]
    source = [media.resize_long_side(f, args.size) for f in source_full]
    flows_src = SourceFlows.estimated(source, "dis", cache_dir=args.out / ".flows")
    meter = LossMeter(args.style, ModelSettings(weights=args.weights), ImageSettings(size=args.size))

    rows: list[dict[str, Any]] = []
    for budget in args.budgets.split(","):
        configs = [(m, METHODS[m]) for m in args.methods.split(",") if m]
        configs += [(f"fill={f}", dict(init_fill=f)) for f in args.fills.split(",") if f]
        configs += [(f"tw={w}", dict(temporal_weight=float(w))) for w in args.temporal_weights.split(",") if w]
        rendered: dict[str, tuple[list[np.ndarray], list[Any]]] = {}
        for name, opts in configs:
            frames, records, secs = render(frames_dir, args.style, args.out, f"{budget}-{name}",
                                           {**BUDGETS[budget], **opts, "size": args.size, "weights": args.weights})
            rendered[name] = (frames, records)
            print(f"[{budget}] {name}: done in {secs:.0f}s", file=sys.stderr, flush=True)
        if budget == args.budgets.split(",")[0]:
            for spec in args.extra:
                name, _, folder = spec.partition("=")
                rendered[name] = from_run_folder(Path(folder))
        reports = quality_reports({k: v[0] for k, v in rendered.items()}, source, flows_src, meter, offsets=(1,))
        results = {k: (reports[k], rendered[k][1]) for k in rendered}
        naive = results.get("naive")
        source_E1 = next(iter(reports.values())).source_E[1]
        for name, (rep, records) in results.items():
            later = records[1:]
            ratios = init_ratios(records)
            ahead = init_vs_naive(records, naive[1]) if naive else []
            back = [c for c in caught_up(records) if c is not None]
            row = {
                "budget": budget, "method": name,
                "init_loss_ratio_median": statistics.median(ratios) if ratios else None,
                "init_vs_naive_final_median": statistics.median(ahead) if ahead else None,
                "caught_up_median": statistics.median(back) if back else None,
                "caught_up_frames": f"{len(back)}/{len(later)}",
                "init_vs_prev_output_median": (statistics.median(init_vs_output(records, rep.style))
                                               if rep.style and init_vs_output(records, rep.style) else None),
                "E1": rep.E[1], "E1_vs_naive": rep.E[1] / naive[0].E[1] if naive else None,
                "disocc": rep.disoccluded_E[1],
                "disocc_vs_naive": rep.disoccluded_E[1] / naive[0].disoccluded_E[1] if naive else None,
                "unstylised_last": rep.unstylised_last(25),
                "unstylised_last_naive": naive[0].unstylised_last(25) if naive else None,
                "sharpness_last": rep.sharpness_last,
                "style_mean_2_n": mean_later(rep.style),
                "style_vs_naive": _ratio(mean_later(rep.style), mean_later(naive[0].style)) if naive else None,
                "E1_vs_source": rep.ratio(1),
                "iters_per_later_frame": statistics.mean(r.iterations for r in later) if later else None,
                "seconds_per_later_frame": statistics.mean(r.seconds for r in later) if later else None,
            }
            rows.append(row)

    def f(v: Any, spec: str = ".3g") -> str:
        return "—" if v is None else format(v, spec)

    print(f"\n# clip {args.clip.name}, {len(source)} frames, long side {args.size}, "
          f"weights {args.weights}, "
          f"style {args.style.name}; source E_1 {source_E1:.3g}")
    print("| budget | method | init loss ÷ prev final | init ÷ prev output | init loss ÷ naive final | "
          "caught up at (frames) | E_1 | ÷ naive | "
          "disocc. err ÷ naive | unstylised last (naive) | sharpness last÷first | style 2..n ÷ naive | "
          "E_1 ÷ source | it/frame | s/frame |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['budget']} | {r['method']} | {f(r['init_loss_ratio_median'])} | "
              f"{f(r['init_vs_prev_output_median'])} | "
              f"{f(r['init_vs_naive_final_median'])} | "
              f"{f(r['caught_up_median'], '.0f')} ({r['caught_up_frames']}) | {f(r['E1'])} | "
              f"{f(r['E1_vs_naive'], '.2f')} | {f(r['disocc_vs_naive'], '.2f')} | "
              f"{f(r['unstylised_last'], '.1%')} ({f(r['unstylised_last_naive'], '.1%')}) | "
              f"{f(r['sharpness_last'], '.2f')} | {f(r['style_vs_naive'], '.2f')} | {f(r['E1_vs_source'], '.2f')} | "
              f"{f(r['iters_per_later_frame'], '.0f')} | {f(r['seconds_per_later_frame'], '.1f')} |")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "source_E1": source_E1}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
