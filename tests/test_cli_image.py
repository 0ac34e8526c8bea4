"""`neuralpaint image` through the real CLI entry point."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

FAST = ["--weights", "random", "--size", "64", "--iters", "6"]


def test_writes_a_png_with_the_requested_long_side(cli, tiny_images, tmp_path):
    content, style = tiny_images
    out = tmp_path / "out.png"
    r = cli("image", content, style, "-o", out, *FAST)
    assert r.code == 0, r
    assert str(out) in r.out and "iterations" in r.out
    assert "UNTRAINED" in r.err  # the loud notice about random weights
    im = np.asarray(Image.open(out))
    assert max(im.shape[:2]) == 64 and im.shape[2] == 3


def test_default_output_is_next_to_the_content(cli, tiny_images):
    content, style = tiny_images
    r = cli("image", content, style, *FAST, "--quiet")
    assert r.code == 0, r
    assert (content.parent / "content_stylized.png").exists()


def test_two_styles_blend_and_coarse_to_fine(cli, tiny_images, tmp_path):
    content, style = tiny_images
    out = tmp_path / "blend.jpg"
    r = cli("image", content, style, content, "--style-blend", "0.7,0.3", "--scales", "2",
            "--preserve-colors", "-o", out, *FAST, "-q")
    assert r.code == 0, r
    assert Image.open(out).size == (64, 48)


@pytest.mark.parametrize("args, message", [
    (["missing.png", "STYLE"], "content image 'missing.png' does not exist"),
    (["CONTENT", "STYLE", "--size", "0"], "size must be >= 16, got 0"),
    (["CONTENT", "STYLE", "--size", "abc"], "Invalid value for '--size'.*'abc'"),
    (["CONTENT", "STYLE", "--iters", "0"], "iters must be >= 1, got 0"),
    (["CONTENT", "STYLE", "--style-weight", "-1"], "style-weight must be >= 0, got -1.0"),
    (["CONTENT", "STYLE", "--tv-weight", "nan"], "tv-weight must be a finite number, got nan"),
    (["CONTENT", "STYLE", "--content-weight", "inf"], "content-weight must be a finite number, got inf"),
    (["CONTENT", "STYLE", "--optimizer", "sgd"], "unknown optimizer 'sgd'"),
    (["CONTENT", "STYLE", "--device", "tpu"], "unknown device 'tpu'"),
    (["CONTENT", "STYLE", "--style-blend", "1,2"], "--style-blend has 2 weights for 1 style images: 1,2"),
    (["CONTENT", "STYLE", "--style-blend", "a,b"], "--style-blend needs comma-separated numbers, got 'a,b'"),
    (["CONTENT", "STYLE", "-o", "OUT.xyz"], r"cannot write an image as .*o\.xyz.*use one of \.png"),
    (["CONTENT", "STYLE", "-o", "CONTENT"], "is the same file as the input"),
    (["CONTENT", "STYLE", "--weights", "nope.pth"], "weights file 'nope.pth' does not exist"),
    (["DIR", "STYLE"], "is a directory, expected a file"),
    (["TEXT", "STYLE"], "TEXT"),
])
def test_bad_input_is_one_line_error_exit_2(cli, tiny_images, tmp_path, args, message):
    content, style = tiny_images
    (tmp_path / "text.png").write_text("not an image")
    subs = {"CONTENT": str(content), "STYLE": str(style), "DIR": str(tmp_path),
            "TEXT": str(tmp_path / "text.png"), "OUT.xyz": str(tmp_path / "o.xyz")}
    args = [subs.get(a, a) for a in args]
    message = message.replace("TEXT", str(tmp_path / "text.png"))
    extra = ([] if "--weights" in args else ["--weights", "random"]) + ([] if "--iters" in args else ["--iters", "2"])
    r = cli("image", *args, *extra)
    assert r.code == 2, r
    lines = [ln for ln in r.err.splitlines() if ln.strip() and not ln.startswith("notice:")]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.err
    assert re.search(message, lines[0]), (message, lines[0])
    assert "Traceback" not in r.err


def test_cuda_without_gpu_is_a_clear_error(cli, tiny_images, tmp_path):
    import torch
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    content, style = tiny_images
    r = cli("image", content, style, "--device", "cuda", *FAST, "-o", tmp_path / "x.png")
    assert r.code == 2 and "--device cuda requested but no CUDA GPU is available" in r.err
    assert not (tmp_path / "x.png").exists()


def test_weights_command_reports_the_cache(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    r = cli("weights")
    assert r.code == 0
    assert "vgg19-dcbb9e9d.pth" in r.out and "not downloaded" in r.out


def test_an_existing_output_image_is_replaced_with_a_notice(cli, tiny_images, tmp_path):
    content, style = tiny_images
    out = tmp_path / "out.png"
    out.write_bytes(b"old")
    r = cli("image", content, style, "-o", out, *FAST, "-q")
    assert r.code == 0, r
    assert f"notice: {str(out)!r} exists; it will be replaced" in r.err
    assert out.read_bytes() != b"old"
