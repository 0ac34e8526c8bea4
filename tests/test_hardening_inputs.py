"""Hardening, round 2, through the real CLI: no command writes over what it reads, every input
is checked before a run folder or output exists, size limits apply to the decoded size, a
damaged run folder names its file and the way out, broken models never give a silent black
picture. Each test is a case of an outside battery that failed before it was fixed.
"""

from __future__ import annotations

import hashlib
import os
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from mediautil import distinct_frame, write_gif
from neuralpaint.fast.checkpoint import save_checkpoint
from neuralpaint.fast.network import TransformNet

FAST = ["--weights", "random", "--size", "16", "--optimizer", "adam", "--iters", "1", "-q"]
VFAST = FAST + ["--first-iters", "1"]


def error_line(r) -> str:
    assert r.code == 2, r
    assert "Traceback" not in r.err + r.out, r
    lines = [ln for ln in r.err.splitlines() if ln.strip() and not ln.startswith("notice:")]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.err
    return lines[0]


def digest(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too) -> its SHA-256: "nothing was touched"."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def work(tmp_path) -> Path:
    """shots/ (3 frames), look/frame_00001.png (a style), clip.gif (3 frames), clip4.gif (4),
    style.png, broken.png (a truncated PNG), out/ (empty)."""
    (tmp_path / "shots").mkdir()
    for i in range(3):
        Image.fromarray(distinct_frame(i, 16, 16)).save(tmp_path / "shots" / f"frame_{i + 1:05d}.png")
    (tmp_path / "look").mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((16, 16, 3)) * 255).astype(np.uint8)).save(tmp_path / "look" / "frame_00001.png")
    Image.fromarray((rng.random((16, 16, 3)) * 255).astype(np.uint8)).save(tmp_path / "style.png")
    write_gif(tmp_path / "clip.gif", [distinct_frame(i, 16, 16) for i in range(3)], [60] * 3)
    write_gif(tmp_path / "clip4.gif", [distinct_frame(i, 16, 16) for i in range(4)], [60] * 4)
    (tmp_path / "broken.png").write_bytes((tmp_path / "style.png").read_bytes()[:60])
    (tmp_path / "out").mkdir()
    return tmp_path


# ----------------------------------------------------------------------------------------------
# 1-2: an output never overwrites an input, nor lands in an input folder
# ----------------------------------------------------------------------------------------------

def test_folder_output_does_not_overwrite_the_input_frame(cli, work, monkeypatch):
    monkeypatch.chdir(work)
    before = digest(work)
    line = error_line(cli("video", "shots/frame_00001.png", "style.png", "-o", "shots/", *VFAST))
    assert re.search(r"refusing to write 'shots.*frame_00001\.png': it is the input", line), line
    assert digest(work) == before  # nothing written, no run folder


def test_folder_output_does_not_overwrite_the_style(cli, work, monkeypatch):
    monkeypatch.chdir(work)
    before = digest(work)
    line = error_line(cli("video", "clip.gif", "look/frame_00001.png", "-o", "look/", *VFAST))
    assert re.search(r"refusing to write 'look.*frame_00001\.png': it is the style image", line), line
    assert digest(work) == before
    assert not (work / ".look.neuralpaint").exists()


def test_flow_output_inside_the_input_folder_is_refused(cli, work):
    before = sorted(p.name for p in (work / "shots").iterdir())
    line = error_line(cli("flow", work / "shots", "-o", work / "shots", "-q"))
    assert re.search(r"refusing to write '.*shots': it is the input", line), line
    line = error_line(cli("flow", work / "shots", "-o", work / "shots" / "flows", "-q"))
    assert re.search(r"lies inside the input folder '.*shots'", line), line
    assert sorted(p.name for p in (work / "shots").iterdir()) == before


def test_outputs_inside_an_input_folder_are_refused(cli, work):
    before = digest(work)
    line = error_line(cli("train", work / "style.png", "--data", work / "shots", "-o", work / "shots" / "m.pt",
                          "--weights", "random", "--steps", "1", "-q"))
    assert re.search(r"m\.pt': it lies inside the input folder '.*shots'", line), line
    line = error_line(cli("video", work / "shots", work / "style.png", "-o", work / "shots" / "x.gif", *VFAST))
    assert "lies inside the input folder" in line, line
    assert digest(work) == before


