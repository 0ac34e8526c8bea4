"""Disk full (ENOSPC) and permission denied (EACCES) while a render writes its files.

Each test makes one real writer fail at one moment (a patched PIL save / numpy save / fsync /
encoder call raising the OSError a full disk or a read-only folder gives), runs the real CLI
in-process and checks: exit 2, one line ``error: cannot write '<file>': <reason>``, no temporary
file left, no output file, the files written before the failure byte-for-byte unchanged, the
manifest valid, and a re-run of the same command resuming (finished frames are not redone).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mediautil import distinct_frame, write_gif
from neuralpaint import media
from neuralpaint.atomic import is_temp_name

N = 3
FAST = ["--weights", "random", "--size", "16", "--optimizer", "adam", "--iters", "1",
        "--first-iters", "1", "-q"]


def oserror(code: int) -> OSError:
    return OSError(code, os.strerror(code))


@pytest.fixture
def job(tmp_path):
    src = tmp_path / "clip.gif"
    write_gif(src, [distinct_frame(i, 16, 16) for i in range(N)], [80] * N)
    style = tmp_path / "style.png"
    Image.fromarray((np.random.default_rng(5).random((16, 16, 3)) * 255).astype(np.uint8)).save(style)
    return tmp_path, src, style


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` (what a failure must not change)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def temps(folder: Path) -> list[str]:
    return [str(p) for p in folder.rglob("*") if is_temp_name(p.name)]


def one_error_line(r) -> str:
    assert r.code == 2, r
    assert "Traceback" not in r.err
    lines = [ln for ln in r.err.splitlines() if ln.strip() and not ln.startswith("notice:")]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.err
    return lines[0]


def done_frames(work: Path) -> list[int]:
    data = json.loads((work / "manifest.json").read_text())
    return [t for t, rec in enumerate(data["frames"]) if rec["passes_done"] >= 1]


class Fault:
    """Raise ``error`` from a patched writer the first time ``match(name)`` holds, after taking
    a snapshot of the run folder (to check later that nothing written before changed)."""

    def __init__(self, error: OSError, work: Path):
        self.error, self.work, self.before, self.fired = error, work, None, False

    def fire(self) -> None:
        self.before = {k: v for k, v in snapshot(self.work).items() if not is_temp_name(Path(k).name)}
        self.fired = True
        raise self.error


def patch_pil_save(monkeypatch, fault: Fault, prefix: str) -> None:
    real = Image.Image.save

    def save(self, fp, *a, **k):
        if not fault.fired and Path(os.fspath(fp)).name.startswith(prefix):
            Path(os.fspath(fp)).write_bytes(b"\x89PNG\r\n half a file")  # what a full disk leaves
            fault.fire()
        return real(self, fp, *a, **k)

    monkeypatch.setattr(Image.Image, "save", save)


def check_failed_run(r, fault: Fault, root: Path, out: Path, work: Path, file_name: str, reason: str) -> None:
    line = one_error_line(r)
    assert fault.fired
    assert file_name in line and reason in line, line
    assert line.startswith("error: cannot write"), line
    assert temps(root) == []
    assert not out.exists()
    after = snapshot(work)
    changed = [k for k, v in fault.before.items() if after.get(k) != v and k != "manifest.json"]
    assert changed == [], changed  # frames and float state written before the failure are intact
    json.loads((work / "manifest.json").read_text())  # still valid


def rerun_resumes(cli, argv: list[str], work: Path, out: Path, finished: list[int]) -> None:
    kept = {t: (work / "frames" / f"frame_{t + 1:05d}.png").stat().st_mtime_ns for t in finished}
    r = cli(*argv)
    assert r.code == 0, r
    assert done_frames(work) == list(range(N))
    assert len(media.read_clip(out).frames) == N
    for t, mtime in kept.items():  # finished frames were resumed, not rendered again
        assert (work / "frames" / f"frame_{t + 1:05d}.png").stat().st_mtime_ns == mtime
    assert temps(out.parent) == []


@pytest.mark.parametrize("code, reason", [(errno.ENOSPC, "No space left on device"),
                                          (errno.EACCES, "Permission denied")])
def test_frame_write_fails(cli, job, monkeypatch, code, reason):
    root, src, style = job
    out, work = root / "out.gif", root / ".out.gif.neuralpaint"
    argv = ["video", src, style, "-o", out, *FAST]
    fault = Fault(oserror(code), work)
    with monkeypatch.context() as m:
        patch_pil_save(m, fault, ".frame_00003.png.")
        r = cli(*argv)
    check_failed_run(r, fault, root, out, work, "frame_00003.png", reason)
    assert done_frames(work) == [0, 1]
    rerun_resumes(cli, argv, work, out, [0, 1])


def test_state_write_fails(cli, job, monkeypatch):
    root, src, style = job
    out, work = root / "out.gif", root / ".out.gif.neuralpaint"
    argv = ["video", src, style, "-o", out, *FAST]
    fault = Fault(oserror(errno.EACCES), work)
    real = np.save

    def save(fh, arr, *a, **k):
        if not fault.fired and ".raw_00002.npy." in str(getattr(fh, "name", fh)):
            fh.write(b"\x93NUMPY half")
            fault.fire()
        return real(fh, arr, *a, **k)

    with monkeypatch.context() as m:
        m.setattr(np, "save", save)
        r = cli(*argv)
    check_failed_run(r, fault, root, out, work, "raw_00002.npy", "Permission denied")
    assert done_frames(work) == [0]
    rerun_resumes(cli, argv, work, out, [0])


def test_manifest_write_fails(cli, job, monkeypatch):
    root, src, style = job
    out, work = root / "out.gif", root / ".out.gif.neuralpaint"
    argv = ["video", src, style, "-o", out, *FAST]
    fault = Fault(oserror(errno.ENOSPC), work)
    real = os.fsync
    seen = {"manifest": 0}

    def fsync(fd):
        name = os.readlink(f"/proc/self/fd/{fd}") if os.path.exists("/proc/self/fd") else ""
        if ".manifest.json." in name:
            seen["manifest"] += 1
            if seen["manifest"] == 3 and not fault.fired:  # open, frame 1, then frame 2's update
                fault.fire()
        return real(fd)

    if not os.path.exists("/proc/self/fd"):
        pytest.skip("needs /proc/self/fd to tell which file is being synced")
    with monkeypatch.context() as m:
        m.setattr(os, "fsync", fsync)
        r = cli(*argv)
    check_failed_run(r, fault, root, out, work, "manifest.json", "No space left on device")
    # the manifest on disk is the one before the failed update: frame 1 done, frame 2 not recorded
    assert fault.before["manifest.json"] == snapshot(work)["manifest.json"]
    assert done_frames(work) == [0]
    rerun_resumes(cli, argv, work, out, [0])


def test_gif_encode_fails(cli, job, monkeypatch):
    root, src, style = job
    out, work = root / "out.gif", root / ".out.gif.neuralpaint"
    argv = ["video", src, style, "-o", out, *FAST]
    fault = Fault(oserror(errno.ENOSPC), work)
    with monkeypatch.context() as m:
        patch_pil_save(m, fault, ".out.gif.")
        r = cli(*argv)
    check_failed_run(r, fault, root, out, work, "out.gif", "No space left on device")
    assert done_frames(work) == list(range(N))  # every frame is kept: a re-run only encodes
    rerun_resumes(cli, argv, work, out, list(range(N)))


def test_mp4_encode_fails_mid_stream(cli, job, monkeypatch):
    import av

    root, src, style = job
    out, work = root / "out.mp4", root / ".out.mp4.neuralpaint"
    argv = ["video", src, style, "-o", out, *FAST]
    fault = Fault(oserror(errno.ENOSPC), work)
    real = media.encode._pad_even
    count = {"n": 0}

    def pad_even(arr):
        count["n"] += 1
        if count["n"] == 2 and not fault.fired:
            fault.before = {k: v for k, v in snapshot(work).items() if not is_temp_name(Path(k).name)}
            fault.fired = True
            av.error.err_check(-errno.ENOSPC, "out.mp4")  # what PyAV raises when a write fails
        return real(arr)

    with monkeypatch.context() as m:
        m.setattr(media.encode, "_pad_even", pad_even)
        r = cli(*argv)
    check_failed_run(r, fault, root, out, work, "out.mp4", "No space left on device")
    rerun_resumes(cli, argv, work, out, list(range(N)))


def test_flow_cache_write_fails(cli, job, monkeypatch):
    root, src, style = job
    out, work = root / "out.gif", root / ".out.gif.neuralpaint"
    argv = ["video", src, style, "-o", out, *FAST]
    fault = Fault(oserror(errno.ENOSPC), work)
    real = np.savez

    def savez(fh, *a, **k):
        if not fault.fired:
            fh.write(b"PK half")
            fault.before = {}
            fault.fired = True
            raise fault.error
        return real(fh, *a, **k)

    with monkeypatch.context() as m:
        m.setattr(np, "savez", savez)
        r = cli(*argv)
    line = one_error_line(r)
    assert "cannot write" in line and ".npz" in line and "No space left on device" in line, line
    assert temps(root) == [] and not out.exists()
    rerun_resumes(cli, argv, work, out, [])


def test_image_output_write_fails(cli, job, monkeypatch):
    root, _, style = job
    content = root / "content.png"
    Image.fromarray(distinct_frame(1, 16, 16)).save(content)
    out = root / "result.png"
    fault = Fault(oserror(errno.EACCES), root / "nothing")
    with monkeypatch.context() as m:
        patch_pil_save(m, fault, ".result.png.")
        r = cli("image", content, style, "-o", out, *FAST[:8], "-q")
    line = one_error_line(r)
    assert line == f"error: cannot write {str(out)!r}: Permission denied", line
    assert not out.exists() and temps(root) == []
