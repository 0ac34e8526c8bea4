"""`neuralpaint video` on the command line: --restart safety, run folders, sizes, numbering."""

from __future__ import annotations

import io
import sys

import numpy as np
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
    # --style-scale 0.05: the style's Grams at a 1024 px long side would cost most of the test
    r = cli("image", src, style, "-o", out, "--weights", "random", "--iters", "1", "--optimizer", "adam", "-q",
            "--style-scale", "0.05", *extra)
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


# -- conventions of the peers: --init-image, --flow-dir, --crf/--fps, layers ----------------------

def one_error(r) -> bool:
    """Exactly one ``error:`` line and no traceback (notices may precede it)."""
    return [line.startswith("error: ") for line in r.err.splitlines()].count(True) == 1 and "Traceback" not in r.err


def test_init_image_starts_the_first_frame(cli, clip, tmp_path):
    src, style = clip
    yy, xx = np.mgrid[0:24, 0:32]
    ramp = np.stack([xx * 6 + 30, yy * 8 + 20, np.full_like(xx, 200)], axis=2).astype(np.uint8)
    Image.fromarray(ramp).save(tmp_path / "init.png")
    few = ["--weights", "random", "--iters", "1", "--first-iters", "1", "--optimizer", "adam", "--lr", "0.001", "-q"]
    r = cli("video", src, style, "-o", tmp_path / "out/", *few, "--init-image", tmp_path / "init.png",
            "--no-temporal-init")
    assert r.code == 0, r
    first = np.asarray(Image.open(tmp_path / "out" / "frame_00001.png")).astype(int)
    second = np.asarray(Image.open(tmp_path / "out" / "frame_00002.png")).astype(int)
    assert np.abs(first - ramp).mean() < 3  # frame 1 from the init picture
    assert np.abs(second - ramp).mean() > 30  # later frames from their own content


def _flows(cli, src, folder, *extra):
    r = cli("flow", src, "-o", folder, "-q", *extra)
    assert r.code == 0, r


def test_flow_dir_reads_the_flo_files_that_neuralpaint_flow_writes(cli, clip, tmp_path):
    src, style = clip
    _flows(cli, src, tmp_path / "fl", "--offsets", "1,2,4")
    r = cli("video", src, style, "-o", tmp_path / "a/", *FAST)
    assert r.code == 0, r
    r = cli("video", src, style, "-o", tmp_path / "b/", *FAST, "--flow-dir", tmp_path / "fl")
    assert r.code == 0, r
    assert not any((tmp_path / ".b.neuralpaint" / "flows").iterdir())  # nothing computed
    for name in ("frame_00002.png", "frame_00003.png"):  # the same (DIS) flows: the same frames
        a, b = (np.asarray(Image.open(tmp_path / d / name)) for d in ("a", "b"))
        assert np.array_equal(a, b)


def test_flow_dir_missing_or_wrong_size_files_are_named_before_any_work(cli, clip, tmp_path):
    src, style = clip
    _flows(cli, src, tmp_path / "one", "--offsets", "1")  # the init also needs offset 2 here
    r = cli("video", src, style, "-o", tmp_path / "o/", *FAST, "--flow-dir", tmp_path / "one")
    assert r.code == 2 and one_error(r)
    assert "backward_00003_2.flo' does not exist and 1 more" in r.err and "--offsets 1,2,4" in r.err
    _flows(cli, src, tmp_path / "small", "--offsets", "1,2", "--size", "16")
    r = cli("video", src, style, "-o", tmp_path / "o/", *FAST, "--flow-dir", tmp_path / "small")
    assert r.code == 2 and "backward_00002_1.flo' is 16x12" in r.err and "painted at 32x24" in r.err
    assert not (tmp_path / "o").exists() and not (tmp_path / ".o.neuralpaint").exists()
    r = cli("video", src, style, "-o", tmp_path / "o/", *FAST, "--flow-dir", tmp_path / "nowhere")
    assert r.code == 2 and "nowhere" in r.err


