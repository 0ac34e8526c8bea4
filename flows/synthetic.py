"""Synthetic clips with exact ground-truth flow (numpy only, deterministic for a seed).

A scene is a textured background plane plus textured rectangles and discs ("objects") lying on
top of it in a fixed depth order, seen through a camera that can pan, zoom and rotate. Every
surface is a continuous function of its own coordinates (bilinear interpolation of a random
texture grid), and each frame is rendered by evaluating, at every pixel centre, the topmost
surface there. Because the renderer and the ground truth use the same geometry, the flows are
exact: the surface point seen at pixel (x, y) of frame ``src`` is seen at
``(x, y) + clip.flow(src, dst)[y, x]`` in frame ``dst`` — unless it is hidden there
(disoccluded/occluded by an object) or outside the image, which ``clip.visible(src, dst)`` says.

Geometry (pixel centres at integer coordinates, x right, y down; c = ((W−1)/2, (H−1)/2)):

- camera at frame t: ``world = centre_t + R(θ_t)·(p − c) / zoom_t``;
- background: a world point keeps its texture forever;
- object i: a shape (rectangle or disc) centred at ``pos_i(t) = p0_i + v_i·t`` in world
  coordinates, its texture moves with it; objects later in the list are on top.

Motions (all magnitudes per frame, multiplied by ``speed``):

=========  ==================================================================================
static     nothing moves (zero flow)
pan        camera translation of 2–3 px in a random direction
zoom       zoom in or out by 2.5 % about the image centre
rotate     rotation by 2° (random sign) about the image centre
objects    static camera, ``n_objects`` (default 3) objects moving 2–4 px in random directions
mixed      pan 1.5 px + zoom 1 % + rotation 0.7° + moving objects
=========  ==================================================================================

``brightness`` b multiplies frame t by ``1 + b·t/(n_frames−1)`` (clipped to [0, 1]): a global
gain change the flow methods have to cope with; the ground truth does not change.

Caveats, by design: pixels are point-sampled (no anti-aliasing), so object edges are hard; a
flow vector is exact for the pixel centre, and the pixel it points to may straddle two surfaces
in the other frame. Frames are quantised to uint8 (round to nearest).

Example::

    clip = make_clip(n_frames=5, motion="objects", seed=3)
    bw = clip.backward_flow(4, k=2)           # frame 4 -> frame 2, float32 HxWx2
    ok = clip.valid_mask(4, k=2)              # False where revealed or out of frame
    # frames[2] sampled at x + bw reproduces frames[4] where ok (up to interpolation).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import FlowError

MOTIONS: tuple[str, ...] = ("static", "pan", "zoom", "rotate", "objects", "mixed")

_TEXTURE_MARGIN = 6.0  # texture pixels beyond the farthest point any frame can see


# -- textures ---------------------------------------------------------------------------------


def random_texture(
    height: int, width: int, seed: int = 0, channels: int = 3, feature_size: float = 1.0
) -> np.ndarray:
    """A smooth random colour texture, float32 HxWxC in (0, 1), deterministic for ``seed``.

    Multi-scale Gaussian-filtered noise (σ = 1, 3 and 9 × ``feature_size`` pixels, equal
    energy per scale) shared by all channels for luminance, plus a weaker per-channel noise for
    colour; squashed smoothly into (0.08, 0.92) with tanh so that no region saturates flat.
    Periodic (computed with FFTs).
    """
    if height < 1 or width < 1 or channels < 1:
        raise FlowError(f"texture size must be positive, got {height}x{width}x{channels}")
    if not feature_size > 0:
        raise FlowError(f"feature_size must be positive, got {feature_size!r}")
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((1 + channels, height, width))
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    f2 = fx * fx + fy * fy

    def gaussian(sigma: float) -> np.ndarray:
        # Transfer function of a Gaussian of std sigma (pixels); ×sigma for equal energy.
        return np.exp(-2.0 * np.pi**2 * sigma**2 * f2) * sigma

    fs = float(feature_size)
    lum_filter = gaussian(1.0 * fs) + gaussian(3.0 * fs) + gaussian(9.0 * fs)
    col_filter = gaussian(2.0 * fs) + gaussian(6.0 * fs)
    spectra = np.fft.rfft2(noise, axes=(1, 2))
    spectra[0] *= lum_filter
    spectra[1:] *= col_filter
    fields = np.fft.irfft2(spectra, s=(height, width), axes=(1, 2))
    fields -= fields.mean(axis=(1, 2), keepdims=True)
    fields /= fields.std(axis=(1, 2), keepdims=True) + 1e-12
    out = 0.8 * fields[0][None] + 0.45 * fields[1:]
    out = 0.5 + 0.42 * np.tanh(0.55 * out)
    return np.ascontiguousarray(np.moveaxis(out, 0, 2), dtype=np.float32)


def _bilinear(texture: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Sample ``texture`` (HxWxC) at float positions (clamped to the grid), float32 (..., C)."""
    h, w = texture.shape[:2]
    x = np.clip(x, 0.0, w - 1.0)
    y = np.clip(y, 0.0, h - 1.0)
    x0 = np.minimum(np.floor(x).astype(np.intp), w - 2) if w > 1 else np.zeros(x.shape, np.intp)
    y0 = np.minimum(np.floor(y).astype(np.intp), h - 2) if h > 1 else np.zeros(y.shape, np.intp)
    x1 = np.minimum(x0 + 1, w - 1)
    y1 = np.minimum(y0 + 1, h - 1)
    ax = (x - x0).astype(np.float32)[..., None]  # float32 weights: half the memory traffic
    ay = (y - y0).astype(np.float32)[..., None]
    top = (1.0 - ax) * texture[y0, x0] + ax * texture[y0, x1]
    bottom = (1.0 - ax) * texture[y1, x0] + ax * texture[y1, x1]
    return ((1.0 - ay) * top + ay * bottom).astype(np.float32)


