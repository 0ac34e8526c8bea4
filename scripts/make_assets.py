"""Generate the bundled images procedurally: numpy only, fixed seeds, our own artwork.

    python scripts/make_assets.py            # writes the four files below
    python scripts/make_assets.py --check    # regenerates in memory, exits 1 if a file differs

- ``neuralpaint/assets/default_style.png`` (256x256): swirling brush strokes in strong blues,
  teals, yellows and oranges, the default style of ``neuralpaint video`` when none is given.
  Strokes come from line integral convolution of noise along a field of vortices; colour from
  the field's stream function through a painterly palette.
- ``examples/content.png`` (320x240): a photo-like synthetic landscape (sky gradient, sun with
  glow, hazy far hills, textured near hills, a lake with a reflection, trees).
- ``examples/style.png`` (256x256): stained glass (Voronoi cells, jewel colours, dark leading,
  glass texture), a style unlike the default.
- ``examples/clip.gif`` (128x96, 10 frames, 80 ms): a small scene panning with parallax and a
  balloon drifting across it.

Everything is deterministic, so re-running gives identical files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


# ----------------------------------------------------------------------------------------------
# building blocks
# ----------------------------------------------------------------------------------------------

def upsample(grid: np.ndarray, h: int, w: int) -> np.ndarray:
    """Bilinear upsampling of a small 2-D grid to h x w (the grid's corners on the image's)."""
    gh, gw = grid.shape
    ys = np.linspace(0, gh - 1, h)
    xs = np.linspace(0, gw - 1, w)
    y0 = np.clip(np.floor(ys).astype(int), 0, gh - 2)
    x0 = np.clip(np.floor(xs).astype(int), 0, gw - 2)
    fy = (ys - y0)[:, None]
    fx = (xs - x0)[None, :]
    fy = fy * fy * (3 - 2 * fy)  # smoothstep: no visible grid lines
    fx = fx * fx * (3 - 2 * fx)
    a = grid[y0][:, x0]
    b = grid[y0][:, x0 + 1]
    c = grid[y0 + 1][:, x0]
    d = grid[y0 + 1][:, x0 + 1]
    return (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy


def fbm(rng: np.random.Generator, h: int, w: int, base: int = 4, octaves: int = 5,
        gain: float = 0.5) -> np.ndarray:
    """Fractal value noise in [0, 1]."""
    out = np.zeros((h, w))
    amp, total = 1.0, 0.0
    for o in range(octaves):
        n = base * 2 ** o
        out += amp * upsample(rng.random((n + 1, n + 1)), h, w)
        total += amp
        amp *= gain
    out /= total
    return (out - out.min()) / (np.ptp(out) + 1e-12)


def palette(t: np.ndarray, stops: list[tuple[float, tuple[int, int, int]]]) -> np.ndarray:
    """Map t in [0,1] through colour stops -> float HxWx3 in [0,1]."""
    pos = np.array([s[0] for s in stops])
    cols = np.array([s[1] for s in stops], dtype=float) / 255.0
    t = np.clip(t, 0, 1)
    return np.stack([np.interp(t, pos, cols[:, c]) for c in range(3)], axis=-1)


def sample(img: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Bilinear sample of a 2-D array at float coordinates (wrapping at the borders)."""
    h, w = img.shape
    y0 = np.floor(y).astype(int)
    x0 = np.floor(x).astype(int)
    fy, fx = y - y0, x - x0
    y0 %= h
    x0 %= w
    y1, x1 = (y0 + 1) % h, (x0 + 1) % w
    return ((img[y0, x0] * (1 - fx) + img[y0, x1] * fx) * (1 - fy)
            + (img[y1, x0] * (1 - fx) + img[y1, x1] * fx) * fy)


def lic(noise: np.ndarray, vx: np.ndarray, vy: np.ndarray, steps: int = 14,
        step: float = 0.9) -> np.ndarray:
    """Line integral convolution: average ``noise`` along the field's streamlines (brush strokes)."""
    h, w = noise.shape
    gy, gx = np.mgrid[0:h, 0:w].astype(float)
    acc = noise.copy()
    weight = np.ones_like(noise)
    for direction in (1.0, -1.0):
        y, x = gy.copy(), gx.copy()
        for k in range(steps):
            u = sample(vx, y, x)
            v = sample(vy, y, x)
            norm = np.sqrt(u * u + v * v) + 1e-9
            x += direction * step * u / norm
            y += direction * step * v / norm
            wgt = 1.0 - k / steps  # tapered: strokes fade at their ends
            acc += wgt * sample(noise, y, x)
            weight += wgt
    return acc / weight