# ----------------------------------------------------------------------------------------------
# 3: every input is read and checked before a run folder exists
# ----------------------------------------------------------------------------------------------

def test_bad_style_leaves_no_run_folder_to_block_the_fix(cli, work):
    out = work / "out"
    line = error_line(cli("video", work / "clip.gif", work / "broken.png", "-o", out / "x.gif", *VFAST))
    assert "broken.png" in line and "truncated" in line, line
    assert list(out.iterdir()) == []
    (work / "broken.png").write_bytes((work / "style.png").read_bytes())  # the user repairs it
    r = cli("video", work / "clip.gif", work / "broken.png", "-o", out / "x.gif", *VFAST)
    assert r.code == 0, r


def test_bomb_style_and_bad_weights_leave_no_run_folder(cli, work, tmp_path):
    out = work / "out"
    bomb = work / "bomb.png"
    big = Image.new("1", (12000, 12000))  # 144 MP declared, a few kB on disk
    big.save(bomb)
    line = error_line(cli("video", work / "clip.gif", bomb, "-o", out / "x.gif", *VFAST))
    assert "pixels is more than the limit" in line, line
    torch.save({"features.0.weight": torch.zeros(64, 3, 5, 5)}, work / "w.pth")
    args = [a for a in VFAST if a not in ("--weights", "random")]
    line = error_line(cli("video", work / "clip.gif", work / "style.png", "-o", out / "x.gif",
                          "--weights", work / "w.pth", *args))
    assert "w.pth" in line, line
    line = error_line(cli("video", work / "clip4.gif", work / "style.png", "-o", out / "x.gif",
                          "--chunks", "2", "--weights", work / "w.pth", *args))
    assert "w.pth" in line, line
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("extra, pattern", [
    (["--max-parallel", "0"], r"--max-parallel must be a positive integer, got 0"),
    (["--executor", "slurm"], r"unknown executor 'slurm'"),
])
def test_chunks_with_a_bad_executor_leave_no_work_folder(cli, work, extra, pattern):
    out = work / "out"
    line = error_line(cli("video", work / "clip4.gif", work / "style.png", "-o", out / "x.gif",
                          "--chunks", "2", *extra, *VFAST))
    assert re.search(pattern, line), line
    assert list(out.iterdir()) == []


def test_compare_with_a_refused_model_leaves_nothing(cli, work):
    (work / "bad.pt").write_text("not a model")
    line = error_line(cli("compare", work / "clip.gif", work / "style.png", "-o", work / "cmp",
                          "--methods", "fast", "--fast-model", work / "bad.pt", *FAST))
    assert "bad.pt" in line, line
    assert not (work / "cmp").exists()


# ----------------------------------------------------------------------------------------------
# 4: size limits apply to the decoded size
# ----------------------------------------------------------------------------------------------

