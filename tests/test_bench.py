"""scripts/bench.py runs end to end and reports ratios (no timing thresholds here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_prints_ratio_and_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench.py"), "--device", "cpu", "--size", "32",
                           "--iters", "2", "--warmup", "0", "--repeat", "2", "--ablate", "--json", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "faster per iteration than the reference" in proc.stdout
    data = json.loads(out.read_text())
    img = data["image"]
    assert img["size"] == [24, 32]
    assert img["reference"]["ms_per_iter"] > 0
    variants = {r["variant"] for r in img["rows"]}
    assert variants == {"ours", "ours, NCHW"}
    assert len(img["reference"]["ms_per_iter_each"]) == 2
    for row in img["rows"]:
        assert row["speedup"] > 0 and row["tflops"] > 0
        # the ratio is the median of the per-repeat ratios (interleaved runs), the speedup its inverse
        each = [t / r for t, r in zip(row["ms_per_iter_each"], img["reference"]["ms_per_iter_each"])]
        assert abs(row["ratio"] - sum(each) / 2) < 1e-9
        assert abs(row["speedup"] * row["ratio"] - 1.0) < 1e-9


def test_reference_and_ours_start_from_the_same_loss():
    """The benchmark compares like with like: same objective at the same starting image."""
    import torch

    sys.path.insert(0, str(ROOT / "scripts"))
    import bench
    from neuralpaint.objective import LossWeights, Objective
    from neuralpaint.optimize import Stylizer
    from neuralpaint.settings import ImageSettings, ModelSettings, RuntimeSettings

    content, style = bench.make_images(48, torch.device("cpu"))
    model, cls, sls = bench.reference_model(bench.vggmod.random_features("max", 0), content, style)
    model(content)
    ref = sum(s.loss for s in sls) * 1e6 + sum(c.loss for c in cls)
    st = Stylizer.create([style], ImageSettings(size=48, tv_weight=0.0), ModelSettings(weights="random"),
                        RuntimeSettings(), torch.device("cpu"))
    ours, _ = Objective(st.vgg, LossWeights.of(st.settings), st.bank.targets(48), content)(content)
    assert abs(float(ours) - float(ref.detach())) <= 1e-4 * float(ref.detach())


def _tiny_clip(folder: Path) -> tuple[Path, Path]:
    import numpy as np

    from flows import synthetic
    from neuralpaint import media

    clip = synthetic.make_clip(n_frames=3, height=36, width=48, motion="mixed", seed=0)
    (folder / "clip").mkdir()
    for i, f in enumerate(clip.frames):
        media.save_image(folder / "clip" / f"frame_{i + 1:03d}.png", f)
    style = folder / "style.png"
    media.save_image(style, (np.random.default_rng(0).random((40, 40, 3)) * 255).astype(np.uint8))
    return folder / "clip", style


def test_video_table_has_speed_and_quality_rows_for_each_configuration_and_the_reference(tmp_path):
    clip, style = _tiny_clip(tmp_path)
    out = tmp_path / "bench.json"
    cmd = [sys.executable, str(ROOT / "scripts" / "bench.py"), "--device", "cpu", "--video", "--weights", "random",
           "--clip", str(clip), "--style", str(style), "--frames", "3", "--video-size", "48",
           "--set", "today:later_iters=6,first_iters=8,window=3", "--set", "short:later_iters=3,first_iters=8,window=3",
           "--ref-iters", "4", "--out", str(tmp_path / "runs"), "--json", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "| today |" in proc.stdout and "| short |" in proc.stdout and "| reference (4 it/frame) |" in proc.stdout
    rows = {r["config"]: r for r in json.loads(out.read_text())["video"]["rows"]}
    assert set(rows) == {"today", "short", "reference (4 it/frame)"}
    assert rows["today"]["options"] == {"later_iters": 6, "first_iters": 8, "window": 3}
    for name, cap in (("today", 6), ("short", 3), ("reference (4 it/frame)", 4)):
        r = rows[name]
        assert r["frames"] == 3
        assert 1 <= r["later_iters"] <= cap
        assert all(c is not None and 1 <= c <= cap for c in r["converged_at"])  # from per-iteration histories
        assert r["E1"] is not None and r["E1"] >= 0 and r["style_mean_2_n"] > 0
    assert rows["reference (4 it/frame)"]["style_vs_reference"] == 1.0
    assert rows["reference (4 it/frame)"]["first_iters"] == 4
    # the run folder's manifest holds one history entry per iteration of every frame
    manifest = json.loads((tmp_path / "runs" / "48px-random" / "default" / ".today.run" / "manifest.json").read_text())
    for rec in manifest["frames"]:
        assert [int(i) for i, _ in rec["history"]] == list(range(1, rec["iterations"] + 1))
    # a second call resumes every run folder: same frames, same records
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert {r["config"]: r["converged_at"] for r in json.loads(out.read_text())["video"]["rows"]} == \
        {k: r["converged_at"] for k, r in rows.items()}


def test_cuda_device_without_a_gpu_fails_with_one_line():
    import torch

    if torch.cuda.is_available():
        return
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench.py"), "--device", "cuda", "--device-table"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --device cuda requested but no CUDA GPU")


def test_converged_at_is_the_first_iteration_inside_the_band_for_good():
    from neuralpaint.clipruns import converged_at

    history = [[1, 100.0], [2, 10.0], [3, 1.005], [4, 1.5], [5, 1.009], [6, 1.0]]
    assert converged_at(history) == 5  # iteration 3 dipped inside and left again
    assert converged_at([[1, 5.0], [3, 5.0]]) == 1
    assert converged_at([]) is None


def test_caught_up_is_the_first_iteration_at_or_below_the_previous_frames_final_loss():
    from types import SimpleNamespace as R

    from neuralpaint.clipruns import caught_up

    records = [R(loss=10.0, history=[[1, 900.0], [500, 10.0]]),
               R(loss=4.0, history=[[1, 50.0], [20, 12.0], [40, 10.0], [60, 4.0]]),
               R(loss=8.0, history=[[1, 30.0], [50, 8.0]]),  # never reached 4.0
               R(loss=None, history=[]),  # not rendered
               R(loss=1.0, history=[[1, 1.0]])]  # nothing to compare with
    assert caught_up(records) == [40, None, None, None]


def test_device_table_puts_image_and_video_numbers_of_each_size_and_precision_in_one_row(capsys):
    sys.path.insert(0, str(ROOT / "scripts"))
    import bench

    image = {"size": [192, 256], "rows": [{"precision": "fp32", "ms_per_iter": 5.0, "ratio": 0.5},
                                          {"precision": "bf16", "ms_per_iter": 2.0, "ratio": 0.2}]}
    video = {"size": 256, "precision": "bf16", "rows": [{"later_seconds": 0.25, "later_iters": 40.0,
                                                         "first_seconds": 1.5}]}
    bench.device_table({"images": [image], "videos": [video]})
    lines = capsys.readouterr().out.splitlines()
    assert "| 256 | fp32 | 5.0 | 0.50 | — | — | — |" in lines  # no video measured: empty cells
    assert "| 256 | bf16 | 2.0 | 0.20 | 0.25 | 40 | 1.50 |" in lines
