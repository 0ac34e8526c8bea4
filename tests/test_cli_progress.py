"""Progress on the command line: plain lines on a pipe, bars on a terminal, ETA, --print-every,
--save-every, and Ctrl-C in `image` saving the result so far."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from PIL import Image

from neuralpaint.cli.progress import ProgressRenderer, ProgressTracker, format_duration
from neuralpaint.events import FrameDone, FrameStarted, IterationEvent, StageEvent

FAST = ["--weights", "random", "--size", "32", "--iters", "6", "--optimizer", "adam"]


def it_event(iteration: int, elapsed: float, max_iters: int = 100, loss: float = 10.0) -> IterationEvent:
    return IterationEvent(iteration=iteration, max_iters=max_iters, loss=loss,
                          losses={"content": 1.0, "style": 9.0}, elapsed=elapsed, scale=0, scales=1,
                          size=(32, 32))


def test_eta_right_after_a_resume_uses_the_measured_seconds_per_iteration():
    t = ProgressTracker()
    for i in range(4):  # four frames of a previous run, skipped in no time
        t.update(FrameDone(frame=i, frames=10, pass_index=0, passes=1, iterations=100, loss=1.0,
                           stop_reason="max_iters", seconds=0.0, resumed=True))
    assert t.eta() is None  # nothing measured yet: no made-up ETA
    t.update(FrameStarted(frame=4, frames=10, pass_index=0, passes=1, max_iters=100))
    t.update(it_event(10, 1.0))
    t.update(it_event(20, 3.0))  # 0.2 s/it
    assert t.s_per_it == pytest.approx(0.2)
    # frame 5: 80 iterations left; frames 6-10: 5 x 100 iterations
    assert t.eta() == pytest.approx(80 * 0.2 + 5 * 100 * 0.2)


def test_eta_after_computed_frames_uses_their_mean_time():
    t = ProgressTracker()
    for i, secs in enumerate([10.0, 20.0]):
        t.update(FrameStarted(frame=i, frames=5, pass_index=0, passes=1, max_iters=100))
        t.update(FrameDone(frame=i, frames=5, pass_index=0, passes=1, iterations=100, loss=1.0,
                           stop_reason="converged", seconds=secs))
    t.update(FrameStarted(frame=2, frames=5, pass_index=0, passes=1, max_iters=100))
    t.update(it_event(5, 4.0))
    assert t.eta() == pytest.approx((15.0 - 4.0) + 2 * 15.0)


def test_plain_line_on_a_pipe_has_frame_iteration_loss_rate_and_eta(capsys):
    now = [0.0]
    r = ProgressRenderer(label="frame", interactive=False, line_seconds=5.0, clock=lambda: now[0])
    with r:
        r(FrameStarted(frame=2, frames=12, pass_index=0, passes=1, max_iters=500))
        now[0] = 6.0
        r(it_event(10, 1.0, max_iters=500))
        now[0] = 7.0  # within the interval: no line
        r(it_event(20, 3.0, max_iters=500, loss=123456.0))
        now[0] = 12.0
        r(it_event(40, 7.0, max_iters=500, loss=123456.0))
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3, lines
    # 460 iterations left of frame 3, then 9 frames x 500 iterations, at 0.2 s/it: 992 s
    assert lines[-1] == "frame 3/12  iteration 40/500  loss 1.235e+05  0.2 s/it  ETA 16:32"


def test_bars_of_a_finished_method_do_not_stay_on_screen():
    r = ProgressRenderer(label="frame", interactive=True)
    with r:
        r(StageEvent("methods", 0, 2, "naive"))
        r(StageEvent("reading", 0, 1))
        r(FrameStarted(frame=0, frames=3, pass_index=0, passes=1, max_iters=10))
        r(it_event(1, 0.1, max_iters=10))
        r(StageEvent("reading", 1, 1))
        shown = [task.description for task in r.progress.tasks]
        assert "reading" not in shown and "frames" in shown
        r(StageEvent("methods", 1, 2, "init"))
        assert [task.description for task in r.progress.tasks] == ["methods"]


def test_format_duration():
    assert [format_duration(s) for s in (None, 0, 75, 3725)] == ["?", "0:00", "1:15", "1:02:05"]


def test_image_on_a_pipe_prints_a_plain_progress_line(cli, tiny_images, tmp_path):
    content, style = tiny_images
    r = cli("image", content, style, "-o", tmp_path / "o.png", *FAST)
    assert r.code == 0, r
    assert re.search(r"^painting: iteration 1/6  loss \S+$", r.err, re.M), r.err
    assert "\x1b[" not in r.err  # no terminal control codes in a log


def test_print_every_prints_the_losses(cli, tiny_images, tmp_path):
    content, style = tiny_images
    r = cli("image", content, style, "-o", tmp_path / "o.png", *FAST, "--print-every", "2", "-q")
    assert r.code == 0, r
    found = re.findall(r"^iteration (\d+)/6: loss \S+ \(content \S+, style \S+, tv \S+\)$", r.err, re.M)
    assert found == ["2", "4", "6"], r.err


def test_save_every_writes_the_current_frame_into_the_run_folder(cli, tmp_path):
    from mediautil import distinct_frame, write_gif
    src = tmp_path / "clip.gif"
    write_gif(src, [distinct_frame(i, 24, 32) for i in range(2)], [80, 80])
    style = tmp_path / "style.png"
    Image.fromarray(distinct_frame(7, 24, 24)).save(style)
    out = tmp_path / "out.gif"
    r = cli("video", src, style, "-o", out, *FAST, "--first-iters", "4", "--save-every", "2", "-q")
    assert r.code == 0, r
    current = tmp_path / ".out.gif.neuralpaint" / "current.png"
    assert f"every 2 iterations to {str(current)!r}" in r.err
    with Image.open(current) as im:
        assert im.size == (32, 24)


@pytest.mark.parametrize("bad", ["-1", "x"])
def test_bad_print_every_is_one_line(cli, tiny_images, tmp_path, bad):
    content, style = tiny_images
    r = cli("image", content, style, "-o", tmp_path / "o.png", *FAST, "--print-every", bad)
    assert r.code == 2 and r.err.startswith("error: ") and bad in r.err, r


def test_ctrl_c_in_image_saves_the_result_and_a_rerun_continues(cli, tiny_images, tmp_path, monkeypatch):
    import neuralpaint.optimize as opt
    content, style = tiny_images
    out = tmp_path / "o.png"
    real = opt.Objective.__call__
    calls = {"n": 0}

    def interrupting(self, x):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        return real(self, x)

    monkeypatch.setattr(opt.Objective, "__call__", interrupting)
    r = cli("image", content, style, "-o", out, *FAST, "-q")
    work = tmp_path / ".o.png.neuralpaint"
    assert r.code == 130, r
    assert r.err.strip().splitlines()[-1] == (
        f"error: interrupted after 3 iterations; the result so far is {str(work / 'current.png')!r}; "
        f"re-run the same command to continue from it")
    assert not out.exists()
    assert json.loads((work / "manifest.json").read_text())["iterations"] == 3
    with Image.open(work / "current.png") as im:
        assert im.size == (32, 24)

    monkeypatch.setattr(opt.Objective, "__call__", real)
    r = cli("image", content, style, "-o", out, *FAST, "-q")
    assert r.code == 0, r
    assert "continuing from the result saved after 3 iterations" in r.err
    assert "(6 iterations" in r.out  # 3 before the interruption + 3 now, not 6 more
    assert out.exists() and not work.exists()  # a finished image keeps no run folder


def test_rerun_with_other_settings_starts_over(cli, tiny_images, tmp_path):
    from neuralpaint.runstate import ImageRun
    content, style = tiny_images
    out = tmp_path / "o.png"
    work = tmp_path / ".o.png.neuralpaint"
    ImageRun(work, {"content": "another"}).save(0, 3, np.zeros((24, 32, 3), np.float32),
                                                 np.zeros((24, 32, 3), np.uint8))
    r = cli("image", content, style, "-o", out, *FAST, "-q", "--keep-work")
    assert r.code == 0, r
    assert "continuing" not in r.err and "(6 iterations" in r.out
    assert work.exists()  # --keep-work
