"""Killing a video render at awkward moments, then re-running the same command.

A tiny render runs in a subprocess through a driver script (written into tmp) that patches one
function to drop a marker file and wait at a precise moment: while a flow is computed, in the
middle of a frame's optimisation, between writing a frame's temporary PNG and renaming it,
between writing the manifest's temporary file and renaming it, and during the final encode (GIF
rename, MP4 mid-stream). The test waits for the marker, sends SIGINT (Ctrl-C) or SIGKILL, checks
what is on disk, re-runs the same command in-process and compares with an uninterrupted run.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from mediautil import distinct_frame, write_gif
from neuralpaint import media
from neuralpaint.atomic import is_temp_name

N_FRAMES = 5
FAST = ["--weights", "random", "--size", "16", "--optimizer", "adam", "--iters", "2",
        "--first-iters", "2", "--quiet"]
IMAGE_FAST = ["--weights", "random", "--size", "16", "--optimizer", "adam", "--iters", "2", "--quiet"]
ROOT = Path(__file__).resolve().parents[1]
WAIT_S = 240  # the shared machine can be slow: generous, the marker normally comes in seconds

DRIVER = textwrap.dedent('''
    """Run `neuralpaint ARGV` with one function patched to stop at a precise moment."""
    import os, signal, sys, time
    # Ctrl-C as in a terminal even when the test run itself was started in the background (a
    # non-interactive shell starts background jobs with SIGINT ignored, and children inherit it)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    mode, marker, release, threads = sys.argv[1:5]
    argv = sys.argv[5:]
    import torch
    torch.set_num_threads(int(threads))

    def hold(tag):
        with open(marker, "w") as fh:
            fh.write(tag)
        deadline = time.monotonic() + 120
        while not os.path.exists(release) and time.monotonic() < deadline:
            time.sleep(0.02)

    def hold_replace(name):
        real = os.replace
        def replace(src, dst, *a, **k):
            if os.path.basename(os.fspath(dst)) == name:
                hold(name)
            return real(src, dst, *a, **k)
        os.replace = replace  # neuralpaint.atomic calls os.replace

    if mode == "flow":  # the flows of frame 3 (t=2), computed ahead in a worker thread
        import json, flows.cache
        real_flow = flows.cache.FlowCache.get_or_compute
        def get_or_compute(self, frames, t, j, *a, **k):
            if t == 2:
                # stop once frames 1-2 are finished: the main thread then waits for this flow
                manifest = os.path.join(os.path.dirname(os.fspath(self.folder)), "manifest.json")
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    try:
                        with open(manifest) as fh:
                            if json.load(fh)["frames"][1]["passes_done"]:
                                break
                    except (OSError, ValueError, KeyError, IndexError):
                        pass
                    time.sleep(0.02)
                time.sleep(0.2)
                hold("flow")
            return real_flow(self, frames, t, j, *a, **k)
        flows.cache.FlowCache.get_or_compute = get_or_compute
    elif mode in ("midframe", "midimage"):  # second loss evaluation of frame 3 / of the image
        import neuralpaint.optimize as opt
        real_scale = opt.run_scale
        calls = {"scale": 0}
        def run_scale(x0, objective, *a, **k):
            calls["scale"] += 1
            if calls["scale"] != (3 if mode == "midframe" else 1):
                return real_scale(x0, objective, *a, **k)
            evals = {"n": 0}
            def wrapped(x):
                evals["n"] += 1
                if evals["n"] == 2:
                    hold("midframe")
                return objective(x)
            return real_scale(x0, wrapped, *a, **k)
        opt.run_scale = run_scale
    elif mode == "framewrite":  # frame 3's PNG is written to its temporary name, not renamed
        hold_replace("frame_00003.png")
    elif mode == "manifest":  # the manifest after frame 2, written but not renamed
        import neuralpaint.runstate as rs
        real_save = rs.RunFolder.save
        def save(self):
            if self.records[1].passes_done and not self.records[2].passes_done:
                hold_replace("manifest.json")
            return real_save(self)
        rs.RunFolder.save = save
    elif mode in ("encode_gif", "image_save"):  # the finished GIF / image, written but not renamed
        hold_replace(os.path.basename(argv[argv.index("-o") + 1]))
    elif mode == "encode_mp4":  # the MP4 encoder in the middle of the stream (frame 3)
        import neuralpaint.media.encode as m
        real_pad = m._pad_even
        count = {"n": 0}
        def pad_even(arr):
            count["n"] += 1
            if count["n"] == 3:
                hold("encode_mp4")
            return real_pad(arr)
        m._pad_even = pad_even
    from neuralpaint.cli import main
    sys.exit(main(argv))
''')


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A 5-frame GIF, a style image and the uninterrupted reference render (GIF and MP4)."""
    folder = tmp_path_factory.mktemp("interrupt")
    src = folder / "clip.gif"
    write_gif(src, [distinct_frame(i, 16, 16) for i in range(N_FRAMES)], [60] * N_FRAMES)
    style = folder / "style.png"
    Image.fromarray((np.random.default_rng(3).random((16, 16, 3)) * 255).astype(np.uint8)).save(style)
    (folder / "driver.py").write_text(DRIVER)
    from neuralpaint.cli import main
    ref = folder / "ref"
    ref.mkdir()
    assert main(["video", str(src), str(style), "-o", str(ref / "out.gif"), *FAST]) == 0
    frames = [np.asarray(Image.open(p).convert("RGB"))
              for p in sorted((ref / ".out.gif.neuralpaint" / "frames").glob("frame_*.png"))]
    assert len(frames) == N_FRAMES
    return folder, src, style, frames


