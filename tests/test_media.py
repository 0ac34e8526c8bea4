"""neuralpaint.media: images, GIFs, videos, frame folders; conversions; errors; atomic writes."""

from __future__ import annotations

import errno
import re
import struct
import zlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from neuralpaint import media
from neuralpaint.errors import InputError

from mediautil import audio_info, distinct_frame, frame_times, make_video, write_gif

ROOT = Path(__file__).resolve().parent.parent


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------

def no_temp_files(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.startswith(".") and ".tmp" in p.name]


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def match(path: Path, reason: str = "") -> str:
    return re.escape(str(path)) + (".*" + reason if reason else "")


# ----------------------------------------------------------------------------------------------
# load_image: modes
# ----------------------------------------------------------------------------------------------

def test_palette_image(tmp_path):
    im = Image.new("P", (3, 1))
    im.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * (253 * 3))
    im.putdata([0, 1, 2])
    im.save(tmp_path / "p.png")
    arr = media.load_image(tmp_path / "p.png")
    assert arr.dtype == np.uint8 and arr.shape == (1, 3, 3)
    assert arr.tolist() == [[[255, 0, 0], [0, 255, 0], [0, 0, 255]]]


def test_palette_transparency_composited_over_white(tmp_path):
    im = Image.new("P", (2, 1))
    im.putpalette([255, 0, 0, 0, 0, 0] + [0] * (254 * 3))
    im.putdata([0, 1])
    im.save(tmp_path / "pt.png", transparency=1)
    assert media.load_image(tmp_path / "pt.png").tolist() == [[[255, 0, 0], [255, 255, 255]]]


def test_rgba_composited_over_white(tmp_path):
    a = np.array([[[255, 0, 0, 255], [255, 0, 0, 0], [0, 0, 0, 128]]], np.uint8)
    Image.fromarray(a, "RGBA").save(tmp_path / "a.png")
    arr = media.load_image(tmp_path / "a.png")
    assert arr[0, 0].tolist() == [255, 0, 0]
    assert arr[0, 1].tolist() == [255, 255, 255]
    assert np.abs(arr[0, 2].astype(int) - 127).max() <= 1
    la = np.array([[[0, 0], [200, 255]]], np.uint8)
    Image.fromarray(la, "LA").save(tmp_path / "la.png")
    assert media.load_image(tmp_path / "la.png").tolist() == [[[255] * 3, [200] * 3]]


def test_16bit_grayscale_is_scaled_not_clipped(tmp_path):
    a = np.array([[0, 257, 32768, 65535]], np.uint16)
    Image.fromarray(a).save(tmp_path / "g16.png")
    assert Image.open(tmp_path / "g16.png").mode.startswith("I")
    arr = media.load_image(tmp_path / "g16.png")
    assert arr.shape == (1, 4, 3)
    assert arr[0, :, 0].tolist() == [0, 1, 128, 255]
    assert (arr[..., 0] == arr[..., 2]).all()


def test_48bit_rgb_png(tmp_path):
    import cv2
    rgb = np.array([[[65535, 32768, 0], [257, 0, 65535]]], np.uint16)
    cv2.imwrite(str(tmp_path / "c48.png"), rgb[..., ::-1])
    arr = media.load_image(tmp_path / "c48.png")
    assert arr.dtype == np.uint8
    assert arr.tolist() == [[[255, 128, 0], [1, 0, 255]]]


def test_grayscale_and_bilevel(tmp_path):
    Image.fromarray(np.array([[0, 77, 255]], np.uint8), "L").save(tmp_path / "l.png")
    assert media.load_image(tmp_path / "l.png").tolist() == [[[0] * 3, [77] * 3, [255] * 3]]
    b = Image.new("1", (2, 1))
    b.putpixel((1, 0), 1)
    b.save(tmp_path / "b.png")
    assert media.load_image(tmp_path / "b.png").tolist() == [[[0] * 3, [255] * 3]]


def test_cmyk_jpeg(tmp_path):
    im = Image.new("CMYK", (16, 8), (0, 0, 0, 0))
    im.paste((0, 255, 255, 0), (8, 0, 16, 8))
    im.save(tmp_path / "cmyk.jpg", quality=100)
    arr = media.load_image(tmp_path / "cmyk.jpg")
    assert arr.shape == (8, 16, 3)
    assert np.abs(arr[4, 2].astype(int) - [255, 255, 255]).max() <= 6
    assert np.abs(arr[4, 13].astype(int) - [255, 0, 0]).max() <= 6


