"""``neuralpaint flow``: files written, options, one-line errors with exit status 2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import neuralpaint.media

if not hasattr(neuralpaint.media, "read_clip"):  # pragma: no cover - media is written in parallel
    pytest.skip("neuralpaint.media.read_clip is not there yet", allow_module_level=True)

import neuralpaint.cli.flow  # noqa: E402,F401  (registers the command until commands.py imports it)
from flows import read_flo  # noqa: E402
from flows.synthetic import make_clip  # noqa: E402


@pytest.fixture(scope="module")
def clip_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("clip") / "frames"
    folder.mkdir()
    for i, frame in enumerate(make_clip(n_frames=3, height=32, width=48, motion="pan", seed=0).frames):
        Image.fromarray(frame).save(folder / f"frame_{i + 1:03d}.png")
    return folder


def test_flow_command_writes_the_files(cli, clip_folder: Path, tmp_path: Path):
    out = tmp_path / "flows"
    res = cli("flow", clip_folder, "-o", out, "--offsets", "1,2", "--quiet")
    assert res.code == 0, res
    names = sorted(p.name for p in out.iterdir())
    # numbered like the frames (frame_001.png is frame 1): pairs (2,1), (3,1), (3,2)
    assert "backward_00003_2.flo" in names and "color_00002_1.png" in names
    assert "backward_00001_1.flo" not in names  # frame 1 has no earlier frame
    assert len(names) == 3 * 4  # pairs (1,1), (2,1), (2,2), four files each
    assert read_flo(out / "backward_00003_1.flo").shape == (32, 48, 2)
    assert "wrote 12 files (3 frame pairs, dis)" in res.out
    assert res.err == ""


def test_flow_command_size_and_method(cli, clip_folder: Path, tmp_path: Path):
    out = tmp_path / "f"
    res = cli("flow", clip_folder, "-o", out, "--size", "24", "--method", "farneback")
    assert res.code == 0, res
    assert read_flo(out / "backward_00002_1.flo").shape == (16, 24, 2)
    assert np.asarray(Image.open(out / "reliable_00003_1.png")).shape == (16, 24)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--method", "raft"], r"error: unknown flow method 'raft'; choose one of dis, farneback, deepflow, tvl1"),
        (["--offsets", "1,x"], r"error: --offsets needs comma-separated integers, got '1,x'"),
        (["--offsets", "0"], r"error: --offsets must be positive frame offsets, got 0"),
    ],
)
def test_flow_command_errors(cli, clip_folder: Path, tmp_path: Path, args, message):
    res = cli("flow", clip_folder, "-o", tmp_path / "o", *args)
    assert res.code == 2, res
    import re

    assert re.search(message, res.err), res.err
    assert "Traceback" not in res.err


def test_flow_command_missing_input_and_file_output(cli, clip_folder: Path, tmp_path: Path):
    res = cli("flow", tmp_path / "nope.gif", "-o", tmp_path / "o")
    assert res.code == 2 and "nope.gif" in res.err
    (tmp_path / "file").write_text("x")
    res = cli("flow", clip_folder, "-o", tmp_path / "file")
    assert res.code == 2 and "is a file" in res.err