def start(folder: Path, mode: str, argv: list[str]) -> tuple[subprocess.Popen, Path, Path]:
    marker, release = folder / f"{mode}.marker", folder / f"{mode}.release"
    marker.unlink(missing_ok=True)
    release.unlink(missing_ok=True)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen(
        [sys.executable, str(folder / "driver.py"), mode, str(marker), str(release),
         str(torch.get_num_threads()), *argv],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=str(folder))
    deadline = time.monotonic() + WAIT_S
    while not marker.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"driver ended ({proc.returncode}) before the {mode} moment:\n{out}\n{err}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"driver never reached the {mode} moment")
        time.sleep(0.02)
    return proc, marker, release


def interrupt(proc: subprocess.Popen, sig: int, release: Path) -> tuple[int, str]:
    proc.send_signal(sig)
    if sig == signal.SIGINT:
        # Ctrl-C lands in the main thread; a flow worker that is mid-computation finishes its
        # (short, real) computation before the process can exit: let the simulated one go too.
        time.sleep(0.3)
        release.touch()
    try:
        _, err = proc.communicate(timeout=WAIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"the render did not end after signal {sig}")
    return proc.returncode, err


def temp_files(*folders: Path) -> list[str]:
    found = []
    for folder in folders:
        if folder.exists():
            found += [str(p) for p in folder.rglob("*") if is_temp_name(p.name)]
    return found


def check_run_folder(work: Path) -> list[int]:
    """The manifest is valid JSON and every frame it calls done has a readable PNG and state."""
    data = json.loads((work / "manifest.json").read_text())
    assert data["format"] == "neuralpaint-run" and len(data["frames"]) == N_FRAMES
    done = [t for t, rec in enumerate(data["frames"]) if rec["passes_done"] >= 1]
    for t in done:
        png = work / "frames" / f"frame_{t + 1:05d}.png"
        with Image.open(png) as im:
            im.load()
            assert im.size == (16, 16)
        raw = np.load(work / "state" / f"raw_{t + 1:05d}.npy", allow_pickle=False)
        assert raw.shape == (16, 16, 3) and np.isfinite(raw).all()
    assert done == list(range(len(done))), done  # frames finish in order, no holes
    return done


CASES = [
    # mode, signal, output suffix, frames that must be finished at the moment of the kill
    ("flow", signal.SIGKILL, ".gif", 2),
    ("flow", signal.SIGINT, ".gif", 2),
    ("midframe", signal.SIGINT, ".gif", 2),
    ("midframe", signal.SIGKILL, ".gif", 2),
    ("framewrite", signal.SIGKILL, ".gif", 2),
    ("framewrite", signal.SIGINT, ".gif", 2),
    ("manifest", signal.SIGKILL, ".gif", 2),
    ("encode_gif", signal.SIGKILL, ".gif", N_FRAMES),
    ("encode_gif", signal.SIGINT, ".gif", N_FRAMES),
    ("encode_mp4", signal.SIGKILL, ".mp4", N_FRAMES),
]