def test_exif_orientation_applied(tmp_path):
    a = np.zeros((2, 3, 3), np.uint8)
    a[0, 0] = (255, 0, 0)
    a[1, 2] = (0, 0, 255)
    im = Image.fromarray(a)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: display turned 90 degrees clockwise
    im.save(tmp_path / "rot.png", exif=exif)
    arr = media.load_image(tmp_path / "rot.png")
    assert arr.shape == (3, 2, 3)
    np.testing.assert_array_equal(arr, np.rot90(a, k=-1))


def test_one_pixel_image(tmp_path):
    Image.new("RGB", (1, 1), (9, 8, 7)).save(tmp_path / "one.png")
    assert media.load_image(tmp_path / "one.png").tolist() == [[[9, 8, 7]]]


def test_decompression_bomb_header(tmp_path):
    p = tmp_path / "bomb.png"
    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
                  + png_chunk(b"IDAT", zlib.compress(b"\0" * 100)) + png_chunk(b"IEND", b""))
    with pytest.raises(InputError, match=match(p, "pixels is more than the limit")):
        media.load_image(p)
    with pytest.raises(InputError, match=match(p, "limit")):
        media.read_clip(p)


def test_pixel_limit_parameter(tmp_path):
    Image.new("RGB", (40, 30)).save(tmp_path / "x.png")
    with pytest.raises(InputError, match="12000x10000 pixels is more than the limit of 100 MP"):
        media.limits._check_pixels(tmp_path / "x.png", "image", 12000, 10000, media.MAX_PIXELS)
    with pytest.raises(InputError, match="40x30 pixels"):
        media.load_image(tmp_path / "x.png", max_pixels=1000)
    assert media.load_image(tmp_path / "x.png", max_pixels=1200).shape == (30, 40, 3)


def test_pillow_bomb_warning_and_error_become_ours(tmp_path, monkeypatch, recwarn):
    Image.new("RGB", (15, 10)).save(tmp_path / "warn.png")
    Image.new("RGB", (30, 10)).save(tmp_path / "err.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    # Pillow would warn (more than 100 px) but our own limit decides: no warning escapes.
    assert media.load_image(tmp_path / "warn.png").shape == (10, 15, 3)
    assert not [w for w in recwarn if issubclass(w.category, Image.DecompressionBombWarning)]
    # Beyond twice its limit Pillow refuses to open: that is an InputError naming the file.
    with pytest.raises(InputError, match=match(tmp_path / "err.png", "300 pixels is more than the limit")):
        media.load_image(tmp_path / "err.png")


# ----------------------------------------------------------------------------------------------
# load_image: bad files
# ----------------------------------------------------------------------------------------------

def test_missing_directory_empty_text(tmp_path):
    with pytest.raises(InputError, match=match(tmp_path / "nope.png", "no such file")):
        media.load_image(tmp_path / "nope.png")
    with pytest.raises(InputError, match=match(tmp_path, "folder")):
        media.load_image(tmp_path)
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(InputError, match=match(tmp_path / "empty.png", "empty")):
        media.load_image(tmp_path / "empty.png")
    (tmp_path / "t.png").write_text("hello, not an image\n")
    with pytest.raises(InputError, match=match(tmp_path / "t.png", "not an image")):
        media.load_image(tmp_path / "t.png")


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_truncated_image(tmp_path, suffix):
    rng = np.random.default_rng(0)
    p = tmp_path / f"full{suffix}"
    Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(p)
    data = p.read_bytes()
    t = tmp_path / f"cut{suffix}"
    t.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=match(t, "truncated")) as ei:
        media.load_image(t)
    assert "\n" not in str(ei.value)


# ----------------------------------------------------------------------------------------------
# resize, save, tensors
# ----------------------------------------------------------------------------------------------

def test_resize_long_side():
    img = np.zeros((50, 100, 3), np.uint8)
    assert media.resize_long_side(img, 40).shape == (20, 40, 3)
    assert media.resize_long_side(img, 300).shape == (150, 300, 3)
    assert media.resize_long_side(np.zeros((1000, 2, 3), np.uint8), 10).shape == (10, 1, 3)
    same = np.full((5, 7, 3), 33, np.uint8)
    assert media.resize_long_side(same, 7) is same
    big = media.resize_long_side(np.full((5, 7, 3), 33, np.uint8), 14)
    assert big.dtype == np.uint8 and (big == 33).all()
    with pytest.raises(InputError, match="0"):
        media.resize_long_side(img, 0)