def test_crf_sets_the_quality_and_a_re_run_only_re_encodes(cli, clip, tmp_path):
    src, style = clip
    work = tmp_path / "work"
    sizes = {}
    for crf in ("45", "5"):
        out = tmp_path / f"crf{crf}.mp4"
        r = cli("video", src, style, "-o", out, *FAST, "--work-dir", work, "--crf", crf)
        assert r.code == 0, r
        sizes[crf] = out.stat().st_size
        if crf == "45":
            painted = {f.name: f.stat().st_mtime_ns for f in (work / "frames").iterdir()}
    assert sizes["5"] > sizes["45"]
    # --crf does not change the frames: the second command resumed them all and only encoded
    assert {f.name: f.stat().st_mtime_ns for f in (work / "frames").iterdir()} == painted


@pytest.mark.parametrize("args, message", [
    (["-o", "OUT/o.mp4", "--crf", "60"], "--crf must be an integer from 0 to 51 for H.264, got 60"),
    (["-o", "OUT/o.gif", "--crf", "20"], "--crf 20 applies to a video output"),
    (["-o", "OUT/o.mp4", "--fps", "fast"], "--fps needs a frame rate such as 24, 29.97 or 30000/1001, got 'fast'"),
    (["-o", "OUT/o/", "--fps", "12"], "--fps 12 applies to a GIF or video output"),
    (["-o", "OUT/o.mp4", "--fps", "0"], "--fps must be above 0"),
])
def test_bad_crf_and_fps_are_one_line_errors(cli, clip, tmp_path, args, message):
    src, style = clip
    args = [a.replace("OUT", str(tmp_path)) for a in args]
    r = cli("video", src, style, *args, *FAST)
    assert r.code == 2 and message in r.err and one_error(r), r
    assert not any(p.name.startswith((".o", "o")) for p in tmp_path.iterdir())


def test_fps_retimes_the_output_and_refuses_audio_it_would_desync(cli, clip, tmp_path):
    from fractions import Fraction

    from mediautil import audio_info, make_video
    from neuralpaint import media

    src, style = clip
    r = cli("video", src, style, "-o", tmp_path / "g.mp4", *FAST, "--fps", "30000/1001")
    assert r.code == 0, r
    assert media.probe_clip(tmp_path / "g.mp4").fps == Fraction(30000, 1001)  # a GIF has no audio to keep
    video = tmp_path / "talk.mp4"
    make_video(video, n=3, w=32, h=24, fps=Fraction(25), audio="aac")
    r = cli("video", video, style, "-o", tmp_path / "v.mp4", *FAST, "--fps", "12")
    assert r.code == 2 and "--fps 12 differs from the source's 25 fps" in r.err and "--no-audio" in r.err
    assert not (tmp_path / ".v.mp4.neuralpaint").exists()  # refused before any work
    r = cli("video", video, style, "-o", tmp_path / "v.mp4", *FAST, "--fps", "25")
    assert r.code == 0, r  # the source's own rate keeps the audio
    assert audio_info(tmp_path / "v.mp4") is not None
    r = cli("video", video, style, "-o", tmp_path / "v12.mp4", *FAST, "--fps", "12", "--no-audio")
    assert r.code == 0, r
    assert media.probe_clip(tmp_path / "v12.mp4").fps == Fraction(12) and audio_info(tmp_path / "v12.mp4") is None


def test_video_takes_layers_and_refuses_peer_options_with_fast_or_chunks(cli, clip, tmp_path):
    src, style = clip
    r = cli("video", src, style, "-o", tmp_path / "l.gif", *FAST, "--content-layer", "relu3_1",
            "--style-layers", "relu1_1,relu2_1")
    assert r.code == 0, r
    r = cli("video", src, style, "-o", tmp_path / "x.gif", *FAST, "--style-layers", "relu6_1")
    assert r.code == 2 and "unknown style layer 'relu6_1'" in r.err
    r = cli("video", src, "-o", tmp_path / "f.gif", "--fast", tmp_path / "m.pt", "--flow-dir", tmp_path)
    assert r.code == 2 and "--flow-dir does not apply to --fast" in r.err
    r = cli("video", src, style, "-o", tmp_path / "c.gif", *FAST, "--chunks", "2", "--flow-dir", tmp_path)
    assert r.code == 2 and "does not work with --chunks 2" in r.err