@pytest.mark.parametrize("mode, sig, suffix, done_at_kill", CASES,
                         ids=[f"{m}-{signal.Signals(s).name}" for m, s, _, _ in CASES])
def test_killed_render_resumes_to_the_uninterrupted_result(clip, cli, tmp_path, mode, sig, suffix, done_at_kill):
    folder, src, style, reference = clip
    out = tmp_path / f"out{suffix}"
    argv = ["video", str(src), str(style), "-o", str(out), *FAST]
    work = tmp_path / f".out{suffix}.neuralpaint"

    proc, _, release = start(folder, mode, argv)
    code, err = interrupt(proc, sig, release)

    if sig == signal.SIGINT:
        assert code == 130, err
        lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("notice:")]
        assert lines == ["error: interrupted; re-run the same command to resume"], err
        assert "Traceback" not in err
        assert temp_files(tmp_path) == []  # Ctrl-C removes its temporary files
    else:
        assert code == -signal.SIGKILL
    assert not out.exists()  # never a half-written output
    done = check_run_folder(work)
    # the manifest is written after the frame it records: a kill between the two costs a frame
    assert done_at_kill - 1 <= len(done) <= done_at_kill, (mode, done)

    r = cli(*argv)  # the same command again
    assert r.code == 0, r
    assert check_run_folder(work) == list(range(N_FRAMES))
    assert json.loads((work / "manifest.json").read_text())["complete"] is True
    assert temp_files(tmp_path) == []  # leftovers of kill -9 are cleared by the re-run
    final = media.read_clip(out)
    assert len(final.frames) == N_FRAMES
    resumed = [np.asarray(Image.open(work / "frames" / f"frame_{t + 1:05d}.png").convert("RGB"))
               for t in range(N_FRAMES)]
    for t, (a, b) in enumerate(zip(reference, resumed)):
        diff = np.abs(a.astype(int) - b.astype(int)).max()
        assert diff <= 1, f"frame {t + 1} differs from the uninterrupted run by {diff} levels"
    if suffix == ".gif":
        ref_gif = media.read_clip(folder / "ref" / "out.gif").frames
        for a, b in zip(ref_gif, final.frames):
            assert np.abs(a.astype(int) - b.astype(int)).max() <= 1


@pytest.mark.parametrize("mode, sig", [("midimage", signal.SIGINT), ("image_save", signal.SIGKILL)])
def test_killed_image_command(clip, cli, tmp_path, mode, sig):
    folder, _, style, _ = clip
    content = tmp_path / "content.png"
    Image.fromarray(distinct_frame(2, 16, 16)).save(content)
    out = tmp_path / "out" / "x.png"
    argv = ["image", str(content), str(style), "-o", str(out), *IMAGE_FAST]
    proc, _, release = start(folder, mode, argv)
    code, err = interrupt(proc, sig, release)
    assert not out.exists()
    if sig == signal.SIGINT:
        # Ctrl-C saves the result so far and says where; the re-run continues from it
        assert code == 130, err
        work = out.parent / ".x.png.neuralpaint"
        assert re.fullmatch(rf"error: interrupted after \d+ iterations; the result so far is "
                            rf"{re.escape(repr(str(work / 'current.png')))}; re-run the same command "
                            rf"to continue from it", err.splitlines()[-1]), err
        assert (work / "current.png").exists() and (work / "state.npy").exists()
        assert temp_files(tmp_path) == []
    else:
        assert code == -signal.SIGKILL
        assert len(temp_files(out.parent)) == 1  # kill -9 can leave the complete temporary file...
    r = cli(*argv)
    assert r.code == 0, r
    assert temp_files(tmp_path) == []  # ...which the next run clears
    with Image.open(out) as im:
        assert im.size == (16, 16)