def test_save_image_formats(tmp_path):
    rng = np.random.default_rng(1)
    img = rng.integers(0, 255, (20, 30, 3), dtype=np.uint8)
    media.save_image(tmp_path / "a.png", img)
    np.testing.assert_array_equal(media.load_image(tmp_path / "a.png"), img)
    smooth = np.repeat(np.linspace(0, 255, 30, dtype=np.uint8)[None, :, None], 20, 0).repeat(3, 2)
    for name in ("a.jpg", "a.jpeg", "a.webp"):
        media.save_image(tmp_path / name, smooth)
        back = media.load_image(tmp_path / name)
        assert back.shape == smooth.shape
        assert np.abs(back.astype(int) - smooth).mean() < 3
    assert Image.open(tmp_path / "a.webp").format == "WEBP"
    with pytest.raises(InputError, match=r"\.xyz"):
        media.save_image(tmp_path / "a.xyz", img)
    assert no_temp_files(tmp_path)


def test_save_image_failure_leaves_previous_file(tmp_path, monkeypatch):
    p = tmp_path / "keep.png"
    media.save_image(p, np.zeros((4, 4, 3), np.uint8))
    before = p.read_bytes()

    def enospc(self, fp, *a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", enospc)
    with pytest.raises(InputError, match=match(p, "No space left")):
        media.save_image(p, np.full((4, 4, 3), 255, np.uint8))
    assert p.read_bytes() == before
    assert no_temp_files(tmp_path)

    def boom(self, fp, *a, **k):
        Path(fp).write_bytes(b"half")
        raise RuntimeError("interrupted")

    monkeypatch.setattr(Image.Image, "save", boom)
    with pytest.raises(RuntimeError):
        media.save_image(p, np.full((4, 4, 3), 255, np.uint8))
    assert p.read_bytes() == before
    assert no_temp_files(tmp_path)


def test_tensor_round_trip_exact():
    img = np.arange(256 * 3, dtype=np.int64).reshape(16, 16, 3).astype(np.uint8)
    t = media.image_to_tensor(img)
    assert t.dtype == torch.float32 and t.shape == (1, 3, 16, 16)
    assert float(t.min()) == 0.0 and float(t.max()) == 1.0
    assert torch.equal(t[0, :, 0, 0], torch.tensor(img[0, 0] / 255.0, dtype=torch.float32))
    np.testing.assert_array_equal(media.tensor_to_image(t), img)
    np.testing.assert_array_equal(media.tensor_to_image(t[0]), img)


def test_tensor_to_image_clamps_and_rounds():
    t = torch.tensor([-0.5, 0.5 / 255, 1.6 / 255, 2.0, float("nan")]).view(1, 1, 1, 5).expand(1, 3, 1, 5)
    out = media.tensor_to_image(t)
    assert out[0, :, 0].tolist() == [0, 0, 2, 255, 0]
    with pytest.raises(ValueError):
        media.tensor_to_image(torch.zeros(2, 3, 4, 4))


# ----------------------------------------------------------------------------------------------
# GIF
# ----------------------------------------------------------------------------------------------

def test_gif_read_and_round_trip(tmp_path):
    frames = [distinct_frame(i) for i in range(6)]
    durations = [80, 80, 120, 40, 200, 60]
    src = tmp_path / "src.gif"
    write_gif(src, frames, durations, loop=3)
    clip = media.read_clip(src)
    assert clip.kind == "gif" and len(clip.frames) == 6
    assert clip.durations_ms == durations and clip.loop == 3
    assert clip.size == (48, 64) and clip.size_source == (48, 64)
    assert clip.duration_s == pytest.approx(0.58)
    for a, b in zip(clip.frames, frames):  # Pillow writes delta frames: composited correctly
        assert np.abs(a.astype(int) - b).max() <= 8
    out = tmp_path / "out.gif"
    calls = []
    media.write_clip(out, clip.frames, clip, progress=lambda d, t: calls.append((d, t)))
    back = media.read_clip(out)
    assert len(back.frames) == 6 and back.durations_ms == durations and back.loop == 3
    for a, b in zip(back.frames, frames):
        assert np.abs(a.astype(int) - b).mean() < 4
    assert calls[-1] == (6, 6)
    assert no_temp_files(tmp_path)


def test_gif_without_loop_plays_once(tmp_path):
    src = tmp_path / "once.gif"
    write_gif(src, [distinct_frame(0), distinct_frame(1)], [100, 100], loop=None)
    clip = media.read_clip(src)
    assert clip.loop is None
    media.write_clip(tmp_path / "o.gif", clip.frames, clip)
    assert "loop" not in Image.open(tmp_path / "o.gif").info


def test_gif_transparency_over_white(tmp_path):
    im = Image.new("P", (4, 2))
    im.putpalette([0, 0, 255, 9, 9, 9] + [0] * (254 * 3))
    im.putdata([0, 1, 0, 1, 0, 0, 0, 0])
    im.save(tmp_path / "t.gif", transparency=1)
    clip = media.read_clip(tmp_path / "t.gif")
    assert clip.frames[0][0].tolist() == [[0, 0, 255], [255, 255, 255], [0, 0, 255], [255, 255, 255]]


def test_video_to_gif_durations_keep_total(tmp_path):
    frames = [distinct_frame(i) for i in range(9)]
    clip = media.Clip(frames=frames, kind="video", source=tmp_path / "x.mp4", fps=Fraction(30000, 1001))
    media.write_clip(tmp_path / "v.gif", frames, clip)
    info = media.probe_clip(tmp_path / "v.gif")
    assert info.frame_count == 9
    assert all(d % 10 == 0 and d in (30, 40) for d in info.durations_ms)
    assert abs(sum(info.durations_ms) - 9 * 1001 / 30) <= 10
    assert info.loop == 0
    # 60 fps cannot be shown by a GIF: frames are held for the 20 ms minimum.
    clip.fps = Fraction(60)
    media.write_clip(tmp_path / "f.gif", frames, clip)
    assert media.probe_clip(tmp_path / "f.gif").durations_ms == [20] * 9


# ----------------------------------------------------------------------------------------------
# video
# ----------------------------------------------------------------------------------------------

def test_mp4_round_trip_fps_and_audio(tmp_path):
    src = tmp_path / "src.mp4"
    frames = make_video(src, n=15, audio="aac")
    clip = media.read_clip(src)
    assert clip.kind == "video" and len(clip.frames) == 15
    assert clip.fps == Fraction(30000, 1001) and isinstance(clip.fps, Fraction)
    assert clip.audio is True and clip.rotation == 0 and clip.source_frames == 15
    assert clip.duration_s == pytest.approx(15 * 1001 / 30000)
    assert np.abs(clip.frames[3].astype(int) - frames[3]).mean() < 6
    out = tmp_path / "out.mp4"
    calls = []
    media.write_clip(out, clip.frames, clip, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(i, 15) for i in range(1, 16)]
    back = media.read_clip(out)
    assert len(back.frames) == 15 and back.fps == Fraction(30000, 1001)
    assert np.abs(back.frames[3].astype(int) - frames[3]).mean() < 8
    src_codec, src_dur = audio_info(src)
    out_codec, out_dur = audio_info(out)
    assert out_codec == src_codec == "aac"
    assert abs(out_dur - src_dur) < 0.1
    info = media.probe_clip(out)
    assert (info.frame_count, info.size, info.fps, info.audio) == (15, (48, 64), Fraction(30000, 1001), True)
    media.write_clip(tmp_path / "mute.mp4", clip.frames, clip, audio=False)
    assert audio_info(tmp_path / "mute.mp4") is None
    assert no_temp_files(tmp_path)


def test_mp4_integer_fps_and_slicing_cuts_audio(tmp_path):
    src = tmp_path / "src.mp4"
    make_video(src, n=20, fps=Fraction(20), audio="aac")
    clip = media.read_clip(src, start=5, end=12)
    assert clip.first == 5 and len(clip.frames) == 8 and clip.source_frames is None
    assert clip.time_range == pytest.approx((0.2, 0.6))
    out = tmp_path / "cut.mp4"
    media.write_clip(out, clip.frames, clip)
    assert media.probe_clip(out).fps == Fraction(20)
    assert abs(audio_info(out)[1] - 0.4) < 0.1
    full = media.read_clip(src)
    np.testing.assert_array_equal(clip.frames[0], full.frames[4])
    np.testing.assert_array_equal(clip.frames[-1], full.frames[11])
    assert len(media.read_clip(src, start=18, end=99).frames) == 3
    with pytest.raises(InputError, match=match(src, "beyond its last frame")):
        media.read_clip(src, start=21)


def test_audio_reencoded_when_container_cannot_hold_it(tmp_path):
    src = tmp_path / "src.mkv"
    make_video(src, n=10, fps=Fraction(25), audio="pcm_s16le")
    clip = media.read_clip(src)
    assert clip.audio
    out = tmp_path / "out.webm"
    media.write_clip(out, clip.frames, clip)
    codec, dur = audio_info(out)
    assert codec == "opus" and abs(dur - 0.4) < 0.1
    assert len(media.read_clip(out).frames) == 10


def test_odd_dimensions_are_padded(tmp_path):
    frames = [distinct_frame(i, 47, 33) for i in range(3)]
    out = tmp_path / "odd.mp4"
    media.write_clip(out, frames, None, fps=24)
    back = media.read_clip(out)
    assert back.frames[0].shape == (48, 34, 3) and back.fps == Fraction(24)
    assert np.abs(back.frames[1][:47, :33].astype(int) - frames[1]).mean() < 8


def test_rotation_from_display_matrix(tmp_path):
    src = tmp_path / "rot.mp4"
    frames = make_video(src, n=3, w=64, h=48, rotation=90)
    clip = media.read_clip(src)
    assert clip.rotation == 270
    assert clip.frames[0].shape == (64, 48, 3) and clip.size_source == (64, 48)
    expected = np.rot90(frames[0], k=1)  # a counter-clockwise display matrix turns the picture left
    assert np.abs(clip.frames[0].astype(int) - expected).mean() < 8
    assert media.probe_clip(src).size == (64, 48)


def test_gif_with_uneven_durations_to_mp4(tmp_path):
    frames = [distinct_frame(i) for i in range(5)]
    clip = media.Clip(frames=frames, kind="gif", source=tmp_path / "g.gif", durations_ms=[100, 100, 500, 100, 200])
    media.write_clip(tmp_path / "v.mp4", frames, clip)
    assert frame_times(tmp_path / "v.mp4") == [0.0, 0.1, 0.2, 0.7, 0.8]
    assert media.probe_clip(tmp_path / "v.mp4").fps == Fraction(5)  # 1000 / mean duration
    clip.durations_ms = [80] * 5
    media.write_clip(tmp_path / "c.mp4", frames, clip)
    assert media.read_clip(tmp_path / "c.mp4").fps == Fraction(25, 2)


def test_size_resizes_on_decode(tmp_path):
    src = tmp_path / "s.mp4"
    make_video(src, n=2, w=64, h=48)
    clip = media.read_clip(src, size=32)
    assert clip.frames[0].shape == (24, 32, 3) and clip.size_source == (48, 64)
    gif = tmp_path / "s.gif"
    write_gif(gif, [distinct_frame(0), distinct_frame(1)], [50, 50])
    assert media.read_clip(gif, size=128).frames[1].shape == (96, 128, 3)


def test_write_failure_keeps_previous_video(tmp_path, monkeypatch):
    out = tmp_path / "o.mp4"
    frames = [distinct_frame(i) for i in range(3)]
    media.write_clip(out, frames, None)
    before = out.read_bytes()

    def enospc(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(av.VideoFrame, "from_ndarray", enospc)
    with pytest.raises(InputError, match=match(out, "No space left")):
        media.write_clip(out, frames, None)
    monkeypatch.undo()
    assert out.read_bytes() == before and no_temp_files(tmp_path)

    def stop(done, total):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        media.write_clip(out, frames, None, progress=stop)
    assert out.read_bytes() == before and no_temp_files(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        media.write_clip(tmp_path / "o.gif", frames, None, progress=stop)
    assert not (tmp_path / "o.gif").exists() and no_temp_files(tmp_path)


def test_bad_videos(tmp_path):
    src = tmp_path / "ok.mp4"
    make_video(src, n=10)
    data = src.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=match(cut, "truncated")):
        media.read_clip(cut)
    with pytest.raises(InputError, match=match(cut, "truncated")):
        media.probe_clip(cut)
    # With the index first (faststart) a cut file still opens: the box walk catches it.
    fast = tmp_path / "fast.mp4"
    media.write_clip(fast, [distinct_frame(i) for i in range(10)], None)
    data = fast.read_bytes()
    assert data[data.index(b"moov") - 4:].find(b"mdat") > 0  # moov before mdat
    cut2 = tmp_path / "cut2.mp4"
    cut2.write_bytes(data[: len(data) - 200])
    with pytest.raises(InputError, match=match(cut2, "truncated")):
        media.read_clip(cut2)
    text = tmp_path / "t.mp4"
    text.write_text("not a video at all\n" * 10)
    with pytest.raises(InputError, match=match(text)):
        media.read_clip(text)
    (tmp_path / "e.mp4").write_bytes(b"")
    with pytest.raises(InputError, match=match(tmp_path / "e.mp4", "empty")):
        media.read_clip(tmp_path / "e.mp4")
    # A video stream without frames (a bare Y4M header; an MKV with only a header), and a
    # container with only audio.
    zero = tmp_path / "zero.y4m"
    zero.write_bytes(b"YUV4MPEG2 W16 H16 F25:1 Ip A1:1 C420jpeg\n")
    with pytest.raises(InputError, match=match(zero, "no frames")):
        media.read_clip(zero)
    header_only = tmp_path / "zero.mkv"
    with av.open(str(header_only), "w") as out:
        vs = out.add_stream("libx264", rate=25)
        vs.width, vs.height, vs.pix_fmt = 16, 16, "yuv420p"
        out.start_encoding()
    with pytest.raises(InputError, match=match(header_only)):
        media.read_clip(header_only)
    only_audio = tmp_path / "a.mkv"
    with av.open(str(only_audio), "w") as out:
        a = out.add_stream("aac", rate=44100)
        a.layout = "mono"
        af = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="flt", layout="mono")
        af.sample_rate, af.pts = 44100, 0
        for p in a.encode(af):
            out.mux(p)
        for p in a.encode():
            out.mux(p)
    with pytest.raises(InputError, match=match(only_audio, "no video stream")):
        media.read_clip(only_audio)


def test_bad_gifs(tmp_path):
    text = tmp_path / "t.gif"
    text.write_text("GIF? no, just text\n")
    with pytest.raises(InputError, match=match(text)):
        media.read_clip(text)
    rng = np.random.default_rng(3)
    frames = [rng.integers(0, 255, (40, 40, 3), dtype=np.uint8) for _ in range(3)]
    src = tmp_path / "full.gif"
    write_gif(src, frames, [50, 50, 50])
    data = src.read_bytes()
    cut = tmp_path / "cut.gif"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(InputError, match=match(cut, "truncated")):
        media.read_clip(cut)
    png = tmp_path / "png.gif"
    Image.new("RGB", (4, 4)).save(png, format="PNG")
    with pytest.raises(InputError, match=match(png, "not a GIF")):
        media.read_clip(png)


def test_range_arguments(tmp_path):
    src = tmp_path / "r.gif"
    write_gif(src, [distinct_frame(i) for i in range(5)], [10, 20, 30, 40, 50])
    clip = media.read_clip(src, start=2, end=4)
    assert clip.durations_ms == [20, 30, 40] and clip.first == 2
    assert len(media.read_clip(src, end=50).frames) == 5
    with pytest.raises(InputError, match=match(src, r"--start 6 is beyond its last frame \(5\)")):
        media.read_clip(src, start=6)
    with pytest.raises(InputError, match="before --start"):
        media.read_clip(src, start=4, end=2)
    with pytest.raises(InputError, match="--start"):
        media.read_clip(src, start=0)


# ----------------------------------------------------------------------------------------------
# folders, stills, kinds
# ----------------------------------------------------------------------------------------------

def test_frame_folder_natural_sort(tmp_path):
    d = tmp_path / "frames"
    d.mkdir()
    for i in (10, 2, 1):
        Image.new("RGB", (8, 6), (i, 0, 0)).save(d / f"frame{i}.png")
    (d / "notes.txt").write_text("x")
    (d / ".hidden.png").write_bytes(b"junk")
    clip = media.read_clip(d)
    assert clip.kind == "folder" and clip.names == ["frame1.png", "frame2.png", "frame10.png"]
    assert [int(f[0, 0, 0]) for f in clip.frames] == [1, 2, 10]
    assert clip.fps is None and clip.durations_ms is None and clip.duration_s is None
    assert media.read_clip(d, start=2).names == ["frame2.png", "frame10.png"]
    info = media.probe_clip(d)
    assert info.frame_count == 3 and info.size == (6, 8)
    # Written as an MP4 a folder gets DEFAULT_FPS.
    media.write_clip(tmp_path / "f.mp4", clip.frames, clip)
    assert media.read_clip(tmp_path / "f.mp4").fps == media.DEFAULT_FPS


def test_frame_folder_errors(tmp_path):
    d = tmp_path / "mixed"
    d.mkdir()
    Image.new("RGB", (8, 6)).save(d / "a1.png")
    Image.new("RGB", (8, 6)).save(d / "a2.png")
    Image.new("RGB", (9, 6)).save(d / "a3.png")
    with pytest.raises(InputError, match=r"'a3\.png' is 9x6 but 'a1\.png' is 8x6"):
        media.read_clip(d)
    e = tmp_path / "empty"
    e.mkdir()
    (e / "readme.txt").write_text("no frames here")
    with pytest.raises(InputError, match=match(e, "no images")):
        media.read_clip(e)
    with pytest.raises(InputError, match=match(tmp_path / "missing", "no such")):
        media.read_clip(tmp_path / "missing")


def test_write_frame_folder(tmp_path):
    frames = [distinct_frame(i, 6, 8) for i in range(3)]
    calls = []
    out = tmp_path / "out"
    media.write_clip(str(out) + "/", frames, None, progress=lambda d, t: calls.append((d, t)))
    assert sorted(p.name for p in out.iterdir()) == ["frame_00001.png", "frame_00002.png", "frame_00003.png"]
    back = media.read_clip(out)
    for a, b in zip(back.frames, frames):
        np.testing.assert_array_equal(a, b)
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_still_image_clip(tmp_path):
    Image.new("RGB", (5, 4), (1, 2, 3)).save(tmp_path / "s.jpg")
    clip = media.read_clip(tmp_path / "s.jpg")
    assert clip.kind == "image" and len(clip.frames) == 1 and clip.frames[0].shape == (4, 5, 3)
    assert media.probe_clip(tmp_path / "s.jpg").frame_count == 1


def test_animated_png_is_a_timed_clip(tmp_path):
    frames = [distinct_frame(i, 8, 8) for i in range(3)]
    ims = [Image.fromarray(f) for f in frames]
    ims[0].save(tmp_path / "a.png", save_all=True, append_images=ims[1:], duration=[40, 60, 90], loop=0)
    clip = media.read_clip(tmp_path / "a.png")
    assert clip.kind == "gif" and clip.durations_ms == [40, 60, 90]
    for a, b in zip(clip.frames, frames):
        np.testing.assert_array_equal(a, b)
    assert media.probe_clip(tmp_path / "a.png").frame_count == 3
    media.write_clip(tmp_path / "a.gif", clip.frames, clip)
    assert media.probe_clip(tmp_path / "a.gif").durations_ms == [40, 60, 90]


@pytest.mark.parametrize("suffix", [".mov", ".mkv", ".avi"])
def test_other_containers(tmp_path, suffix):
    frames = [distinct_frame(i, 16, 24) for i in range(4)]
    out = tmp_path / f"o{suffix}"
    media.write_clip(out, frames, None, fps=Fraction(30000, 1001))
    back = media.read_clip(out)
    assert len(back.frames) == 4 and back.fps == Fraction(30000, 1001)
    assert np.abs(back.frames[2].astype(int) - frames[2]).mean() < 10


def test_output_kind():
    assert media.output_kind("a.gif") == "gif"
    for s in ("a.mp4", "a.MOV", "a.mkv", "a.webm", "a.avi"):
        assert media.output_kind(s) == "video"
    assert media.output_kind("out/") == "folder"
    assert media.output_kind("frames") == "folder"
    with pytest.raises(InputError, match=r"'\.png'.*folder"):
        media.output_kind("x.png")
    with pytest.raises(InputError, match=r"'\.xyz'"):
        media.output_kind("x.xyz")
    with pytest.raises(InputError, match="no frames"):
        media.write_clip("x.gif", [], None)


def test_file_identity(tmp_path):
    p = tmp_path / "clip.bin"
    data = bytearray(np.random.default_rng(0).integers(0, 255, 3 << 20, dtype=np.uint8).tobytes())
    p.write_bytes(bytes(data))
    a = media.file_identity(p)
    assert a["size"] == 3 << 20 and isinstance(a["mtime_ns"], int) and len(a["sha256"]) == 64
    assert media.file_identity(p)["sha256"] == a["sha256"]
    data[-1] ^= 1
    p.write_bytes(bytes(data))
    assert media.file_identity(p)["sha256"] != a["sha256"]
    d = tmp_path / "frames"
    d.mkdir()
    Image.new("RGB", (4, 4)).save(d / "f1.png")
    one = media.file_identity(d)
    Image.new("RGB", (4, 4), (1, 1, 1)).save(d / "f2.png")
    assert media.file_identity(d)["sha256"] != one["sha256"]
    with pytest.raises(InputError, match="nope"):
        media.file_identity(tmp_path / "nope")


def test_bundled_assets():
    style = media.load_image(media.default_style_path())
    assert style.shape == (256, 256, 3) and style.std() > 30
    content = media.load_image(ROOT / "examples" / "content.png")
    assert content.shape == (240, 320, 3)
    assert media.load_image(ROOT / "examples" / "style.png").shape == (256, 256, 3)
    clip = media.read_clip(ROOT / "examples" / "clip.gif")
    assert len(clip.frames) == 10 and clip.size == (96, 128) and clip.durations_ms == [80] * 10
    assert not np.array_equal(clip.frames[0], clip.frames[-1])
    for p in (media.default_style_path(), ROOT / "examples" / "content.png",
              ROOT / "examples" / "style.png", ROOT / "examples" / "clip.gif"):
        assert p.stat().st_size < 200_000


# ----------------------------------------------------------------------------------------------
# fuzz: random bytes never escape as anything but InputError
# ----------------------------------------------------------------------------------------------

GIF_HEAD = b"GIF89a" + struct.pack("<HH", 8, 8) + b"\xf0\x00\x00"
PNG_HEAD = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))


