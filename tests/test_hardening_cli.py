"""Bad input through the real CLI: every failure is one line ``error: ...`` naming the value,
exit status 2, no traceback, and nothing left behind (no output, no temporary file). Unusual
but valid input (16-bit, palette, CMYK, alpha, grayscale, a 1x1 image, a one-frame GIF) works.
Also: the NaN/inf guard and out-of-memory through the CLI, and a few runs of the installed
console script in a real subprocess to prove no traceback reaches a user.
"""

from __future__ import annotations

import os
import pickle
import re
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from mediautil import distinct_frame, make_video, write_gif
from neuralpaint import media
from neuralpaint.atomic import is_temp_name

FAST = ["--weights", "random", "--size", "16", "--optimizer", "adam", "--iters", "1", "-q"]
VFAST = FAST + ["--first-iters", "1"]
SCRIPT = Path(sys.executable).with_name("neuralpaint")


# ----------------------------------------------------------------------------------------------
# inputs, made once per module
# ----------------------------------------------------------------------------------------------

def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _rgb(h: int, w: int, seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).random((h, w, 3)) * 255).astype(np.uint8)


class _Exploit:
    """Unpickling this runs code: it creates the file ``path``."""

    def __init__(self, path: Path):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("inputs")
    f: dict[str, Path] = {"dir": d}

    def path(name: str) -> Path:
        f[name.split(".")[0]] = d / name
        return d / name

    Image.fromarray(_rgb(16, 16, 1)).save(path("content.png"))
    Image.fromarray(_rgb(16, 16, 2)).save(path("style.png"))
    write_gif(path("clip.gif"), [distinct_frame(i, 16, 16) for i in range(3)], [60] * 3)
    path("empty.png").write_bytes(b"")
    png = (d / "content.png").read_bytes()
    path("trunc_png.png").write_bytes(png[: len(png) // 2])
    Image.fromarray(_rgb(48, 48, 3)).save(d / "full.jpg", quality=90)
    jpg = (d / "full.jpg").read_bytes()
    path("trunc_jpg.jpg").write_bytes(jpg[: len(jpg) // 2])
    gif = (d / "clip.gif").read_bytes()
    path("trunc_gif.gif").write_bytes(gif[: len(gif) * 2 // 3])
    make_video(d / "full.mp4", n=4, w=16, h=16)
    mp4 = (d / "full.mp4").read_bytes()
    path("trunc_mp4.mp4").write_bytes(mp4[: len(mp4) // 2])
    path("text_gif.gif").write_text("GIF? no, just text\n")
    path("bomb_png.png").write_bytes(
        b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0))
        + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) + _png_chunk(b"IEND", b""))
    path("bomb_gif.gif").write_bytes(
        b"GIF89a" + struct.pack("<HH", 65535, 65535) + b"\x00\x00\x00"
        + b"," + struct.pack("<HHHH", 0, 0, 65535, 65535) + b"\x00" + b"\x02\x02\x44\x01\x00;")
    mixed = path("mixed")
    mixed.mkdir()
    Image.fromarray(_rgb(16, 16, 4)).save(mixed / "f1.png")
    Image.fromarray(_rgb(12, 16, 5)).save(mixed / "f2.png")
    noimg = path("noimg")
    noimg.mkdir()
    (noimg / "notes.txt").write_text("frames went missing")
    Image.fromarray(_rgb(200, 4, 6)).save(path("thin.png"))
    path("afile").write_text("a regular file where a folder is expected")
    path("dir_png.png").mkdir()
    path("dir_gif.gif").mkdir()
    torch.save({"a": torch.zeros(2)}, path("fast_wrong.pt"))
    torch.save([1, 2, 3], path("w_list.pth"))
    torch.save({"conv.weight": torch.zeros(3)}, path("w_keys.pth"))
    torch.save({"features.0.weight": torch.zeros(64, 3, 5, 5), "features.0.bias": torch.zeros(64)},
               path("w_shapes.pth"))
    path("w_text.pth").write_text("not a checkpoint")
    marker = path("pwned")
    torch.save({"features.0.weight": _Exploit(marker)}, path("w_evil.pth"), pickle_module=pickle)
    torch.load(d / "w_evil.pth", weights_only=False)  # proof that the file really runs code...
    assert marker.exists()
    marker.unlink()  # ...the test below checks that neuralpaint never lets it
    bad_run = path("bad_run")
    bad_run.mkdir()
    (bad_run / "manifest.json").write_text("{ this is not json")
    return f


@pytest.fixture
def out(tmp_path) -> Path:
    o = tmp_path / "out"
    o.mkdir()
    return o


def fill(args: list[str], data: dict[str, Path], out: Path) -> list[str]:
    """``{name}`` -> the input file of that name, ``{out}`` -> the output folder."""
    subs = {k: str(v) for k, v in data.items()}
    subs["out"] = str(out)
    return [re.sub(r"\{(\w+)\}", lambda m: subs[m.group(1)], a) for a in args]


def with_fast(argv: list[str]) -> list[str]:
    """``argv`` plus the fast test options it does not set itself."""
    base = VFAST if argv[0] == "video" else FAST
    if "--fast" in argv:  # options of the optimisation are refused with a trained network
        base = ["--size", "16", "-q"]
    extra, i = [], 0
    while i < len(base):
        has_value = base[i].startswith("--") and i + 1 < len(base) and not base[i + 1].startswith("-")
        group = base[i: i + 2] if has_value else base[i: i + 1]
        if group[0] not in argv:
            extra += group
        i += len(group)
    return argv + extra


def error_line(r) -> str:
    assert r.code == 2, r
    assert "Traceback" not in r.err and "Traceback" not in r.out, r
    lines = [ln for ln in r.err.splitlines() if ln.strip() and not ln.startswith("notice:")]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.err
    assert "\x1b[" not in lines[0] and "weights_only` set to `False" not in lines[0], lines[0]
    print(lines[0])  # shown by `pytest -rP`: the messages users get
    return lines[0]


def leftovers(out: Path, allow_run_folder: bool = False) -> list[str]:
    """What a failed command left in the output folder (temps anywhere, any output file)."""
    found = [str(p) for p in out.rglob("*") if is_temp_name(p.name)]
    for p in out.iterdir():
        if allow_run_folder and p.name.endswith(".neuralpaint") and p.is_dir():
            continue
        found.append(str(p))
    return found


# ----------------------------------------------------------------------------------------------
# the battery: (id, command line, the error line must match this)
# ----------------------------------------------------------------------------------------------

I = ["image", "{content}", "{style}", "-o", "{out}/x.png"]
V = ["video", "{clip}", "{style}", "-o", "{out}/x.gif"]

BAD = [
    ("missing-style-video", ["video", "{clip}", "{dir}/nope.png", "-o", "{out}/x.gif"],
     r"style image '.*nope\.png' does not exist"),
    ("missing-clip", ["video", "{dir}/nope.gif", "-o", "{out}/x.gif"], r"input '.*nope\.gif' does not exist"),
    ("style-is-a-folder-video", ["video", "{clip}", "{mixed}", "-o", "{out}/x.gif"], r"'.*mixed'.*(folder|directory)"),
    ("empty-content", ["image", "{empty}", "{style}", "-o", "{out}/x.png"], r"'.*empty\.png': file is empty"),
    ("truncated-png", ["image", "{trunc_png}", "{style}", "-o", "{out}/x.png"], r"trunc_png\.png': file is truncated"),
    ("truncated-jpeg-style", ["image", "{content}", "{trunc_jpg}", "-o", "{out}/x.png"], r"trunc_jpg\.jpg': file is truncated"),
    ("truncated-gif", ["video", "{trunc_gif}", "-o", "{out}/x.gif"], r"trunc_gif\.gif'.*truncated"),
    ("truncated-mp4", ["video", "{trunc_mp4}", "-o", "{out}/x.gif"], r"trunc_mp4\.mp4'.*truncated"),
    ("text-named-gif", ["video", "{text_gif}", "-o", "{out}/x.gif"], r"text_gif\.gif': not an image file"),
    ("text-named-gif-as-image", ["image", "{text_gif}", "{style}", "-o", "{out}/x.png"], r"text_gif\.gif': not an image"),
    ("bomb-png", ["image", "{bomb_png}", "{style}", "-o", "{out}/x.png"], r"bomb_png\.png': 3600000000 pixels is more than the limit"),
    ("bomb-gif", ["video", "{bomb_gif}", "-o", "{out}/x.gif"], r"bomb_gif\.gif'.*4294836225 pixels is more than the limit"),
    ("folder-mixed-sizes", ["video", "{mixed}", "-o", "{out}/x.gif"], r"'f2\.png' is 16x12 but 'f1\.png' is 16x16"),
    ("folder-no-images", ["video", "{noimg}", "-o", "{out}/x.gif"], r"noimg': it holds no images"),
    ("elongated-image-too-small", ["image", "{thin}", "{style}", "-o", "{out}/x.png"],
     r"image of 1x16 px is too small for VGG-19 .* raise --size"),
    ("elongated-style-too-small", ["image", "{content}", "{thin}", "-o", "{out}/x.png"], r"1x16 px is too small"),
    ("size-not-a-number", [*I, "--size", "abc"], r"Invalid value for '--size'.*\(got 'abc'\)"),
    ("size-0", [*I, "--size", "0"], r"size must be >= 16, got 0"),
    ("size-negative", [*V, "--size", "-64"], r"size must be >= 16, got -64"),
    ("size-absurd-image", [*I, "--size", "100000"], r"size must be <= 16384, got 100000"),
    ("size-absurd-video", [*V, "--size", "100000"], r"size must be <= 16384, got 100000"),
    ("size-too-many-pixels", [*I, "--size", "16000"], r"size 16000 would make a \d+x\d+ image, more than the limit of 100 MP"),
    ("iters-0", [*I, "--iters", "0"], r"iters must be >= 1, got 0"),
    ("iters-nan", [*I, "--iters", "nan"], r"Invalid value for '--iters'.*\(got 'nan'\)"),
    ("lr-nan", [*I, "--lr", "nan"], r"lr must be a finite number, got nan"),
    ("lr-negative", [*I, "--lr", "-0.5"], r"lr must be > 0, got -0\.5"),
    ("tol-inf", [*I, "--tol", "inf"], r"tol must be a finite number, got inf"),
    ("style-scale-0", [*I, "--style-scale", "0"], r"style-scale must be > 0, got 0"),
    ("temporal-weight-nan", [*V, "--temporal-weight", "nan"], r"temporal-weight must be a finite number, got nan"),
    ("temporal-weight-neg-inf", [*V, "--temporal-weight", "-inf"], r"temporal-weight must be a finite number, got -inf"),
    ("offsets-zero", [*V, "--offsets", "1,0"], r"--offsets must be positive frame offsets, got 0 in '1,0'"),
    ("offsets-negative", [*V, "--offsets", "1,-2"], r"--offsets must be positive frame offsets, got -2 in '1,-2'"),
    ("offsets-duplicate", [*V, "--offsets", "1,1"], r"--offsets must not repeat an offset, got '1,1'"),
    ("offsets-text", [*V, "--offsets", "one,two"], r"--offsets needs comma-separated integers, got 'one,two'"),
    ("passes-0", [*V, "--passes", "0"], r"passes must be >= 1, got 0"),
    ("start-after-end", [*V, "--start", "3", "--end", "2"], r"--end 2 is before --start 3"),
    ("start-beyond-clip", [*V, "--start", "9"], r"--start 9 is beyond its last frame \(3\)"),
    ("unknown-optimizer", [*V, "--optimizer", "sgd"], r"unknown optimizer 'sgd'; choose one of lbfgs, adam"),
    ("unknown-flow", [*V, "--flow", "magic"], r"unknown flow method 'magic'; choose one of dis"),
    ("unknown-device", [*V, "--device", "tpu"], r"unknown device 'tpu'"),
    ("unknown-precision", [*I, "--precision", "fp8"], r"unknown precision 'fp8'"),
    ("unknown-option", [*I, "--sizee", "32"], r"No such option: --sizee"),
    ("missing-style", ["image", "{content}"], r"Missing argument 'styles'|give at least one STYLE image"),
    ("video-output-suffix", ["video", "{clip}", "-o", "{out}/x.xyz"], r"x\.xyz': unknown suffix '\.xyz'"),
    ("output-is-input-video", ["video", "{clip}", "-o", "{clip}"], r"clip\.gif' is the same file as the input"),
    ("output-is-style-image", ["image", "{content}", "{style}", "-o", "{style}"], r"style\.png' is the same file as the input"),
    ("output-under-a-file-image", ["image", "{content}", "{style}", "-o", "{afile}/x.png"],
     r"cannot write output '.*afile/x\.png': '.*afile' is a file, not a folder"),
    ("output-under-a-file-video", ["video", "{clip}", "-o", "{afile}/sub/x.mp4"], r"'.*afile' is a file, not a folder"),
    ("output-is-a-folder-image", ["image", "{content}", "{style}", "-o", "{dir_png}"], r"dir_png\.png' is an existing folder"),
    ("output-is-a-folder-video", ["video", "{clip}", "-o", "{dir_gif}"], r"dir_gif\.gif' is an existing folder"),
    ("work-dir-is-a-file", [*V, "--work-dir", "{afile}"], r"work dir '.*afile' exists and is not a folder"),
    ("work-dir-under-a-file", [*V, "--work-dir", "{afile}/run"], r"cannot create work dir '.*afile/run': Not a directory"),
    ("work-dir-damaged-manifest", [*V, "--work-dir", "{bad_run}"], r"manifest '.*bad_run/manifest\.json' is unreadable"),
    ("weights-not-a-state-dict", [*I, "--weights", "{w_list}"], r"w_list\.pth' does not hold a state dict"),
    ("weights-text-file", [*I, "--weights", "{w_text}"], r"refused to load weights file '.*w_text\.pth': not a plain tensor"),
    ("weights-wrong-keys", [*I, "--weights", "{w_keys}"], r"w_keys\.pth' lack key '0\.weight'"),
    ("weights-wrong-shapes", [*I, "--weights", "{w_shapes}"], r"features\.0\.weight has shape \(64, 3, 5, 5\), VGG-19 needs \(64, 3, 3, 3\)"),
    ("fast-model-missing", ["image", "{content}", "--fast", "{dir}/nope.pt", "-o", "{out}/x.png"],
     r"fast model '.*nope\.pt' does not exist"),
    ("fast-model-wrong-format", ["image", "{content}", "--fast", "{fast_wrong}", "-o", "{out}/x.png"],
     r"fast_wrong\.pt' is not a neuralpaint-fast checkpoint"),
    ("weights-pickle-runs-code", [*I, "--weights", "{w_evil}"],
     r"refused to load weights file '.*w_evil\.pth': it holds the Python object 'getattr'"),
]
if not torch.cuda.is_available():
    BAD += [("cuda-without-gpu-video", [*V, "--device", "cuda"], r"--device cuda requested but no CUDA GPU"),
            ("cuda-index-without-gpu", [*I, "--device", "cuda:1"], r"--device cuda:1 requested but no CUDA GPU")]


@pytest.mark.parametrize("args, pattern", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_is_one_line_and_leaves_nothing(cli, data, out, args, pattern):
    argv = fill(args, data, out)
    r = cli(*with_fast(argv))
    line = error_line(r)
    assert re.search(pattern, line), (pattern, line)
    assert leftovers(out) == []
    assert not data["pwned"].exists()  # the malicious checkpoint never ran
    assert [p.name for p in data["dir"].rglob("*") if is_temp_name(p.name)] == []


def test_fast_model_that_would_run_code_is_refused_plainly(cli, data, out):
    line = error_line(cli("image", data["content"], "--fast", data["w_evil"], "-o", out / "x.png", "-q"))
    assert not data["pwned"].exists() and leftovers(out) == []
    assert re.search(r"refused to load fast model '.*w_evil\.pth'", line), line


def test_integer_size_beyond_float_range(cli, data, out):
    line = error_line(cli("image", data["content"], data["style"], "-o", out / "x.png", *FAST[:-3],
                          "--size", "1" + "0" * 400))
    assert "size" in line


def test_unwritable_output_folder(cli, data, tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            # Running as root: permission bits do not stop root, so show the check what an
            # ordinary user would see (the real bits are still 0500). A folder blocked by a
            # regular file, which stops root too, is in the battery above.
            real = os.access
            monkeypatch.setattr(os, "access", lambda p, mode, *a, **k: False if (
                Path(p) == locked and mode & os.W_OK) else real(p, mode, *a, **k))
        for cmd in (["image", data["content"], data["style"], "-o", locked / "x.png", *FAST],
                    ["video", data["clip"], "-o", locked / "sub" / "x.gif", *VFAST]):
            line = error_line(cli(*cmd))
            assert re.search(r"cannot write output '.*locked/.*': folder '.*locked' is not writable", line), line
    finally:
        locked.chmod(0o700)
    assert list(locked.iterdir()) == []


# ----------------------------------------------------------------------------------------------
# unusual inputs that must work
# ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def odd_images(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("odd")
    rgb = _rgb(16, 16, 7)
    p = {}
    p["gray16"] = d / "gray16.png"
    Image.fromarray((np.random.default_rng(8).random((16, 16)) * 65535).astype(np.uint16)).save(p["gray16"])
    p["rgb48"] = d / "rgb48.png"
    assert cv2.imwrite(str(p["rgb48"]), (np.random.default_rng(9).random((16, 16, 3)) * 65535).astype(np.uint16))
    p["palette"] = d / "palette.png"
    pal = Image.fromarray(rgb).quantize(16)
    pal.info["transparency"] = 0
    pal.save(p["palette"], transparency=0)
    p["cmyk"] = d / "cmyk.jpg"
    Image.fromarray(rgb).convert("CMYK").save(p["cmyk"])
    p["rgba"] = d / "rgba.png"
    alpha = np.linspace(0, 255, 256).reshape(16, 16, 1).astype(np.uint8)
    Image.fromarray(np.concatenate([rgb, alpha], axis=2), "RGBA").save(p["rgba"])
    p["gray"] = d / "gray.png"
    Image.fromarray(rgb).convert("L").save(p["gray"])
    p["one"] = d / "one.png"
    Image.new("RGB", (1, 1), (200, 40, 10)).save(p["one"])
    with Image.open(p["gray16"]) as im:
        assert im.mode.startswith("I")
    with Image.open(p["palette"]) as im:
        assert im.mode == "P"
    with Image.open(p["cmyk"]) as im:
        assert im.mode == "CMYK"
    return p


@pytest.mark.parametrize("content, style", [("gray16", "cmyk"), ("palette", "gray"), ("rgba", "rgb48"),
                                            ("one", "gray16")])
def test_unusual_images_work(cli, odd_images, out, content, style):
    dest = out / "x.png"
    r = cli("image", odd_images[content], odd_images[style], "-o", dest, *FAST)
    assert r.code == 0, r
    with Image.open(dest) as im:
        assert im.mode == "RGB" and im.size == (16, 16)  # a 1x1 input is upscaled to --size
    assert [p for p in out.iterdir() if is_temp_name(p.name)] == []


def test_one_frame_gif_and_one_pixel_still_work_as_clips(cli, data, odd_images, out, tmp_path):
    one = tmp_path / "one.gif"
    write_gif(one, [distinct_frame(3, 16, 16)], [100])
    r = cli("video", one, data["style"], "-o", out / "one_out.gif", *VFAST)
    assert r.code == 0, r
    assert len(media.read_clip(out / "one_out.gif").frames) == 1
    r = cli("video", odd_images["one"], data["style"], "-o", out / "pixel.gif", *VFAST)
    assert r.code == 0, r
    clip = media.read_clip(out / "pixel.gif")
    assert len(clip.frames) == 1 and clip.frames[0].shape == (16, 16, 3)


# ----------------------------------------------------------------------------------------------
# NaN / inf guard
# ----------------------------------------------------------------------------------------------

# Unbounded: a bounded image (the default) stays in [0, 1] whatever the step, so its loss stays
# finite; the unbounded one overflows.
ABSURD = ["--optimizer", "adam", "--lr", "1e30", "--iters", "3", "--no-bounded"]


def test_nan_image_keeps_the_last_finite_image(cli, data, out):
    dest = out / "x.png"
    args = [a for a in FAST if a not in ("--iters", "1")]
    line = error_line(cli("image", data["content"], data["style"], "-o", dest, *args, *ABSURD))
    assert "NaN or infinite" in line and "--lr (1e+30)" in line and "--style-weight" in line, line
    assert str(dest) in line
    saved = np.asarray(Image.open(dest).convert("RGB")).astype(int)
    content = np.asarray(Image.open(data["content"]).convert("RGB")).astype(int)
    assert np.abs(saved - content).max() <= 2  # the last finite iterate: here the content init
    assert [p for p in out.iterdir() if is_temp_name(p.name)] == []


def test_nan_video_on_the_first_frame(cli, data, out):
    dest = out / "x.gif"
    args = [a for a in VFAST if a not in ("--iters", "1", "--first-iters")] + ["--first-iters", "3"]
    line = error_line(cli("video", data["clip"], data["style"], "-o", dest, *args, *ABSURD))
    assert "NaN or infinite on frame 1" in line and "--lr" in line, line
    assert not dest.exists()
    assert list((out / ".x.gif.neuralpaint" / "frames").iterdir()) == []
    assert leftovers(out, allow_run_folder=True) == []


def test_nan_video_later_frame_keeps_finished_frames(cli, data, out, monkeypatch):
    import neuralpaint.optimize as optimize

    real = optimize.run_scale
    calls = {"n": 0}

    def run_scale(x0, objective, *a, **k):
        calls["n"] += 1
        if calls["n"] == 3:  # frame 3: the loss blows up
            def nan_objective(x):
                total, parts = objective(x)
                return total * float("nan"), parts
            return real(x0, nan_objective, *a, **k)
        return real(x0, objective, *a, **k)

    monkeypatch.setattr(optimize, "run_scale", run_scale)
    dest = out / "x.gif"
    # --init-fill inpaint: one optimisation per frame (the default also paints unseen regions
    # with short passes of their own, which would shift the count of run_scale calls)
    line = error_line(cli("video", data["clip"], data["style"], "-o", dest, *VFAST, "--init-fill", "inpaint"))
    assert "NaN or infinite on frame 3" in line and "--style-weight" in line and "--temporal-weight" in line, line
    assert not dest.exists()
    frames = sorted((out / ".x.gif.neuralpaint" / "frames").iterdir())
    assert [p.name for p in frames] == ["frame_00001.png", "frame_00002.png"]
    for p in frames:
        with Image.open(p) as im:
            im.load()
    assert leftovers(out, allow_run_folder=True) == []


# ----------------------------------------------------------------------------------------------
# out of memory (simulated: no GPU here)
# ----------------------------------------------------------------------------------------------

def _oom(*_a, **_k):
    raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 7.79 GiB total)")


def test_oom_image_says_what_to_lower(cli, data, out, monkeypatch):
    import neuralpaint.vgg as vgg

    monkeypatch.setattr(vgg.VGGFeatures, "forward", _oom)
    line = error_line(cli("image", data["content"], data["style"], "-o", out / "x.png", *FAST))
    assert "out of memory" in line and "--size" in line and "--precision bf16" in line, line
    assert "Tried to allocate" not in line and leftovers(out) == []


def test_oom_video_keeps_finished_frames(cli, data, out, monkeypatch):
    import neuralpaint.optimize as optimize

    real = optimize.run_scale
    calls = {"n": 0}

    def run_scale(*a, **k):
        calls["n"] += 1
        if calls["n"] == 2:
            _oom()
        return real(*a, **k)

    monkeypatch.setattr(optimize, "run_scale", run_scale)
    line = error_line(cli("video", data["clip"], data["style"], "-o", out / "x.gif", *VFAST))
    assert "out of memory" in line and "--size" in line and "--precision bf16" in line, line
    assert [p.name for p in (out / ".x.gif.neuralpaint" / "frames").iterdir()] == ["frame_00001.png"]
    assert leftovers(out, allow_run_folder=True) == []


def test_oom_outside_the_optimiser_is_still_one_line(cli, data, out, monkeypatch):
    import neuralpaint.optimize as optimize

    monkeypatch.setattr(optimize, "load_vgg", _oom)  # e.g. moving the VGG to a full GPU
    line = error_line(cli("image", data["content"], data["style"], "-o", out / "x.png", *FAST))
    assert "out of memory" in line and "--size" in line and "--precision bf16" in line, line
    assert leftovers(out) == []


# ----------------------------------------------------------------------------------------------
# sweep TOML (the sweep tool validates its file before any run)
# ----------------------------------------------------------------------------------------------

def test_sweep_toml_with_an_unknown_key(data, tmp_path, capsys):
    sweep_cli = pytest.importorskip("neuralpaint.sweep.cli")
    toml = tmp_path / "sweep.toml"
    toml.write_text(f'inputs = ["{data["content"]}"]\n[options]\nsize = 16\n[grid]\nstlye_weight = [1e5, 1e6]\n')
    code = sweep_cli.main([str(toml), "-o", str(tmp_path / "sw")])
    cap = capsys.readouterr()
    assert code == 2, cap
    lines = [ln for ln in cap.err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in cap.err, cap.err
    assert re.search(r"sweep\.toml: unknown key 'grid\.stlye_weight' \(did you mean 'style_weight'\?\)", lines[0])
    assert not (tmp_path / "sw").exists()


# ----------------------------------------------------------------------------------------------
# the installed console script, in a real process
# ----------------------------------------------------------------------------------------------

SUBPROCESS = [
    ("truncated-png", ["image", "{trunc_png}", "{style}", "-o", "{out}/x.png", *FAST], r"file is truncated"),
    ("style-is-a-folder", ["video", "{clip}", "{mixed}", "-o", "{out}/x.gif", *VFAST], r"mixed'"),
    ("elongated-image", ["image", "{thin}", "{style}", "-o", "{out}/x.png", *FAST], r"too small for VGG-19"),
    ("duplicate-offsets", ["video", "{clip}", "-o", "{out}/x.gif", "--offsets", "1,1", *VFAST], r"'1,1'"),
]


@pytest.mark.skipif(not SCRIPT.exists(), reason="the console script is not installed next to python")
def test_console_script_prints_no_traceback(data, tmp_path):
    procs = []
    for name, args, pattern in SUBPROCESS:
        o = tmp_path / name
        o.mkdir()
        procs.append((name, pattern, o, subprocess.Popen(
            [str(SCRIPT), *fill(args, data, o)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    bare = subprocess.run([str(SCRIPT), "image"], capture_output=True, text=True, timeout=300)
    for name, pattern, o, proc in procs:
        stdout, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 2, (name, stderr)
        assert "Traceback" not in stderr + stdout, (name, stderr)
        lines = [ln for ln in stderr.splitlines() if ln.strip() and not ln.startswith("notice:")]
        assert len(lines) == 1 and lines[0].startswith("error: ") and re.search(pattern, lines[0]), (name, stderr)
        assert list(o.iterdir()) == []
    # a bare subcommand shows its help, without an empty "error:" line
    assert bare.returncode == 2 and "Usage" in bare.stdout + bare.stderr
    assert "error:" not in bare.stderr and "Traceback" not in bare.stderr