def _y4m(path: Path, w: int, h: int, sar: str, frames: int = 3) -> None:
    head = f"YUV4MPEG2 W{w} H{h} F25:1 Ip A{sar} C420jpeg\n".encode()
    plane = bytes(w * h) + bytes([128]) * (w * h // 2)
    path.write_bytes(head + b"".join(b"FRAME\n" + plane for _ in range(frames)))


def test_pixel_aspect_ratio_counts_toward_the_pixel_limit(cli, work):
    clip = work / "wide.y4m"
    _y4m(clip, 40, 40, "65535:1", frames=2)
    assert clip.stat().st_size < 6000
    line = error_line(cli("video", clip, work / "style.png", "-o", work / "out" / "x.gif", *VFAST))
    assert re.search(r"wide\.y4m'.*2621400x40 pixels is more than the limit of 100 MP", line), line
    line = error_line(cli("flow", clip, "-o", work / "out" / "f", "-q"))
    assert "2621400x40 pixels" in line, line
    assert list((work / "out").iterdir()) == []


def test_style_scale_counts_toward_the_size_limit(cli, work):
    # (written with its fix: before it, this asked for a 32000x32000 style tensor, 12 GB)
    line = error_line(cli("image", work / "style.png", work / "style.png", "-o", work / "out" / "x.png",
                          *FAST, "--style-scale", "2000"))
    assert re.search(r"style-scale 2000\.0 at size 16 would paint the style at 32000 px, more than the "
                     r"limit of 16384", line), line
    assert list((work / "out").iterdir()) == []


# ----------------------------------------------------------------------------------------------
# 5 and 8: a damaged run folder names the file and the way out; absurd seeds
# ----------------------------------------------------------------------------------------------

@pytest.fixture
def rendered(cli, work) -> tuple[list[str], Path]:
    """A finished 3-frame render: (its command line, its run folder)."""
    argv = ["video", str(work / "clip.gif"), str(work / "style.png"), "-o", str(work / "out" / "x.gif"), *VFAST]
    r = cli(*argv)
    assert r.code == 0, r
    return argv, work / "out" / ".x.gif.neuralpaint"


def test_damaged_finished_frame_is_named(cli, rendered):
    argv, run = rendered
    frame = run / "frames" / "frame_00002.png"
    Image.new("RGB", (10, 10)).save(frame)
    (run.parent / "x.gif").unlink()
    line = error_line(cli(*argv))
    assert re.search(r"frame_00002\.png' is 10x10, the run's frames are 16x16", line), line
    assert "--restart" in line and "delete" in line, line
    frame.unlink()  # the way out the message gives: that frame is rendered again
    r = cli(*argv)
    assert r.code == 0, r
    assert Image.open(frame).size == (16, 16)


@pytest.mark.parametrize("state, pattern", [
    (np.zeros((5, 5, 3), np.float32), r"has shape \(5, 5, 3\), the run's frames need \(16, 16, 3\)"),
    (np.full((16, 16, 3), np.nan, np.float32), r"holds NaN or infinite values"),
])
def test_damaged_float_state_is_named(cli, rendered, state, pattern):
    argv, run = rendered
    np.save(run / "state" / "raw_00001.npy", state)
    for name in ("frames/frame_00002.png", "state/raw_00002.npy"):
        (run / name).unlink()  # frame 2 is rendered again from frame 1's float state
    line = error_line(cli(*argv))
    assert re.search(pattern, line) and "raw_00001.npy" in line and "--restart" in line, line
    assert "--style-weight" not in line, line


def test_seed_beyond_64_bits(cli, work):
    line = error_line(cli("image", work / "style.png", work / "style.png", "-o", work / "out" / "x.png",
                          *FAST, "--seed", str(2 ** 64)))
    assert re.search(r"seed must be <= 18446744073709551615, got 18446744073709551616", line), line
    assert list((work / "out").iterdir()) == []


# ----------------------------------------------------------------------------------------------
# 6: sweep weights paths are relative to the TOML, checked up front
# ----------------------------------------------------------------------------------------------

def test_sweep_weights_path_is_relative_to_the_toml(work, monkeypatch, capsys):
    from neuralpaint.sweep import config
    from neuralpaint.sweep.cli import main as sweep_main
    from neuralpaint.vgg import random_features

    sub = work / "sweeps"
    sub.mkdir()
    torch.save(random_features("max", 0).state_dict(), sub / "vgg.pth")
    (sub / "text.pth").write_text("not weights")
    toml = sub / "s.toml"
    body = 'inputs = ["../style.png"]\n[options]\nsize = 16\n'
    toml.write_text(body + 'weights = "vgg.pth"\n')
    monkeypatch.chdir(work)  # not the TOML's folder
    sweep = config.load(toml)
    assert sweep.runs[0].options["weights"] == str((sub / "vgg.pth").resolve())
    toml.write_text(body + '[grid]\nweights = ["random", "text.pth"]\n')
    code = sweep_main([str(toml), "-o", str(work / "sw")])
    err = capsys.readouterr().err
    assert code == 2 and re.search(r"s\.toml: grid\.weights\[1\]: refused to load weights file '.*sweeps/text\.pth'",
                                   err), err
    assert not (work / "sw").exists()


# ----------------------------------------------------------------------------------------------
# 7 and 8: models and weights are checked for non-finite values; flat results are errors
# ----------------------------------------------------------------------------------------------

def _model(path: Path, edit=None) -> Path:
    net = TransformNet(1)
    if edit is not None:
        edit(net)
    save_checkpoint(path, net, {"size": 16}, step=1)
    return path


def test_nan_fast_model_is_refused(cli, work):
    def nan(net):
        with torch.no_grad():
            next(net.parameters()).view(-1)[0] = float("nan")
    model = _model(work / "nan.pt", nan)
    line = error_line(cli("image", work / "style.png", "--fast", model, "-o", work / "out" / "x.png", "-q"))
    assert re.search(r"fast model '.*nan\.pt'.* NaN or infinite", line), line
    line = error_line(cli("video", work / "clip.gif", "--fast", model, "-o", work / "out" / "x.gif", "-q"))
    assert "NaN or infinite" in line, line
    assert list((work / "out").iterdir()) == []


def test_fast_model_that_paints_black_is_an_error(cli, work):
    def black(net):
        with torch.no_grad():
            for p in net.parameters():
                p.zero_()
            last = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)][-1]
            last.bias.fill_(-100.0)  # sigmoid(-100): every pixel 0
    model = _model(work / "black.pt", black)
    line = error_line(cli("video", work / "clip.gif", "--fast", model, "-o", work / "out" / "x.gif", "-q"))
    assert re.search(r"black\.pt'.* one flat colour", line), line
    line = error_line(cli("image", work / "style.png", "--fast", model, "-o", work / "out" / "x.png", "-q"))
    assert "one flat colour" in line, line
    assert list((work / "out").iterdir()) == []


