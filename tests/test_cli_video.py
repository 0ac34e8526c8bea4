"""`neuralpaint video` on the command line: --restart safety, run folders, sizes, numbering."""

from __future__ import annotations

import io
import sys

import pytest
from PIL import Image

from mediautil import distinct_frame, write_gif

FAST = ["--weights", "random", "--iters", "2", "--first-iters", "2", "--optimizer", "adam", "-q"]


@pytest.fixture
def clip(tmp_path):
    src = tmp_path / "clip.gif"
    write_gif(src, [distinct_frame(i, 24, 32) for i in range(3)], [80] * 3)
    style = tmp_path / "style.png"
    Image.fromarray(distinct_frame(7, 24, 24)).save(style)
    return src, style


def finished(work):
    return sorted(p.name for p in (work / "frames").glob("frame_*.png"))


def test_restart_off_a_terminal_needs_yes_and_keeps_the_frames(cli, clip, tmp_path):
    src, style = clip
    out = tmp_path / "o.gif"
    assert cli("video", src, style, "-o", out, *FAST).code == 0
    work = tmp_path / ".o.gif.neuralpaint"
    before = finished(work)
    r = cli("video", src, style, "-o", out, *FAST, "--restart")
    assert r.code == 2, r
    assert r.err.strip() == (f"error: --restart discards the 3 finished frames in {str(work)!r}; "
                             f"add --yes to confirm (or drop --restart to resume)")
    assert finished(work) == before


def test_restart_on_a_terminal_asks_and_no_keeps_everything(cli, clip, tmp_path, monkeypatch):
    src, style = clip
    out = tmp_path / "o.gif"
    assert cli("video", src, style, "-o", out, *FAST).code == 0
    work = tmp_path / ".o.gif.neuralpaint"

    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stdin", Tty("n\n"))
    r = cli("video", src, style, "-o", out, *FAST, "--restart")
    assert r.code == 2 and "Continue?" in r.err and "nothing discarded: 3 finished frames kept" in r.err, r
    assert len(finished(work)) == 3


def test_restart_with_yes_removes_the_old_frames_and_flows(cli, clip, tmp_path):
    src, style = clip
    out = tmp_path / "o.gif"
    assert cli("video", src, style, "-o", out, *FAST, "--end", "2").code == 0
    work = tmp_path / ".o.gif.neuralpaint"
    stale = work / "flows" / "from_the_old_run.npz"
    stale.write_bytes(b"old")
    r = cli("video", src, style, "-o", out, *FAST, "--end", "2", "--style-weight", "5", "--restart", "--yes")
    assert r.code == 0, r
    assert not stale.exists()
    assert len(finished(work)) == 2
