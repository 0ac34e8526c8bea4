"""`--preview`: the self-refreshing HTML page of a running render (neuralpaint.cli.preview)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile

import numpy as np
import pytest
import torch
from PIL import Image

from mediautil import distinct_frame, write_gif
from neuralpaint.cli.preview import LivePreview, loss_svg, preview_path, thin
from neuralpaint.events import FrameDone, FrameStarted, IterationEvent

FAST = ["--weights", "random", "--size", "32", "--iters", "6", "--optimizer", "adam"]


def it_event(iteration: int, loss: float, elapsed: float, colour: float = 0.25) -> IterationEvent:
    image = torch.full((1, 3, 12, 16), colour)
    return IterationEvent(iteration=iteration, max_iters=100, loss=loss, losses={"style": loss},
                          elapsed=elapsed, scale=0, scales=1, size=(12, 16), snapshot=lambda: image)


def polyline_points(html: str) -> list[list[tuple[float, float]]]:
    return [[tuple(map(float, p.split(","))) for p in pts.split()]
            for pts in re.findall(r'<polyline[^>]* points="([^"]*)"', html)]


def test_page_shows_the_latest_frame_the_loss_curve_and_progress(tmp_path):
    now = [0.0]
    page = tmp_path / "out.gif.preview.html"
    live = LivePreview(page, "neuralpaint: out.gif", [("input", "clip.gif"), ("options", "iters 100")],
                       seconds=3.0, clock=lambda: now[0])
    with live:
        live(FrameDone(frame=0, frames=5, pass_index=0, passes=1, iterations=100, loss=4.0,
                       stop_reason="converged", seconds=10.0))
        live(FrameStarted(frame=1, frames=5, pass_index=0, passes=1, max_iters=100))
        for k, it in enumerate((5, 10, 15, 20)):
            now[0] = 1.0 + k  # the image only every 3 s: at 1 s (the first), then at 4 s
            live(it_event(it, loss=100.0 / it, elapsed=0.5 * it, colour=0.25 if k < 3 else 0.75))
        html = page.read_text()
        assert '<meta http-equiv="refresh" content="3">' in html
        assert "frame 2/5" in html and "iteration 20/100" in html and "ETA" in html
        assert re.search(r'<img id="latest" src="out.gif.preview_files/latest.png\?v=2"', html)
        latest = np.asarray(Image.open(tmp_path / "out.gif.preview_files" / "latest.png"))
        assert latest.shape == (12, 16, 3) and (latest == 191).all()  # the snapshot at 4 s (0.75)
        curve, per_frame = polyline_points(html)
        assert len(curve) == 4 and len(per_frame) == 1  # iterations of frame 2; frame 1's final loss
        xs, ys = zip(*curve)
        assert list(xs) == sorted(xs) and list(ys) == sorted(ys)  # loss falls: y grows downwards
        assert "loss of frame 2/5" in html and "clip.gif" in html and "iters 100" in html
        live.finish("wrote 'out.gif'", image=np.zeros((12, 16, 3), np.uint8), caption="frame 5/5")
    html = page.read_text()
    assert "http-equiv" not in html  # a finished page stops reloading
    assert "<b>finished</b>: wrote &#x27;out.gif&#x27;" in html and "latest.png?v=3" in html


def test_a_render_that_fails_leaves_a_page_that_says_it_stopped_and_why(tmp_path):
    page = tmp_path / "p.html"
    with pytest.raises(ValueError):
        with LivePreview(page, "t", [], clock=lambda: 0.0):
            raise ValueError("the loss became NaN\nsecond line")
    html = page.read_text()
    assert "<b>stopped</b>: the loss became NaN" in html and "second line" not in html
    assert "http-equiv" not in html


def test_loss_svg_uses_a_log_scale_and_survives_no_points_and_non_finite_ones():
    svg = loss_svg([(1, 1000.0), (2, 10.0), (3, float("nan")), (4, 0.1)], "loss", "iteration")
    (pts,) = polyline_points(svg)
    ys = [y for _, y in pts]
    assert len(pts) == 3 and ys[1] - ys[0] == pytest.approx(ys[2] - ys[1])  # equal decades, equal steps
    assert "log scale" in svg and ">1000<" in svg
    assert "<polyline" not in loss_svg([], "loss", "iteration")


def test_thin_keeps_the_newest_point_and_at_most_the_limit():
    pts = [(float(i), 1.0) for i in range(1000)]
    out = thin(pts, 100)
    assert len(out) <= 100 and out[-1] == pts[-1] and out[0] == pts[0]


def test_image_preview_beside_the_output_path_said_once_and_finished(cli, tiny_images, tmp_path):
    c, s = tiny_images
    out = tmp_path / "o.png"
    r = cli("image", c, s, "-o", out, *FAST, "--preview")
    assert r.code == 0, r
    page = preview_path(out)
    assert page == tmp_path / "o.png.preview.html"
    assert r.err.count("live preview:") == 1 and str(page) in r.err
    html = page.read_text()
    assert "<b>finished</b>" in html and "http-equiv" not in html
    final = np.asarray(Image.open(tmp_path / "o.png.preview_files" / "latest.png"))
    assert np.array_equal(final, np.asarray(Image.open(out)))  # the finished page shows the result
    assert len(polyline_points(html)[0]) >= 2 and re.search(r"iteration \d/6", html)
    assert not (tmp_path / ".o.png.neuralpaint").exists()  # the page outlives the image's run folder


def test_video_preview_shows_the_last_frame_and_a_loss_per_frame(cli, tmp_path):
    src = tmp_path / "clip.gif"
    write_gif(src, [distinct_frame(i, 24, 32) for i in range(3)], [80] * 3)
    style = tmp_path / "style.png"
    Image.fromarray(distinct_frame(7, 24, 24)).save(style)
    out = tmp_path / "v.gif"
    r = cli("video", src, style, "-o", out, "--weights", "random", "--iters", "2", "--first-iters", "2",
            "--optimizer", "adam", "-q", "--preview", "--no-keep-work")
    assert r.code == 0, r
    html = (tmp_path / "v.gif.preview.html").read_text()
    assert "<b>finished</b>" in html and "frame 3/3" in html
    assert len(polyline_points(html)[1]) == 3  # the final loss of each of the 3 frames
    last = np.asarray(Image.open(tmp_path / "v.gif.preview_files" / "latest.png"))
    assert last.shape == (24, 32, 3)


def test_preview_is_refused_with_chunks_and_with_fast(cli, tiny_images, tmp_path):
    c, s = tiny_images
    r = cli("video", c, s, "-o", tmp_path / "v.gif", "--preview", "--chunks", "2", "--weights", "random")
    assert r.code == 2 and "--preview needs a single chain" in r.err and "--chunks 2" in r.err
    r = cli("image", c, "-o", tmp_path / "f.png", "--fast", tmp_path / "none.pt", "--preview")
    assert r.code == 2 and r.err.count("\n") == 1


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow
@pytest.mark.skipif(_chromium() is None, reason="needs chromium (apt-get install chromium)")
def test_the_page_renders_in_a_real_headless_browser(cli, tiny_images, tmp_path):
    c, s = tiny_images
    out = tmp_path / "o.png"
    assert cli("image", c, s, "-o", out, *FAST, "--iters", "20", "--preview").code == 0
    shot = tmp_path / "shot.png"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        "--no-first-run", f"--user-data-dir={profile}", f"--screenshot={shot}",
                        "--window-size=1280,900", preview_path(out).resolve().as_uri()],
                       check=True, capture_output=True, timeout=120)
    px = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert px.shape[:2] == (900, 1280)
    assert (px.std(axis=(0, 1)) > 20).all()  # not one flat colour
    assert (np.abs(px - 255).sum(axis=2) > 60).mean() > 0.05  # a good part of it is not blank
    curve = (np.abs(px - [0x34, 0x65, 0xa4]).sum(axis=2) < 40).sum()
    assert curve > 200  # the loss curve's blue line was drawn
    # the painted image (shown at least 256 px wide) is on the page: its colours are
    painted = np.asarray(Image.open(out).convert("RGB")).astype(int)

    def codes(a: np.ndarray) -> np.ndarray:
        return (a[..., 0] << 16) | (a[..., 1] << 8) | a[..., 2]
    assert np.isin(codes(px), codes(painted)).sum() > 0.5 * 256 * 192
