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
