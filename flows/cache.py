"""On-disk cache of flows and reliability weights, so a resumed or repeated run does not
recompute them.

One ``.npz`` file (uncompressed: writing and reading are memory-speed) per frame t and offset j
holds the backward flow t→t−j, the forward flow t−j→t and the reliability weights. Its name is
``{t:05d}_{j}_{digest}.npz``; the digest is a hash of the clip identity, the method, the complete
method parameters (defaults filled in), the reliability constants, t and j, so a change of any of
them is a different entry. The full key text is stored in the file and checked on load.

Clip identity: the ``clip_id`` given to the cache (or to a call) — e.g. a hash of the source
file — or, when there is none, a hash of the two frames' pixels (content addressing: always
correct, costs hashing two frames per lookup).

Writes are atomic (temporary file + ``os.replace``); a file that cannot be read back for any
reason (truncated, garbage, wrong content) is a miss: it is removed and recomputed, never a crash.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ._atomic import atomic_open
from .consistency import reliability
from .errors import FlowError
from .estimate import estimate, resolve_params

CACHE_VERSION = 1


@dataclass(frozen=True)
class FlowResult:
    """Flows of one frame t for one offset j, and the reliability of the backward flow."""

    backward: np.ndarray  #: float32 HxWx2, t -> t-j (warp frame t-j with it)
    forward: np.ndarray  #: float32 HxWx2, t-j -> t
    reliability: np.ndarray  #: float32 HxW in [0, 1]

    def __eq__(self, other: object) -> bool:  # arrays: compare by content
        if not isinstance(other, FlowResult):
            return NotImplemented
        return all(
            np.array_equal(a, b)
            for a, b in zip(
                (self.backward, self.forward, self.reliability), (other.backward, other.forward, other.reliability)
            )
        )

    __hash__ = None  # type: ignore[assignment]


def compute_result(
    frame_t: np.ndarray,
    frame_prev: np.ndarray,
    method: str = "dis",
    params: Mapping[str, Any] | None = None,
    reliability_params: Mapping[str, Any] | None = None,
) -> FlowResult:
    """Backward flow frame_t→frame_prev, forward flow frame_prev→frame_t and reliability."""
    params = dict(params or {})
    backward = estimate(frame_t, frame_prev, method, **params)
    forward = estimate(frame_prev, frame_t, method, **params)
    weights = reliability(backward, forward, **dict(reliability_params or {}))
    return FlowResult(backward, forward, weights)


def _check_indices(t: int, offset: int, n: int) -> None:
    for name, v in (("t", t), ("offset", offset)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise FlowError(f"{name} must be an integer, got {v!r}")
    if offset < 1 or t - offset < 0 or t >= n:
        raise FlowError(f"need 1 <= offset <= t < {n} (number of frames), got t={t}, offset={offset}")


def frames_digest(*frames: np.ndarray) -> str:
    """A hex digest of the frames' shapes, dtypes and pixels (blake2b)."""
    h = hashlib.blake2b(digest_size=20)
    for f in frames:
        a = np.ascontiguousarray(f)
        h.update(f"{a.shape}{a.dtype.str};".encode())
        h.update(a.data.cast("B"))
    return h.hexdigest()


