"""flows.prefetch: results equal direct computation, bounded look-ahead, cache use, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from flows import FlowCache, FlowError, FlowPrefetcher, estimate, reliability
from flows.synthetic import make_clip


@pytest.fixture(scope="module")
def frames():
    return make_clip(n_frames=6, height=48, width=64, motion="mixed", seed=3).frames


def direct(frames, t, j, method="dis", **params):
    bw = estimate(frames[t], frames[t - j], method, **params)
    fw = estimate(frames[t - j], frames[t], method, **params)
    return bw, fw, reliability(bw, fw)


def test_same_as_direct_computation(frames):
    with FlowPrefetcher(frames, offsets=(2, 1), lookahead=2) as prefetch:
        assert prefetch.get(0) == {}
        for t in range(1, len(frames)):
            got = prefetch.get(t)
            assert list(got) == [j for j in (1, 2) if j <= t]
            for j, result in got.items():
                bw, fw, c = direct(frames, t, j)
                np.testing.assert_array_equal(result.backward, bw)
                np.testing.assert_array_equal(result.forward, fw)
                np.testing.assert_array_equal(result.reliability, c)
            # Bounded: only the next `lookahead` frames are held.
            assert set(prefetch._pending) <= set(range(t + 1, t + 3))


def test_method_params_and_reliability_params_are_used(frames):
    with FlowPrefetcher(
        frames, method="farneback", params={"winsize": 7}, reliability_params={"sigma": 0}, workers=1
    ) as prefetch:
        result = prefetch.get(3)[1]
    bw = estimate(frames[3], frames[2], "farneback", winsize=7)
    fw = estimate(frames[2], frames[3], "farneback", winsize=7)
    np.testing.assert_array_equal(result.backward, bw)
    np.testing.assert_array_equal(result.reliability, reliability(bw, fw, sigma=0))


def test_with_cache_second_run_hits(tmp_path: Path, frames):
    cache = FlowCache(tmp_path, clip_id="clip")
    with FlowPrefetcher(frames, offsets=(1,), cache=cache) as prefetch:
        first = [prefetch.get(t) for t in range(len(frames))]
    assert cache.misses == len(frames) - 1 and cache.hits == 0
    with FlowPrefetcher(frames, offsets=(1,), cache=cache) as prefetch:
        second = [prefetch.get(t) for t in range(len(frames))]
    assert cache.hits == len(frames) - 1
    assert first == second


def test_process_executor_matches(tmp_path: Path, frames):
    cache = FlowCache(tmp_path, clip_id="clip")
    with FlowPrefetcher(frames, offsets=(1, 3), executor="process", workers=2, cache=cache) as prefetch:
        got = prefetch.get(3)
    for j in (1, 3):
        bw, fw, c = direct(frames, 3, j)
        np.testing.assert_array_equal(got[j].backward, bw)
        np.testing.assert_array_equal(got[j].reliability, c)
    assert cache.misses == 2
    # The parent stored the results: a thread prefetcher now hits.
    with FlowPrefetcher(frames, offsets=(1, 3), cache=cache) as prefetch:
        assert prefetch.get(3) == got
    assert cache.hits == 2


def test_errors(frames):
    with pytest.raises(FlowError, match="unknown flow method 'nope'"):
        FlowPrefetcher(frames, method="nope")
    with pytest.raises(FlowError, match="unknown parameter 'x'"):
        FlowPrefetcher(frames, params={"x": 1})
    with pytest.raises(FlowError, match="unknown reliability parameter 'sigmaa'"):
        FlowPrefetcher(frames, reliability_params={"sigmaa": 1})
    with pytest.raises(FlowError, match=r"positive integers, got 0"):
        FlowPrefetcher(frames, offsets=(1, 0))
    with pytest.raises(FlowError, match=r"must not repeat"):
        FlowPrefetcher(frames, offsets=(1, 1))
    with pytest.raises(FlowError, match=r"unknown executor 'gpu'"):
        FlowPrefetcher(frames, executor="gpu")
    prefetch = FlowPrefetcher(frames)
    with pytest.raises(FlowError, match=r"0\.\.5, got 6"):
        prefetch.get(6)
    prefetch.close()
    with pytest.raises(FlowError, match="closed"):
        prefetch.get(2)
    # Errors of the computation surface in get().
    bad = [np.zeros((8, 8, 3), np.uint8), np.zeros((8, 9, 3), np.uint8)]
    with FlowPrefetcher(bad) as prefetch:
        with pytest.raises(FlowError, match="same size"):
            prefetch.get(1)