def test_nan_vgg_weights_are_refused_on_load(cli, work):
    torch.save({"features.0.weight": torch.full((64, 3, 3, 3), float("nan"))}, work / "nan.pth")
    args = [a for a in FAST if a not in ("--weights", "random")]
    line = error_line(cli("image", work / "style.png", work / "style.png", "-o", work / "out" / "x.png",
                          "--weights", work / "nan.pth", *args))
    assert re.search(r"weights file '.*nan\.pth'.*features\.0\.weight.* NaN or infinite", line), line
    assert "--style-weight" not in line
    assert list((work / "out").iterdir()) == []


def test_torch_pickle_warning_stays_out_of_the_error(cli, work):
    torch.save({"a": torch.zeros(2)}, work / "p4.pt", pickle_protocol=4)
    with warnings.catch_warnings(record=True) as caught:  # printed on stderr outside pytest
        warnings.simplefilter("always")
        r = cli("image", work / "style.png", "--fast", work / "p4.pt", "-o", work / "out" / "x.png", "-q")
    line = error_line(r)
    assert "p4.pt" in line, line
    assert [str(w.message) for w in caught if "pickle" in str(w.message)] == []


# ----------------------------------------------------------------------------------------------
# 8: symlink loops, Ctrl-C after the result is written
# ----------------------------------------------------------------------------------------------

def test_symlink_loop_is_named_as_such(cli, work):
    loop = work / "loop.gif"
    os.symlink(loop, loop)
    line = error_line(cli("video", loop, work / "style.png", "-o", work / "out" / "x.gif", *VFAST))
    assert re.search(r"'.*loop\.gif' is a symbolic link loop", line), line
    line = error_line(cli("image", work / "style.png", loop, "-o", work / "out" / "x.png", *FAST))
    assert "symbolic link loop" in line, line


def test_ctrl_c_after_the_result_is_written_exits_0(cli, work, monkeypatch):
    import neuralpaint.cli.image as image_cmd

    real = image_cmd.done

    def done_then_ctrl_c(message: str) -> None:
        real(message)
        raise KeyboardInterrupt

    monkeypatch.setattr(image_cmd, "done", done_then_ctrl_c)
    dest = work / "out" / "x.png"
    r = cli("image", work / "style.png", work / "style.png", "-o", dest, *FAST)
    assert r.code == 0 and str(dest) in r.out and "error:" not in r.err, r
    assert Image.open(dest).size == (16, 16)