@pytest.mark.parametrize("suffix,head", [(".gif", b""), (".gif", GIF_HEAD), (".png", b""), (".png", PNG_HEAD)])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(min_size=0, max_size=400))
def test_fuzz_read_clip_random_bytes(tmp_path, suffix, head, body):
    p = tmp_path / f"fuzz{suffix}"
    p.write_bytes(head + body)
    try:
        clip = media.read_clip(p)
    except InputError:
        return
    assert clip.frames and all(f.dtype == np.uint8 and f.ndim == 3 for f in clip.frames)


def test_write_clip_crf_trades_size_for_quality_in_h264_and_vp9(tmp_path):
    frames = [distinct_frame(i, 48, 64) for i in range(4)]
    for suffix in (".mp4", ".webm"):
        media.write_clip(tmp_path / f"lo{suffix}", frames, None, fps=10, crf=50)
        media.write_clip(tmp_path / f"hi{suffix}", frames, None, fps=10, crf=4)
        assert (tmp_path / f"hi{suffix}").stat().st_size > (tmp_path / f"lo{suffix}").stat().st_size


def test_check_encoding_refuses_what_the_output_cannot_take(tmp_path):
    clip = media.Clip(frames=[distinct_frame(0)], kind="video", source=tmp_path / "s.mp4",
                      fps=Fraction(30000, 1001), audio=True)
    media.check_encoding(tmp_path / "o.webm", crf=63)  # VP9 goes to 63
    with pytest.raises(InputError, match=r"--crf must be an integer from 0 to 51 for H.264, got 52"):
        media.check_encoding(tmp_path / "o.mov", crf=52)
    with pytest.raises(InputError, match=r"--crf 18 applies to a video output"):
        media.check_encoding(tmp_path / "o.gif", crf=18)
    media.check_encoding(tmp_path / "o.mp4", fps=30000 / 1001, source=clip)  # the same rate: audio kept
    media.check_encoding(tmp_path / "o.mp4", fps=12, source=clip, audio=False)
    media.check_encoding(tmp_path / "o.gif", fps=12, source=clip)  # a GIF has no audio
    with pytest.raises(InputError, match=r"--fps 12 differs from the source's 30000/1001 \(29.97\) fps"):
        media.check_encoding(tmp_path / "o.mp4", fps=12, source=clip)
    with pytest.raises(InputError, match=r"--no-audio"):
        media.write_clip(tmp_path / "o.mp4", clip.frames, clip, fps=24)
    assert not (tmp_path / "o.mp4").exists()