# -- scene ------------------------------------------------------------------------------------


@dataclass
class _Object:
    shape: str  # "rect" | "disc"
    half: tuple[float, float]  # half width/height (rect) or (radius, radius)
    p0: np.ndarray  # world position of the centre at frame 0, (2,)
    velocity: np.ndarray  # world units per frame, (2,)
    texture: np.ndarray = field(repr=False)  # HxWx3, centred on the object

    def position(self, t: float) -> np.ndarray:
        return self.p0 + self.velocity * t

    def contains(self, lx: np.ndarray, ly: np.ndarray) -> np.ndarray:
        hx, hy = self.half
        if self.shape == "disc":
            return lx * lx + ly * ly <= hx * hx
        return (np.abs(lx) <= hx) & (np.abs(ly) <= hy)

    def color(self, lx: np.ndarray, ly: np.ndarray) -> np.ndarray:
        th, tw = self.texture.shape[:2]
        return _bilinear(self.texture, lx + (tw - 1) / 2.0, ly + (th - 1) / 2.0)


class SyntheticClip:
    """A rendered synthetic clip with exact ground truth. Build it with :func:`make_clip`.

    Attributes: ``frames`` (list of uint8 HxWx3 RGB), ``n_frames``, ``height``, ``width``,
    ``motion``, ``seed``, ``brightness``, ``speed``.
    """

    def __init__(
        self,
        *,
        n_frames: int,
        height: int,
        width: int,
        motion: str,
        seed: int,
        brightness: float,
        speed: float,
        centres: np.ndarray,
        angles: np.ndarray,
        zooms: np.ndarray,
        objects: list[_Object],
        background: np.ndarray,
        background_origin: np.ndarray,
    ) -> None:
        self.n_frames = n_frames
        self.height = height
        self.width = width
        self.motion = motion
        self.seed = seed
        self.brightness = brightness
        self.speed = speed
        self._centres = centres  # (n, 2) world point at the image centre
        self._angles = angles  # (n,) radians
        self._zooms = zooms  # (n,)
        self._objects = objects
        self._background = background
        self._background_origin = background_origin  # world coords of texture pixel (0, 0)
        self._c = np.array([(width - 1) / 2.0, (height - 1) / 2.0])
        gy, gx = np.mgrid[0:height, 0:width]
        self._gx = gx.astype(np.float64)
        self._gy = gy.astype(np.float64)
        self.frames: list[np.ndarray] = [self._quantise(self.render(t), t) for t in range(n_frames)]

    def __repr__(self) -> str:
        return (
            f"SyntheticClip(n_frames={self.n_frames}, height={self.height}, width={self.width}, "
            f"motion={self.motion!r}, seed={self.seed}, brightness={self.brightness}, speed={self.speed})"
        )

    def __len__(self) -> int:
        return self.n_frames

    # -- camera -------------------------------------------------------------------------------

    def _check_t(self, t: int, name: str = "t") -> int:
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or not 0 <= t < self.n_frames:
            raise FlowError(f"frame index {name} must be in 0..{self.n_frames - 1}, got {t!r}")
        return int(t)

    def to_world(self, t: int, px: np.ndarray, py: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World coordinates of image points (px, py) of frame t."""
        t = self._check_t(t)
        cos, sin, z = np.cos(self._angles[t]), np.sin(self._angles[t]), self._zooms[t]
        dx, dy = px - self._c[0], py - self._c[1]
        wx = self._centres[t, 0] + (cos * dx - sin * dy) / z
        wy = self._centres[t, 1] + (sin * dx + cos * dy) / z
        return wx, wy

    def to_image(self, t: int, wx: np.ndarray, wy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Image coordinates in frame t of world points (wx, wy): the inverse of :meth:`to_world`."""
        t = self._check_t(t)
        cos, sin, z = np.cos(self._angles[t]), np.sin(self._angles[t]), self._zooms[t]
        dx, dy = (wx - self._centres[t, 0]) * z, (wy - self._centres[t, 1]) * z
        return self._c[0] + cos * dx + sin * dy, self._c[1] - sin * dx + cos * dy

    # -- scene queries ------------------------------------------------------------------------

    def _surface_at(self, t: int, wx: np.ndarray, wy: np.ndarray) -> np.ndarray:
        """Topmost surface at world points at frame t: 0 = background, i + 1 = object i."""
        sid = np.zeros(np.shape(wx), dtype=np.int32)
        for i, obj in enumerate(self._objects):
            p = obj.position(t)
            sid[obj.contains(wx - p[0], wy - p[1])] = i + 1
        return sid

    def surface_ids(self, t: int) -> np.ndarray:
        """int32 HxW: which surface each pixel of frame t shows (0 background, i+1 object i)."""
        wx, wy = self.to_world(t, self._gx, self._gy)
        return self._surface_at(t, wx, wy)

    def render(self, t: int) -> np.ndarray:
        """Frame t as float32 HxWx3 in [0, 1] before quantisation (brightness applied)."""
        wx, wy = self.to_world(t, self._gx, self._gy)
        o = self._background_origin
        img = _bilinear(self._background, wx - o[0], wy - o[1])
        sid = self._surface_at(t, wx, wy)
        for i, obj in enumerate(self._objects):
            sel = sid == i + 1
            if sel.any():
                p = obj.position(t)
                img[sel] = obj.color(wx[sel] - p[0], wy[sel] - p[1])
        return np.clip(img * np.float32(self.gain(t)), 0.0, 1.0)

    def gain(self, t: int) -> float:
        """Brightness factor of frame t: ``1 + brightness·t/(n_frames−1)``."""
        return 1.0 + self.brightness * (t / (self.n_frames - 1) if self.n_frames > 1 else 0.0)

    @staticmethod
    def _quantise(img: np.ndarray, t: int) -> np.ndarray:
        return np.clip(np.rint(img * 255.0), 0, 255).astype(np.uint8)

    # -- ground truth -------------------------------------------------------------------------

    def _correspondence(self, src: int, dst: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Positions in frame dst of the surface points seen in frame src, and visibility."""
        self._check_t(src, "src")
        self._check_t(dst, "dst")
        wx, wy = self.to_world(src, self._gx, self._gy)
        sid = self._surface_at(src, wx, wy)
        wx2, wy2 = wx.copy(), wy.copy()
        for i, obj in enumerate(self._objects):
            sel = sid == i + 1
            if sel.any():
                shift = obj.position(dst) - obj.position(src)
                wx2[sel] += shift[0]
                wy2[sel] += shift[1]
        px, py = self.to_image(dst, wx2, wy2)
        inside = (px >= 0) & (px <= self.width - 1) & (py >= 0) & (py <= self.height - 1)
        same = self._surface_at(dst, wx2, wy2) == sid
        return px, py, inside, same

    def flow(self, src: int, dst: int) -> np.ndarray:
        """Exact flow from frame src to frame dst, float32 HxWx2 (dx, dy):
        ``frames[src](y, x) ≈ frames[dst](y + dy, x + dx)`` where :meth:`visible` is True."""
        px, py, _, _ = self._correspondence(src, dst)
        return np.stack([px - self._gx, py - self._gy], axis=2).astype(np.float32)

    def visible(self, src: int, dst: int) -> np.ndarray:
        """Bool HxW: the surface point at each pixel of frame src is visible in frame dst
        (inside the image, [0, W−1]×[0, H−1], and not hidden by another surface)."""
        _, _, inside, same = self._correspondence(src, dst)
        return inside & same

    def backward_flow(self, t: int, k: int = 1) -> np.ndarray:
        """Ground-truth backward flow t→t−k (warp frame t−k with it to get frame t)."""
        return self.flow(t, self._minus(t, k))

    def forward_flow(self, t: int, k: int = 1) -> np.ndarray:
        """Ground-truth forward flow t−k→t (the partner of :meth:`backward_flow` in the check)."""
        return self.flow(self._minus(t, k), t)

    def valid_mask(self, t: int, k: int = 1) -> np.ndarray:
        """Bool HxW: pixels of frame t whose backward flow t→t−k is meaningful — False where
        the pixel was disoccluded (hidden in frame t−k) or its source is outside frame t−k."""
        return self.visible(t, self._minus(t, k))

    def revealed_mask(self, t: int, k: int = 1) -> np.ndarray:
        """Bool HxW: pixels of frame t that were hidden by another surface in frame t−k
        although their position there is inside the image (the disoccluded pixels)."""
        _, _, inside, same = self._correspondence(t, self._minus(t, k))
        return inside & ~same

    def out_of_frame_mask(self, t: int, k: int = 1) -> np.ndarray:
        """Bool HxW: pixels of frame t whose position in frame t−k is outside the image."""
        _, _, inside, _ = self._correspondence(t, self._minus(t, k))
        return ~inside

    def _minus(self, t: int, k: int) -> int:
        t = self._check_t(t)
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise FlowError(f"offset k must be a positive integer, got {k!r}")
        if t - k < 0:
            raise FlowError(f"frame {t} has no frame {k} before it")
        return t - int(k)


# -- clip factory -----------------------------------------------------------------------------


def make_clip(
    n_frames: int = 10,
    height: int = 96,
    width: int = 128,
    motion: str = "pan",
    seed: int = 0,
    brightness: float = 0.0,
    speed: float = 1.0,
    n_objects: int | None = None,
) -> SyntheticClip:
    """Render a synthetic clip with exact ground truth (see the module docstring).

    ``motion``: one of :data:`MOTIONS`. ``speed`` scales every motion. ``n_objects``: objects
    of ``objects``/``mixed`` (default 3; other motions have none unless given). Same arguments,
    same clip, bit for bit.
    """
    if motion not in MOTIONS:
        raise FlowError(f"unknown motion {motion!r}; choose one of {', '.join(MOTIONS)}")
    for name, value, low in (("n_frames", n_frames, 1), ("height", height, 8), ("width", width, 8)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise FlowError(f"{name} must be an integer >= {low}, got {value!r}")
    if not np.isfinite(speed) or speed < 0:
        raise FlowError(f"speed must be a non-negative number, got {speed!r}")
    if not np.isfinite(brightness) or brightness <= -1:
        raise FlowError(f"brightness must be a number > -1, got {brightness!r}")
    if n_objects is None:
        n_objects = 3 if motion in ("objects", "mixed") else 0
    if isinstance(n_objects, bool) or not isinstance(n_objects, (int, np.integer)) or n_objects < 0:
        raise FlowError(f"n_objects must be a non-negative integer, got {n_objects!r}")

    rng = np.random.default_rng(seed)
    n, h, w = int(n_frames), int(height), int(width)
    t = np.arange(n, dtype=np.float64)
    c = np.array([(w - 1) / 2.0, (h - 1) / 2.0])

    pan_px, zoom_rate, turn_deg = 0.0, 0.0, 0.0
    if motion == "pan":
        pan_px = rng.uniform(2.0, 3.0)
    elif motion == "zoom":
        zoom_rate = 0.025 * rng.choice([-1.0, 1.0])
    elif motion == "rotate":
        turn_deg = 2.0 * rng.choice([-1.0, 1.0])
    elif motion == "mixed":
        pan_px, zoom_rate, turn_deg = 1.5, 0.01 * rng.choice([-1.0, 1.0]), 0.7 * rng.choice([-1.0, 1.0])
    direction = rng.uniform(0.0, 2.0 * np.pi)
    velocity = speed * pan_px * np.array([np.cos(direction), np.sin(direction)])
    centres = c[None, :] + t[:, None] * velocity[None, :]
    zooms = (1.0 + speed * zoom_rate) ** t
    angles = np.deg2rad(speed * turn_deg) * t

    objects: list[_Object] = []
    side = min(h, w)
    for _ in range(int(n_objects)):
        shape = "disc" if rng.random() < 0.5 else "rect"
        if shape == "disc":
            r = rng.uniform(0.12, 0.22) * side
            half = (r, r)
        else:
            half = (rng.uniform(0.12, 0.25) * side, rng.uniform(0.12, 0.25) * side)
        p0 = np.array([rng.uniform(0.25, 0.75) * w, rng.uniform(0.25, 0.75) * h])
        # Objects are placed in the frame-0 view: p0 is an image point of frame 0.
        heading = rng.uniform(0.0, 2.0 * np.pi)
        v = speed * rng.uniform(2.0, 4.0) * np.array([np.cos(heading), np.sin(heading)])
        tex_h = int(np.ceil(2 * half[1] + 2 * _TEXTURE_MARGIN))
        tex_w = int(np.ceil(2 * half[0] + 2 * _TEXTURE_MARGIN))
        tex = random_texture(tex_h, tex_w, seed=int(rng.integers(2**31)), feature_size=1.0)
        tint = rng.uniform(0.7, 1.3, size=3).astype(np.float32)  # set objects apart in colour
        tex = np.clip(0.5 + (tex - 0.5) * 1.1, 0, 1) * tint
        objects.append(_Object(shape, half, p0, v, np.clip(tex, 0.02, 0.98).astype(np.float32)))

    # Background texture: large enough for every world point any frame sees.
    corners_x = np.array([-1.0, w, -1.0, w])
    corners_y = np.array([-1.0, -1.0, h, h])
    xs, ys = [], []
    for k in range(n):
        cos, sin, z = np.cos(angles[k]), np.sin(angles[k]), zooms[k]
        dx, dy = corners_x - c[0], corners_y - c[1]
        xs.append(centres[k, 0] + (cos * dx - sin * dy) / z)
        ys.append(centres[k, 1] + (sin * dx + cos * dy) / z)
    xs_all, ys_all = np.concatenate(xs), np.concatenate(ys)
    origin = np.array([np.floor(xs_all.min()) - _TEXTURE_MARGIN, np.floor(ys_all.min()) - _TEXTURE_MARGIN])
    bg_w = int(np.ceil(xs_all.max() - origin[0] + _TEXTURE_MARGIN)) + 1
    bg_h = int(np.ceil(ys_all.max() - origin[1] + _TEXTURE_MARGIN)) + 1
    background = random_texture(bg_h, bg_w, seed=int(rng.integers(2**31)), feature_size=1.0)

    return SyntheticClip(
        n_frames=n,
        height=h,
        width=w,
        motion=motion,
        seed=seed,
        brightness=float(brightness),
        speed=float(speed),
        centres=centres,
        angles=angles,
        zooms=zooms,
        objects=objects,
        background=background,
        background_origin=origin,
    )
