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


def test_default_size_never_upscales_a_small_clip(cli, clip, tmp_path):
    src, style = clip
    out = tmp_path / "o.gif"
    r = cli("video", src, style, "-o", out, *FAST)  # no --size: at most 512, here the clip's 32x24
    assert r.code == 0, r
    from neuralpaint import media
    assert media.read_clip(out).frames[0].shape[:2] == (24, 32)


@pytest.mark.parametrize("size, expected", [(None, (34, 512)), ("source", (40, 600)), ("1024", (68, 1024))])
def test_size_default_source_and_explicit(cli, tmp_path, size, expected):
    from neuralpaint.cli.options import parse_size
    from neuralpaint import media
    # a 40x600 strip: cheap to paint even at 600 px
    long_side, upscale = parse_size(size)
    assert media.working_long_side(long_side, 40, 600, upscale=upscale) == expected[1]
    src = tmp_path / "strip.png"
    Image.fromarray(distinct_frame(1, 40, 600)).save(src)
    style = tmp_path / "style.png"
    Image.fromarray(distinct_frame(7, 24, 24)).save(style)
    out = tmp_path / "o.png"
    extra = [] if size is None else ["--size", size]
    r = cli("image", src, style, "-o", out, "--weights", "random", "--iters", "1", "--optimizer", "adam", "-q", *extra)
    assert r.code == 0, r
    with Image.open(out) as im:
        assert im.size == (expected[1], expected[0])


def test_explicit_size_enlarges_and_bad_size_is_one_line(cli, clip, tmp_path):
    from neuralpaint import media
    assert media.working_long_side(64, 24, 32, upscale=True) == 64
    assert media.working_long_side(512, 8, 12, upscale=False) == 16  # VGG's minimum
    src, style = clip
    r = cli("video", src, style, "-o", tmp_path / "o.gif", *FAST, "--size", "big")
    assert r.code == 2 and r.err.startswith("error: Invalid value for '--size'") and "'big'" in r.err, r


def test_summary_says_where_the_run_folder_is_and_how_big(cli, clip, tmp_path):
    from neuralpaint.runstate import folder_size, format_bytes
    src, style = clip
    out = tmp_path / "o.gif"
    r = cli("video", src, style, "-o", out, *FAST)
    assert r.code == 0, r
    work = tmp_path / ".o.gif.neuralpaint"
    assert f"run folder {work}, {format_bytes(folder_size(work))};" in r.out, r.out


def test_no_keep_work_removes_the_run_folder(cli, clip, tmp_path):
    src, style = clip
    out = tmp_path / "o.gif"
    r = cli("video", src, style, "-o", out, *FAST, "--no-keep-work")
    assert r.code == 0, r
    assert out.exists() and not (tmp_path / ".o.gif.neuralpaint").exists()
    assert "run folder removed (--no-keep-work)" in r.out


def test_clean_lists_and_removes_only_finished_run_folders(cli, clip, tmp_path, monkeypatch):
    import json
    src, style = clip
    assert cli("video", src, style, "-o", tmp_path / "a.gif", *FAST).code == 0
    assert cli("video", src, style, "-o", tmp_path / "b.gif", *FAST).code == 0
    unfinished = tmp_path / ".b.gif.neuralpaint"
    data = json.loads((unfinished / "manifest.json").read_text())
    data["complete"] = False
    (unfinished / "manifest.json").write_text(json.dumps(data))
    finished_dir = tmp_path / ".a.gif.neuralpaint"

    r = cli("clean", tmp_path)  # not a terminal, no --yes: lists only
    assert r.code == 0, r
    assert str(finished_dir) in r.out and "unfinished" in r.out and "nothing removed: add --yes" in r.out
    assert finished_dir.exists()

    r = cli("clean", tmp_path, "--yes")
    assert r.code == 0, r
    assert "removed 1 finished run folder" in r.out
    assert not finished_dir.exists() and unfinished.exists()
    assert (tmp_path / "a.gif").exists()  # outputs are never touched

    r = cli("clean", tmp_path / "missing")
    assert r.code == 2 and "missing" in r.err


def test_start_end_folder_output_is_numbered_by_source_frame(cli, tmp_path):
    src = tmp_path / "clip.gif"
    write_gif(src, [distinct_frame(i, 24, 32) for i in range(8)], [80] * 8)
    style = tmp_path / "style.png"
    Image.fromarray(distinct_frame(7, 24, 24)).save(style)
    out = tmp_path / "out"
    r = cli("video", src, style, "-o", f"{out}/", *FAST, "--start", "3", "--end", "5", "--no-short-term")
    assert r.code == 0, r
    assert sorted(p.name for p in out.iterdir()) == ["frame_00003.png", "frame_00004.png", "frame_00005.png"]


def test_an_existing_output_is_replaced_with_a_notice(cli, clip, tmp_path):
    src, style = clip
    out = tmp_path / "o.gif"
    r = cli("video", src, style, "-o", out, *FAST)
    assert r.code == 0 and "will be replaced" not in r.err, r
    r = cli("video", src, style, "-o", out, *FAST)
    assert r.code == 0, r
    assert f"notice: {str(out)!r} exists; it will be replaced" in r.err
