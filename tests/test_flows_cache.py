"""flows.cache: identical results on a hit, keys per clip/method/params, corrupt files are misses."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from flows import FlowCache, FlowError, FlowResult, estimate, reliability
from flows.cache import compute_result
from flows.synthetic import make_clip


@pytest.fixture(scope="module")
def frames():
    return make_clip(n_frames=4, height=48, width=64, motion="objects", seed=2).frames


def test_hit_returns_identical_arrays(tmp_path: Path, frames):
    cache = FlowCache(tmp_path, clip_id="clip-a")
    first = cache.get_or_compute(frames, 2, 1)
    assert (cache.hits, cache.misses) == (0, 1)
    again = FlowCache(tmp_path, clip_id="clip-a").get_or_compute(frames, 2, 1)  # a new run
    assert again == first
    for a, b in zip((again.backward, again.forward, again.reliability),
                    (first.backward, first.forward, first.reliability)):
        assert a.dtype == np.float32 and a.tobytes() == b.tobytes()
    # And the content is what direct computation gives.
    np.testing.assert_array_equal(first.backward, estimate(frames[2], frames[1]))
    np.testing.assert_array_equal(first.forward, estimate(frames[1], frames[2]))
    np.testing.assert_array_equal(first.reliability, reliability(first.backward, first.forward))
    assert [p.suffix for p in tmp_path.iterdir()] == [".npz"]
    assert next(tmp_path.iterdir()).name.startswith("00002_1_")


def test_key_depends_on_everything_that_changes_the_result(tmp_path: Path, frames):
    cache = FlowCache(tmp_path, clip_id="c")
    base = cache.key(2, 1)
    assert cache.key(2, 1, "dis", {"preset": "medium"}) == base  # defaults filled in
    assert cache.key(2, 1, reliability_params={"sigma": 0.8}) == base
    others = {
        cache.key(3, 1),
        cache.key(2, 2),
        cache.key(2, 1, "farneback"),
        cache.key(2, 1, "dis", {"preset": "fast"}),
        cache.key(2, 1, reliability_params={"sigma": 0}),
        cache.key(2, 1, clip_id="other"),
    }
    assert base not in others and len(others) == 6
    assert len({cache.path(k) for k in others | {base}}) == 7
    with pytest.raises(FlowError, match="unknown parameter 'bogus'"):
        cache.key(2, 1, "dis", {"bogus": 1})
    with pytest.raises(FlowError, match="unknown reliability parameter 'sigma2'"):
        cache.key(2, 1, reliability_params={"sigma2": 1})


def test_content_addressed_without_clip_id(tmp_path: Path, frames):
    cache = FlowCache(tmp_path)
    with pytest.raises(FlowError, match="needs a clip_id or the frames"):
        cache.key(1, 1)
    k1 = cache.key(1, 1, frames=frames)
    k2 = cache.key(1, 1, frames=[f.copy() for f in frames])
    assert k1 == k2
    changed = [f.copy() for f in frames]
    changed[0][0, 0, 0] ^= 1
    assert cache.key(1, 1, frames=changed) != k1
    cache.get_or_compute(frames, 1)
    cache.get_or_compute(frames, 1)
    assert (cache.hits, cache.misses) == (1, 1)


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(b""),
        lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),
        lambda p: p.write_bytes(b"garbage" * 100),
        lambda p: p.write_bytes(bytes(len(p.read_bytes()))),
    ],
    ids=["empty", "truncated", "garbage", "zeros"],
)
def test_corrupt_file_is_recomputed(tmp_path: Path, frames, damage):
    cache = FlowCache(tmp_path, clip_id="c")
    first = cache.get_or_compute(frames, 3, 2)
    (path,) = tmp_path.iterdir()
    damage(path)
    second = cache.get_or_compute(frames, 3, 2)
    assert second == first
    assert (cache.hits, cache.misses, cache.corrupt) == (0, 2, 1)
    assert cache.get_or_compute(frames, 3, 2) == first  # repaired on disk
    assert cache.hits == 1


def test_file_with_wrong_content_is_a_miss(tmp_path: Path, frames):
    cache = FlowCache(tmp_path, clip_id="c")
    key = cache.key(1, 1)
    bad = FlowResult(np.zeros((4, 4, 2), np.float32), np.zeros((4, 5, 2), np.float32), np.zeros((4, 4), np.float32))
    cache.save(key, bad)
    assert cache.load(key) is None and cache.corrupt == 1
    # A file stored under another key (e.g. renamed by hand) is not taken for this one.
    good = compute_result(frames[1], frames[0])
    cache.save(cache.key(2, 1), good)
    os.replace(cache.path(cache.key(2, 1)), cache.path(key))
    assert cache.load(key) is None


def test_saves_are_atomic(tmp_path: Path, frames):
    cache = FlowCache(tmp_path / "deep" / "er", clip_id="c")
    cache.get_or_compute(frames, 1)
    cache.get_or_compute(frames, 2)
    names = sorted(p.name for p in (tmp_path / "deep" / "er").iterdir())
    assert len(names) == 2 and all(n.endswith(".npz") and not n.startswith(".") for n in names)


def test_index_errors(tmp_path: Path, frames):
    cache = FlowCache(tmp_path, clip_id="c")
    with pytest.raises(FlowError, match=r"t=1, offset=2"):
        cache.get_or_compute(frames, 1, 2)
    with pytest.raises(FlowError, match=r"t=4, offset=1"):
        cache.get_or_compute(frames, 4, 1)
