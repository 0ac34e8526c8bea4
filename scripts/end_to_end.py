"""``scripts/bench.py --end-to-end``: ``neuralpaint image`` timed as a whole process against the
plain loop as a whole process (``scripts/plain_loop.py``), same size, iterations and weights, one
evaluation per iteration (``--no-line-search --tol 0``), interleaved repeats, medians.

Then one more ``neuralpaint image`` run under cProfile says where the time went: interpreter and
imports, the VGG build and weights, the style Grams, the content target, the iterations, the final
evaluation, conversions and I/O. cProfile inflates Python-heavy phases (imports most), so the
phase times are shares of that run, shown beside the unprofiled wall times.
"""

from __future__ import annotations

import argparse
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

#: phase -> functions (file suffix, name) whose cumulative time is that phase in the profile
PHASES: dict[str, list[tuple[str, str]]] = {
    "VGG build + weights": [("neuralpaint/vgg.py", "load_vgg")],
    "style Grams": [("neuralpaint/objective.py", "targets")],
    "content target": [("neuralpaint/objective.py", "content_target")],
    "iterations (L-BFGS steps)": [("torch/optim/lbfgs.py", "step")],
    "read images": [("neuralpaint/media/images.py", "load_image")],
    "write image": [("neuralpaint/media/images.py", "save_image")],
}


def add_arguments(ap: argparse.ArgumentParser) -> None:
    g = ap.add_argument_group("--end-to-end")
    g.add_argument("--e2e-size", type=int, default=256)
    g.add_argument("--e2e-iters", type=int, default=50)


def _cli() -> list[str]:
    exe = Path(sys.executable).parent / "neuralpaint"
    return [str(exe)] if exe.exists() else [sys.executable, "-c", "from neuralpaint.cli import run; run()"]


def _timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.strip()[-500:]}")
    return time.perf_counter() - t0


def run(args: argparse.Namespace) -> dict[str, Any]:
    import bench

    from neuralpaint import media

    size, iters, weights = args.e2e_size, args.e2e_iters, args.weights or "random"
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        content, style = bench.make_images(size, bench.torch.device("cpu"))
        media.save_image(d / "content.png", media.tensor_to_image(content))
        media.save_image(d / "style.png", media.tensor_to_image(style))
        ours_args = ["image", str(d / "content.png"), str(d / "style.png"), "-o", str(d / "ours.png"),
                     "--size", str(size), "--iters", str(iters), "--no-line-search", "--tol", "0",
                     "--tv-weight", "0", "--weights", weights, "--device", "cpu", "--quiet"]
        ours = _cli() + ours_args
        weights_file = [] if weights == "random" else ["--weights", _weights_file(weights)]
        plain = [sys.executable, str(ROOT / "scripts" / "plain_loop.py"), str(d / "content.png"),
                 str(d / "style.png"), str(d / "plain.png"), "--size", str(size), "--iters", str(iters)] + weights_file
        startup = [sys.executable, "-c", "import torch"]
        imports = [sys.executable, "-c", "import neuralpaint.cli, neuralpaint.api, neuralpaint.optimize"]
        times: dict[str, list[float]] = {"plain": [], "ours": [], "python + torch import": [],
                                         "python + neuralpaint imports": []}
        for _ in range(args.repeat):
            times["plain"].append(_timed(plain))
            times["ours"].append(_timed(ours))
            times["python + torch import"].append(_timed(startup))
            times["python + neuralpaint imports"].append(_timed(imports))
        profile = _profile(ours_args, d / "prof.out")
    ratios = [o / p for o, p in zip(times["ours"], times["plain"])]
    return {"size": size, "iters": iters, "weights": weights, "repeat": args.repeat,
            "seconds": {k: statistics.median(v) for k, v in times.items()}, "seconds_each": times,
            "ratio": statistics.median(ratios), "ratios": ratios, "profile": profile}


def _weights_file(weights: str) -> str:
    from neuralpaint import vgg

    if weights == "imagenet":
        return str(vgg.cached_path())
    if weights == "hed":
        return str(vgg.hed_weights_path())
    return weights


def _profile(cli_args: list[str], dest: Path) -> dict[str, float]:
    """Phase seconds of one ``neuralpaint image`` process under cProfile (run in a child so the
    imports are counted as a user pays them)."""
    code = ("import cProfile, sys; sys.argv = ['neuralpaint'] + sys.argv[1:]; "
            f"cProfile.run('from neuralpaint.cli import main; main()', {str(dest)!r})")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, *cli_args], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"profiled run failed: {proc.stderr.strip()[-500:]}")
    stats = pstats.Stats(str(dest))
    raw: Any = stats.stats  # type: ignore[attr-defined]  # {(file, line, name): (cc, nc, tt, ct, callers)}
    out: dict[str, float] = {"profiled wall": wall}
    for phase, funcs in PHASES.items():
        out[phase] = sum(v[3] for (file, _, name), v in raw.items()
                         if any(file.endswith(f) and name == n for f, n in funcs))
    out["import torch"] = sum(v[3] for (file, _, name), v in raw.items()
                              if name == "<module>" and file.endswith("torch/__init__.py"))
    # the one no-gradient evaluation after the last step: the objective called by run_scale itself
    out["final evaluation"] = sum(ct for (file, _, name), v in raw.items()
                                  if name == "__call__" and file.endswith("neuralpaint/objective.py")
                                  for (cfile, _, cname), (_, _, _, ct) in v[4].items() if cname == "run_scale")
    out["command (main)"] = sum(v[3] for (file, _, name), v in raw.items()
                                if name == "main" and file.endswith("neuralpaint/cli/__init__.py"))
    return out


def print_result(r: dict[str, Any]) -> None:
    s = r["seconds"]
    print(f"# end to end: `neuralpaint image` vs the plain loop, {r['size']} px, {r['iters']} iterations, "
          f"--no-line-search --tol 0, weights {r['weights']}; medians of {r['repeat']} interleaved processes")
    print(f"plain loop process      {s['plain']:8.2f} s")
    print(f"neuralpaint image       {s['ours']:8.2f} s")
    print(f"ratio (ours ÷ plain)    {r['ratio']:8.2f}   (per repeat: {', '.join(f'{x:.2f}' for x in r['ratios'])})")
    print(f"python + import torch   {s['python + torch import']:8.2f} s")
    print(f"python + our imports    {s['python + neuralpaint imports']:8.2f} s")
    print("# where `neuralpaint image` spends it (one run under cProfile; cumulative seconds):")
    for k, v in r["profile"].items():
        print(f"  {k:<28}{v:8.2f}")
