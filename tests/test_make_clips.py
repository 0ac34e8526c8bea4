"""scripts/make_clips.py: synthetic clips with exact ground-truth flows and masks."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

import flows
from neuralpaint import media
from neuralpaint.metrics import SourceFlows, warping_error

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "make_clips.py"


@pytest.fixture(scope="module")
def make_clips():
    spec = importlib.util.spec_from_file_location("make_clips", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_writes_the_clip_frames_flows_and_masks(tmp_path, make_clips, capsys):
    out = tmp_path / "pan"
    code = make_clips.main(["-o", str(out), "--frames", "5", "--size", "64", "--motion", "pan", "--seed", "3",
                            "--offsets", "1,2", "--format", "both"])
    assert code == 0
    assert "5 frames" in capsys.readouterr().out
    info = json.loads((out / "clip.json").read_text())
    assert (info["width"], info["height"], info["frames"]) == (64, 48, 5)
    for name in ["clip.gif", "clip.mp4", *info["files"]["frames"], *info["files"]["flows"], *info["files"]["masks"]]:
        assert (out / name).is_file(), name
    assert len(info["files"]["flows"]) == 2 * (4 + 3) and len(info["files"]["masks"]) == 4 + 3
    gif = media.read_clip(out / "clip.gif")
    assert len(gif.frames) == 5 and gif.durations_ms == [40] * 5 and gif.size == (48, 64)
    assert len(media.read_clip(out / "clip.mp4").frames) == 5

    # the files hold the exact ground truth of flows.synthetic
    clip = flows.synthetic.make_clip(n_frames=5, height=48, width=64, motion="pan", seed=3)
    exact = media.read_clip(out / "frames").frames
    assert all(np.array_equal(a, b) for a, b in zip(exact, clip.frames))
    bw = flows.read_flo(out / "flows" / "backward_00004_2.flo")
    assert np.array_equal(bw, clip.backward_flow(4, 2))
    mask = media.load_image(out / "masks" / "valid_00004_2.png")[..., 0] > 127
    assert np.array_equal(mask, clip.valid_mask(4, 2))

    # DIS on the written GIF is close to the ground truth where it is valid
    for t in range(1, 5):
        est = flows.estimate(gif.frames[t], gif.frames[t - 1])
        gt = flows.read_flo(out / "flows" / f"backward_{t:05d}_1.flo")
        valid = media.load_image(out / "masks" / f"valid_{t:05d}_1.png")[..., 0] > 127
        epe = np.linalg.norm(est - gt, axis=2)[valid]
        assert np.median(epe) < 0.25 and epe.mean() < 0.5, (t, np.median(epe), epe.mean())

    # and the ground truth read back from the files works as metric input
    def backward(t, k):
        return flows.read_flo(out / "flows" / f"backward_{t:05d}_{k}.flo")

    def masks(t, k):
        return media.load_image(out / "masks" / f"valid_{t:05d}_{k}.png")[..., 0] > 127

    res = warping_error(exact, SourceFlows.given(5, (48, 64), backward, masks=masks), (1, 2))
    assert res.E[1] < 1e-4 and res.E[2] < 1e-4


def test_same_seed_same_files_and_options(tmp_path, make_clips):
    args = ["--frames", "3", "--size", "32x24", "--motion", "mixed", "--seed", "7", "--brightness", "0.3"]
    assert make_clips.main(["-o", str(tmp_path / "a"), *args]) == 0
    assert make_clips.main(["-o", str(tmp_path / "b"), *args]) == 0
    for name in ("frames/frame_00003.png", "flows/backward_00002_1.flo", "masks/valid_00002_1.png", "clip.gif"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    frames = media.read_clip(tmp_path / "a" / "frames").frames
    assert frames[2].mean() > frames[0].mean()  # the brightness ramp
    assert not (tmp_path / "a" / "clip.mp4").exists()


def test_bad_arguments(tmp_path, make_clips, capsys):
    with pytest.raises(SystemExit) as exc:
        make_clips.main(["-o", str(tmp_path / "x"), "--motion", "wobble"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit):
        make_clips.main(["-o", str(tmp_path / "x"), "--size", "8"])
    with pytest.raises(SystemExit):
        make_clips.main(["-o", str(tmp_path / "x"), "--offsets", "0"])
    assert "--offsets" in capsys.readouterr().err
