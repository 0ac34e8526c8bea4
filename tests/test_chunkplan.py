"""The plan of a chunked render and the join of its chunks (neuralpaint.chunkplan): pure functions."""

from __future__ import annotations

import numpy as np
import pytest

from neuralpaint.chunkplan import assemble, plan
from neuralpaint.errors import InputError


def test_plan_keyframe_pairs_and_meeting_seams():
    chunks, seams = plan(12, 2, 3, "keyframe")
    assert [c.direction for c in chunks] == ["backward", "forward"]
    assert chunks[0].frames == [6, 5, 4, 3, 2, 1, 0] and chunks[1].frames == list(range(6, 12))
    assert [s.kind for s in seams] == ["keyframe"]
    settled, _ = plan(12, 2, 3, "keyframe", settle=4)  # both chains share k, k+1, k, k-1, k first
    assert settled[0].frames == [6, 7, 6, 5, 6, 5, 4, 3, 2, 1, 0]
    assert settled[1].frames == [6, 7, 6, 5, 6, 7, 8, 9, 10, 11]
    assert settled[0].warmup == settled[1].warmup == 4
    assert settled[0].rendered == [6, 5, 4, 3, 2, 1, 0] and settled[1].position(6) == 4
    chunks, seams = plan(16, 4, 3, "keyframe")
    assert [c.direction for c in chunks] == ["backward", "forward", "backward", "forward"]
    assert [s.kind for s in seams] == ["keyframe", "blend", "keyframe"]
    assert seams[1].blend == (5, 10)  # 2·overlap frames around the meeting point 8
    assert chunks[1].last == 10 and chunks[2].first == 5  # both chains cover the window
    assert chunks[2].frames[0] == chunks[3].frames[0] == 12  # the shared keyframe
    # every frame is owned by exactly one chunk
    owned = sorted(t for c in chunks for t in range(c.owns[0], c.owns[1] + 1))
    assert owned == list(range(16))


def test_plan_crossfade_windows_do_not_overlap():
    chunks, seams = plan(16, 4, 5, "crossfade")
    assert all(c.direction == "forward" for c in chunks)
    windows = [s.blend for s in seams]
    assert all(a[1] < b[0] for a, b in zip(windows, windows[1:]))
    for s in seams:
        assert chunks[s.left].last >= s.blend[1] and chunks[s.right].first <= s.blend[0]
    _, cut = plan(12, 2, 0, "crossfade")
    assert cut[0].blend[1] < cut[0].blend[0]  # overlap 0 = a hard cut


@pytest.mark.parametrize("args, match", [
    ((5, 3, 2, "keyframe"), r"--chunks 3 needs at least 6 frames, the clip has 5"),
    ((12, 0, 2, "keyframe"), r"--chunks must be >= 1, got 0"),
    ((12, 2, -1, "keyframe"), r"--overlap must be >= 0, got -1"),
    ((12, 2, 2, "zipper"), r"unknown seam method 'zipper'"),
    ((12, 2, 2, "keyframe", 3), r"settle must be an even number >= 0, got 3"),
])
def test_plan_errors(args, match):
    with pytest.raises(InputError, match=match):
        plan(*args)


def test_assemble_cross_fades_linearly():
    chunks, seams = plan(12, 2, 2, "crossfade")
    value = {0: 0, 1: 250}
    frames, prov = assemble(12, chunks, seams, lambda c, t: np.full((2, 2, 3), value[c], np.uint8))
    means = [int(f.mean()) for f in frames]
    assert means == [0, 0, 0, 0, 50, 100, 150, 200, 250, 250, 250, 250]
    assert prov[0] == "chunk 1" and prov[5].startswith("blend 1-2") and prov[11] == "chunk 2"