def resolve_reliability_params(params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The complete keyword set of :func:`flows.reliability`: defaults updated with ``params``.

    Raises :class:`FlowError` naming an unknown keyword.
    """
    defaults = {
        name: p.default
        for name, p in inspect.signature(reliability).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }
    params = dict(params or {})
    for name in params:
        if name not in defaults:
            raise FlowError(f"unknown reliability parameter {name!r}; its parameters: {', '.join(defaults)}")
    defaults.update(params)
    return defaults


def _canonical(value: Any) -> Any:
    """JSON-stable form of parameter values (numpy scalars to Python, tuples to lists)."""
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


class FlowCache:
    """A folder of cached :class:`FlowResult`\\ s keyed by clip, method, parameters, t and offset.

    ``FlowCache(folder, clip_id=None)``. Typical use::

        cache = FlowCache("run/flows", clip_id=source_hash)
        result = cache.get_or_compute(frames, t, j, method="dis")

    Thread-safe (the prefetcher's workers share one instance); ``hits``, ``misses`` and
    ``corrupt`` count what happened.
    """

    def __init__(self, folder: str | os.PathLike, clip_id: str | None = None) -> None:
        self.folder = Path(folder)
        self.clip_id = clip_id
        self.hits = 0
        self.misses = 0
        self.corrupt = 0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"FlowCache({str(self.folder)!r}, clip_id={self.clip_id!r})"

    # -- keys ---------------------------------------------------------------------------------

    def key(
        self,
        t: int,
        offset: int,
        method: str = "dis",
        params: Mapping[str, Any] | None = None,
        reliability_params: Mapping[str, Any] | None = None,
        clip_id: str | None = None,
        frames: Sequence[np.ndarray] | None = None,
    ) -> str:
        """The key text of an entry (a canonical JSON string).

        The clip identity is ``clip_id``, else the cache's ``clip_id``, else a digest of
        ``frames[t]`` and ``frames[t - offset]`` (then ``frames`` is required).
        """
        identity = clip_id if clip_id is not None else self.clip_id
        if identity is None:
            if frames is None:
                raise FlowError("FlowCache needs a clip_id or the frames to identify the clip")
            identity = "pixels:" + frames_digest(frames[t], frames[t - offset])
        return json.dumps(
            {
                "version": CACHE_VERSION,
                "clip": str(identity),
                "method": method,
                "params": _canonical(resolve_params(method, params)),
                "reliability": _canonical(resolve_reliability_params(reliability_params)),
                "t": int(t),
                "offset": int(offset),
            },
            sort_keys=True,
        )

    def path(self, key: str) -> Path:
        """The file of ``key``."""
        info = json.loads(key)
        digest = hashlib.sha256(key.encode()).hexdigest()[:24]
        return self.folder / f"{info['t']:05d}_{info['offset']}_{digest}.npz"

    # -- load / save --------------------------------------------------------------------------

    def load(self, key: str) -> FlowResult | None:
        """The cached result of ``key``, or None (missing or unreadable: a miss)."""
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                stored_key = str(data["key"][()])
                backward = np.array(data["backward"])
                forward = np.array(data["forward"])
                weights = np.array(data["reliability"])
            ok = (
                stored_key == key
                and backward.dtype == np.float32
                and forward.dtype == np.float32
                and weights.dtype == np.float32
                and backward.ndim == 3
                and backward.shape[2] == 2
                and forward.shape == backward.shape
                and weights.shape == backward.shape[:2]
            )
        except Exception:  # noqa: BLE001 - any unreadable file is a miss by contract
            ok = False
        if not ok:
            with self._lock:
                self.corrupt += 1
            try:
                path.unlink()
            except OSError:
                pass
            return None
        return FlowResult(backward, forward, weights)

    def save(self, key: str, result: FlowResult) -> Path:
        """Store ``result`` under ``key`` atomically; returns the file."""
        path = self.path(key)
        with atomic_open(path, fsync=False) as fh:
            np.savez(
                fh,
                key=np.array(key),
                backward=np.ascontiguousarray(result.backward, dtype=np.float32),
                forward=np.ascontiguousarray(result.forward, dtype=np.float32),
                reliability=np.ascontiguousarray(result.reliability, dtype=np.float32),
            )
        return path

    def get_or_compute(
        self,
        frames: Sequence[np.ndarray],
        t: int,
        offset: int = 1,
        method: str = "dis",
        params: Mapping[str, Any] | None = None,
        reliability_params: Mapping[str, Any] | None = None,
        clip_id: str | None = None,
    ) -> FlowResult:
        """The result for frame t and ``offset``: from the cache, or computed and stored."""
        _check_indices(t, offset, len(frames))
        key = self.key(t, offset, method, params, reliability_params, clip_id, frames)
        cached = self.load(key)
        if cached is not None:
            with self._lock:
                self.hits += 1
            return cached
        result = compute_result(frames[t], frames[t - offset], method, params, reliability_params)
        self.save(key, result)
        with self._lock:
            self.misses += 1
        return result
