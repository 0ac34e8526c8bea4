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


def _solid(path, rgb, h=24, w=24):
    Image.fromarray(np.full((h, w, 3), rgb, np.uint8)).save(path)
    return path


def test_init_image_is_where_the_optimisation_starts(cli, tiny_images, tmp_path):
    content, style = tiny_images
    yy, xx = np.mgrid[0:48, 0:64]
    ramp = np.stack([xx * 3 + 30, yy * 4 + 20, np.full_like(xx, 200)], axis=2).astype(np.uint8)
    init = tmp_path / "ramp.png"
    Image.fromarray(ramp).save(init)  # twice the output size: resized to it
    expected = np.asarray(Image.fromarray(ramp).resize((32, 24), Image.Resampling.BILINEAR)).astype(int)
    few = ["--weights", "random", "--size", "32", "--iters", "1", "--optimizer", "adam", "--lr", "0.001", "-q"]
    r = cli("image", content, style, "-o", tmp_path / "a.png", "--init-image", init, *few)
    assert r.code == 0, r
    a = np.asarray(Image.open(tmp_path / "a.png")).astype(int)
    assert a.shape == (24, 32, 3)
    assert np.abs(a - expected).mean() < 3  # one tiny step away from the init picture
    assert cli("image", content, style, "-o", tmp_path / "b.png", *few).code == 0
    b = np.asarray(Image.open(tmp_path / "b.png")).astype(int)
    assert np.abs(b - expected).mean() > 30  # without it: from the content


def test_init_image_errors_are_one_line(cli, tiny_images, tmp_path):
    content, style = tiny_images
    r = cli("image", content, style, "-o", tmp_path / "o.png", "--init-image", tmp_path / "nope.png", *FAST)
    assert r.code == 2 and "init image" in r.err and "nope.png" in r.err and r.err.count("\n") == 1
    init = _solid(tmp_path / "i.png", (1, 2, 3))
    r = cli("image", content, style, "-o", tmp_path / "o.png", "--init-image", init, "--init", "noise", *FAST)
    assert r.code == 2 and "--init-image" in r.err and "replaces --init" in r.err
    assert not (tmp_path / "o.png").exists()


def test_content_and_style_layers_from_the_command_line(cli, tiny_images, tmp_path):
    content, style = tiny_images
    few = ["--weights", "random", "--size", "32", "--iters", "3", "--optimizer", "adam", "-q"]
    assert cli("image", content, style, "-o", tmp_path / "d.png", *few).code == 0
    r = cli("image", content, style, "-o", tmp_path / "l.png", *few,
            "--content-layer", "relu2_2", "--style-layers", "relu1_1, relu2_1")
    assert r.code == 0, r
    d, other = (np.asarray(Image.open(tmp_path / n)).astype(int) for n in ("d.png", "l.png"))
    assert np.abs(d - other).max() > 0  # other layers, another optimisation


@pytest.mark.parametrize("args, message", [
    (["--content-layer", "relu9_9"], "unknown content layer 'relu9_9'"),
    (["--style-layers", "relu1_1,conv3"], "unknown style layer 'conv3'"),
    (["--style-layers", " , "], "--style-layers needs comma-separated layer names"),
])
def test_bad_layer_names_are_one_line_errors(cli, tiny_images, tmp_path, args, message):
    content, style = tiny_images
    r = cli("image", content, style, "-o", tmp_path / "o.png", *FAST, *args)
    assert r.code == 2 and message in r.err and r.err.count("\n") == 1, r