def to_uint8(img: np.ndarray) -> np.ndarray:
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)


# ----------------------------------------------------------------------------------------------
# the default style: swirling strokes
# ----------------------------------------------------------------------------------------------

def default_style(size: int = 256, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    h = w = size
    gy, gx = np.mgrid[0:h, 0:w].astype(float)
    # A field of vortices (alternating spin) plus a gentle drift: its stream function psi
    # gives both the stroke directions (the curl of psi) and the colour bands.
    psi = 0.15 * gy / h + 0.05 * np.sin(gx / w * 2 * np.pi)
    n_vortex = 9
    for i in range(n_vortex):
        cy, cx = rng.uniform(0.1, 0.9) * h, rng.uniform(0.1, 0.9) * w
        r = rng.uniform(0.12, 0.3) * size
        spin = 1.0 if i % 2 == 0 else -0.7
        d2 = ((gy - cy) ** 2 + (gx - cx) ** 2) / (r * r)
        psi += spin * 0.35 * np.exp(-d2)
    psi += 0.08 * (fbm(rng, h, w, base=3, octaves=4) - 0.5)
    dpy, dpx = np.gradient(psi)
    vx, vy = dpy, -dpx  # along the level lines of psi: swirls
    # Stroke texture: LIC of coarse-grained noise (short dabs of paint).
    grain = upsample(rng.random((h // 3 + 1, w // 3 + 1)), h, w)
    grain = 0.6 * grain + 0.4 * rng.random((h, w))
    strokes = lic(grain, vx, vy, steps=12, step=1.0)
    strokes = (strokes - strokes.mean()) / (strokes.std() + 1e-9)
    # Colour: banded stream function through a night-sky-and-fire palette.
    t = (psi - psi.min()) / (np.ptp(psi) + 1e-12)
    t = (t * 3.2 + 0.15 * strokes) % 1.0
    t = 0.5 - 0.5 * np.cos(t * np.pi * 2)  # smooth periodic bands
    colour = palette(t, [
        (0.00, (12, 24, 72)), (0.22, (28, 72, 160)), (0.42, (40, 150, 170)),
        (0.60, (235, 205, 70)), (0.78, (240, 130, 30)), (1.00, (190, 40, 30)),
    ])
    shade = 1.0 + 0.16 * strokes[..., None]
    # Impasto highlights on stroke ridges, and dark outlines where bands turn.
    ridge = np.clip(strokes - 1.1, 0, None)[..., None]
    img = colour * shade + 0.25 * ridge
    edge = np.abs(np.gradient(t)[0]) + np.abs(np.gradient(t)[1])
    img *= (1.0 - np.clip(edge * 5.0, 0, 0.35))[..., None]
    return to_uint8(img)


# ----------------------------------------------------------------------------------------------
# example style: stained glass
# ----------------------------------------------------------------------------------------------

def stained_glass(size: int = 256, seed: int = 11, cells: int = 70) -> np.ndarray:
    rng = np.random.default_rng(seed)
    h = w = size
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    # Jittered grid of seeds: cells of similar size, like cut glass.
    k = int(np.ceil(np.sqrt(cells)))
    cy = (np.repeat(np.arange(k), k) + rng.uniform(0.15, 0.85, k * k)) * h / k
    cx = (np.tile(np.arange(k), k) + rng.uniform(0.15, 0.85, k * k)) * w / k
    d = (gy[..., None] - cy) ** 2 + (gx[..., None] - cx) ** 2
    part = np.partition(d, 1, axis=-1)
    nearest = np.argmin(d, axis=-1)
    gap = np.sqrt(part[..., 1]) - np.sqrt(part[..., 0])  # distance to the cell border (x2)
    jewels = np.array([(180, 20, 40), (20, 60, 170), (240, 180, 20), (30, 140, 60),
                       (120, 30, 150), (230, 90, 20), (20, 150, 190), (200, 200, 210)], float) / 255
    cell_col = jewels[rng.integers(0, len(jewels), k * k)]
    cell_col *= rng.uniform(0.75, 1.1, (k * k, 1))
    img = cell_col[nearest]
    # Light through the glass: brighter toward each cell's centre, ripples and seeds (bubbles).
    dc = np.sqrt(part[..., 0])
    glow = 1.15 - 0.35 * np.clip(dc / (0.6 * h / k), 0, 1)
    ripple = 1.0 + 0.08 * np.sin(gx * 0.35 + 3 * fbm(rng, h, w, base=5, octaves=3) * np.pi)
    bubbles = (rng.random((h, w)) > 0.996).astype(float)
    img = img * (glow * ripple)[..., None] + 0.35 * bubbles[..., None]
    # Lead came: dark lines on cell borders, slightly uneven.
    width = 2.2 + 1.2 * fbm(rng, h, w, base=6, octaves=2)
    lead = np.clip((gap - width) / 1.2, 0, 1)
    img = img * lead[..., None] + (1 - lead)[..., None] * np.array([0.09, 0.08, 0.07])
    return to_uint8(img)


# ----------------------------------------------------------------------------------------------
# example content: a landscape
# ----------------------------------------------------------------------------------------------

def ridge_line(rng: np.random.Generator, w: int, base: float, amp: float, shift: float = 0.0,
               waves: int = 5) -> np.ndarray:
    x = np.arange(w, dtype=float) + shift
    y = np.full(w, base)
    for i in range(waves):
        f = rng.uniform(0.5, 2.5) * (i + 1) / w * np.pi * 2 / 2
        y += amp / (i + 1) * np.sin(x * f + rng.uniform(0, 2 * np.pi))
    return y


def landscape(h: int = 240, w: int = 320, seed: int = 3, shift: float = 0.0,
              far_shift: float = 0.0, object_pos: tuple[float, float] | None = None) -> np.ndarray:
    """A synthetic scene; ``shift``/``far_shift`` pan the near/far layers (parallax)."""
    rng = np.random.default_rng(seed)
    gy, gx = np.mgrid[0:h, 0:w].astype(float)
    horizon = 0.58 * h
    # Sky: deep blue at the top to warm haze at the horizon, soft clouds.
    t = np.clip(gy / horizon, 0, 1)
    sky = palette(t, [(0.0, (38, 82, 160)), (0.55, (120, 165, 215)), (0.85, (225, 200, 170)),
                      (1.0, (250, 210, 160))])
    clouds = fbm(np.random.default_rng(seed + 1), h, w + 64, base=3, octaves=5)
    off = int(round(far_shift * 0.5)) % 64
    clouds = clouds[:, off: off + w]
    cloud_mask = np.clip((clouds - 0.55) * 3.0, 0, 1) * (1 - t) ** 0.5
    sky = sky * (1 - 0.7 * cloud_mask[..., None]) + 0.7 * cloud_mask[..., None] * np.array([0.97, 0.96, 0.95])
    img = sky
    # Sun with a glow, low in the sky.
    sy, sx = 0.40 * h, 0.72 * w - far_shift * 0.2
    r = np.sqrt((gy - sy) ** 2 + (gx - sx) ** 2)
    glow = np.exp(-(r / (0.18 * h)) ** 2)
    img = img + 0.45 * glow[..., None] * np.array([1.0, 0.75, 0.4])
    disc = np.clip((0.055 * h - r) / 1.5, 0, 1)
    img = img * (1 - disc[..., None]) + disc[..., None] * np.array([1.0, 0.97, 0.85])
    # Far hills: blue-green, hazy.
    far = ridge_line(rng, w, horizon - 0.10 * h, 0.07 * h, far_shift)
    m = np.clip(gy - far[None, :], 0, 1)
    haze = np.clip((gy - far[None, :]) / (0.15 * h), 0, 1)
    far_col = palette(haze, [(0, (105, 130, 150)), (1, (70, 100, 95))])
    img = img * (1 - m[..., None]) + m[..., None] * far_col
    # Near hills: green with grass texture and light from the sun's side.
    near = ridge_line(rng, w, horizon + 0.02 * h, 0.10 * h, shift, waves=4)
    m2 = np.clip(gy - near[None, :], 0, 1)
    tex_w = w + 256
    grass = fbm(np.random.default_rng(seed + 2), h, tex_w, base=16, octaves=4)
    o = int(round(shift)) % 256
    grass = grass[:, o: o + w]
    depth = np.clip((gy - near[None, :]) / (0.4 * h), 0, 1)
    near_col = palette(depth, [(0, (95, 140, 60)), (1, (40, 80, 30))])
    near_col = near_col * (0.8 + 0.4 * grass[..., None])
    img = img * (1 - m2[..., None]) + m2[..., None] * near_col
    # A lake in the foreground with a blurred reflection of the sky.
    lake_top = 0.80 * h
    lake = np.clip(gy - (lake_top + 4 * np.sin(gx / w * 7 + shift * 0.05)), 0, 1)
    refl_rows = np.clip((2 * lake_top - gy).astype(int), 0, h - 1)
    wobble = np.round(1.5 * np.sin(gy * 0.9 + gx * 0.05)).astype(int)
    refl = img[refl_rows, np.clip(np.arange(w)[None, :] + wobble, 0, w - 1)]
    refl = refl * np.array([0.55, 0.68, 0.8]) + np.array([0.02, 0.06, 0.12])
    ripples = 1.0 + 0.05 * np.sin(gy * 2.1 + 2.0 * fbm(np.random.default_rng(seed + 4), h, w, 8, 2))
    img = img * (1 - lake[..., None]) + lake[..., None] * refl * ripples[..., None]
    # Trees: dark triangles standing on the near ridge.
    for _ in range(7):
        tx = (rng.uniform(0.05, 0.95) * w - shift) % (w + 40) - 20
        ix = int(np.clip(round(tx), 0, w - 1))
        base = near[ix] + 3
        th, tw = rng.uniform(0.10, 0.18) * h, rng.uniform(0.03, 0.05) * w
        inside = (gy < base) & (gy > base - th) & (np.abs(gx - tx) < tw * (gy - (base - th)) / th)
        img[inside] = img[inside] * 0.25 + np.array([0.05, 0.15, 0.07])
    # The moving object: a red hot-air balloon.
    if object_pos is not None:
        oy, ox = object_pos
        rb = 0.09 * h
        bd = np.sqrt((gy - oy) ** 2 + ((gx - ox) * 1.15) ** 2)
        ball = np.clip((rb - bd) / 1.2, 0, 1)
        stripes = 0.5 + 0.5 * np.sign(np.sin((gx - ox) / rb * 6))
        bcol = np.stack([0.85 + 0.1 * stripes, 0.15 + 0.6 * stripes, 0.1 + 0.05 * stripes], -1)
        bcol = bcol * (1.1 - 0.4 * np.clip((gy - oy) / rb, -1, 1))[..., None]
        img = img * (1 - ball[..., None]) + ball[..., None] * bcol
        basket = (np.abs(gx - ox) < 0.25 * rb) & (gy > oy + 1.25 * rb) & (gy < oy + 1.6 * rb)
        img[basket] = np.array([0.35, 0.22, 0.1])
        ropes = (np.abs(np.abs(gx - ox) - 0.3 * rb) < 0.5) & (gy > oy + 0.8 * rb) & (gy < oy + 1.3 * rb)
        img[ropes] = np.array([0.2, 0.15, 0.1])
    # Film grain: a photo, not a vector drawing.
    img = img + np.random.default_rng(seed + 9).normal(0, 0.012, img.shape)
    return to_uint8(img)


def clip_frames(n: int = 10, h: int = 96, w: int = 128) -> list[np.ndarray]:
    frames = []
    for i in range(n):
        pos = (0.30 * h + 4 * np.sin(i / n * 2 * np.pi), 0.15 * w + i * 0.07 * w)
        frames.append(landscape(h, w, seed=5, shift=2.5 * i, far_shift=0.8 * i, object_pos=pos))
    return frames


# ----------------------------------------------------------------------------------------------

def build() -> dict[Path, object]:
    return {
        ROOT / "neuralpaint" / "assets" / "default_style.png": default_style(),
        ROOT / "examples" / "content.png": landscape(object_pos=None),
        ROOT / "examples" / "style.png": stained_glass(),
        ROOT / "examples" / "clip.gif": clip_frames(),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="regenerate in memory and compare with the files (exit 1 on a difference)")
    args = ap.parse_args(argv)
    from neuralpaint import media

    outputs = build()
    bad = 0
    for path, data in outputs.items():
        if args.check:
            if isinstance(data, list):
                ok = path.exists() and len(media.read_clip(path).frames) == len(data)
            else:
                ok = path.exists() and np.array_equal(media.load_image(path), data)
            print(f"{'ok  ' if ok else 'DIFF'} {path.relative_to(ROOT)}")
            bad += not ok
            continue
        if isinstance(data, list):
            clip = media.Clip(frames=data, kind="gif", source=path, durations_ms=[80] * len(data), loop=0)
            media.write_clip(path, data, clip)
        else:
            media.save_image(path, data)  # type: ignore[arg-type]
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size // 1024} KiB)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
