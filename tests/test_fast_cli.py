"""``neuralpaint train`` end to end (tiny), and its refusals (exit 2, one ``error:`` line)."""

import pytest

import neuralpaint.cli.train  # noqa: F401  (registers the command even before commands.py does)
from neuralpaint import media
from neuralpaint.fast.checkpoint import load_checkpoint

from conftest import textured

FAST = ["--size", "32", "--batch", "1", "--weights", "random", "--device", "cpu", "--sample-every", "0"]


@pytest.fixture
def setup(tmp_path, tiny_images):
    _, style = tiny_images
    data = tmp_path / "data"
    data.mkdir()
    for i in range(2):
        media.save_image(data / f"{i}.png", textured(40, 48, seed=i))
    return style, data


def test_train_writes_a_model_and_resumes(cli, setup, tmp_path):
    style, data = setup
    model = tmp_path / "m.pt"
    r = cli("train", style, "--data", data, "-o", model, "--steps", "1", *FAST, "--quiet")
    assert r.code == 0, r
    assert str(model) in r.out and load_checkpoint(model)["step"] == 1
    r = cli("train", style, "--data", data, "-o", model, "--steps", "2", *FAST)
    assert r.code == 0, r
    assert "resumed at 1" in r.out and load_checkpoint(model)["step"] == 2
    assert "UNTRAINED" in r.err  # the random-weights notice
    r = cli("train", style, "--data", data, "-o", model, "--steps", "2", "--style-weight", "3", *FAST, "-q")
    assert r.code == 2 and r.err.startswith("error:") and "--restart" in r.err, r


@pytest.mark.parametrize("args, message", [
    (["--steps", "0"], "steps must be >= 1, got 0"),
    (["--lr", "-1"], "lr must be > 0, got -1.0"),
    (["--batch", "0"], "batch must be >= 1, got 0"),
    (["--noise-weight", "nan"], "noise-weight must be a finite number"),
    (["--device", "tpu"], "unknown device 'tpu'"),
    (["--steps", "many"], "many"),
])
def test_bad_options_exit_2_with_one_error_line(cli, setup, tmp_path, args, message):
    style, data = setup
    r = cli("train", style, "--data", data, "-o", tmp_path / "m.pt", *FAST, *args, "-q")
    assert r.code == 2, r
    assert r.err.startswith("error:") and message in r.err and r.err.count("\n") == 1, r
    assert not (tmp_path / "m.pt").exists()


def test_bad_paths_exit_2(cli, setup, tmp_path):
    style, data = setup
    cases = [
        ([tmp_path / "nope.png", "--data", data, "-o", tmp_path / "m.pt"], "style image"),
        ([style, "--data", tmp_path / "none", "-o", tmp_path / "m.pt"], "training data"),
        ([style, "--data", data, "-o", tmp_path / "m.png"], "must end in .pt or .pth"),
        ([style, "--data", data, "-o", tmp_path], "is a directory"),
        ([style, "-o", tmp_path / "m.pt"], "--data"),
    ]
    for args, message in cases:
        r = cli("train", *args, *FAST, "-q")
        assert r.code == 2 and r.err.startswith("error:") and message in r.err, (args, r)


def test_image_and_video_commands_run_a_trained_network(cli, tmp_path):
    import numpy as np
    from PIL import Image

    from mediautil import write_gif
    from neuralpaint import media

    rng = np.random.default_rng(0)
    style = tmp_path / "s.png"
    Image.fromarray((rng.random((32, 32, 3)) * 255).astype(np.uint8)).save(style)
    clip = tmp_path / "c.gif"
    write_gif(clip, [(rng.random((30, 40, 3)) * 255).astype(np.uint8) for _ in range(3)], [50, 70, 90])
    model = tmp_path / "m.pt"
    r = cli("train", style, "--data", clip, "-o", model, "--steps", "2", "--size", "32", "--batch", "1",
            "--weights", "random", "-q")
    assert r.code == 0, r
    r = cli("image", tmp_path / "s.png", "--fast", model, "--size", "40", "-o", tmp_path / "o.png")
    assert r.code == 0, r
    assert Image.open(tmp_path / "o.png").size == (40, 40)
    r = cli("video", clip, "--fast", model, "--fast-blend", "--size", "40", "-o", tmp_path / "o.gif", "-q")
    assert r.code == 0, r
    out = media.read_clip(tmp_path / "o.gif")
    assert len(out.frames) == 3 and out.durations_ms == [50, 70, 90] and out.frames[0].shape == (30, 40, 3)
    r = cli("image", tmp_path / "s.png", style, "--fast", model)
    assert r.code == 2 and "--fast uses the style the network was trained on" in r.err
    # options of the optimisation are refused with --fast, not silently ignored
    r = cli("image", tmp_path / "s.png", "--fast", model, "--iters", "9", "--style-weight", "5",
            "-o", tmp_path / "x.png")
    assert r.code == 2 and r.err.strip().startswith("error: --iters, --style-weight do not apply to --fast"), r
    assert not (tmp_path / "x.png").exists()
    r = cli("video", clip, "--fast", model, "--temporal-weight", "9", "-o", tmp_path / "x.gif")
    assert r.code == 2 and "error: --temporal-weight does not apply to --fast" in r.err, r
