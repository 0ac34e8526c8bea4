"""The frame loop's steps that are not covered end to end by tests/test_video.py."""

import numpy as np
import torch

from neuralpaint.frameloop import paint_unseen, refine_unseen
from neuralpaint.optimize import Stylizer
from neuralpaint.settings import ImageSettings, ModelSettings, RuntimeSettings

CPU = torch.device("cpu")


def _setup():
    g = torch.Generator().manual_seed(0)
    content, style = torch.rand(1, 3, 48, 64, generator=g), torch.rand(1, 3, 32, 32, generator=g)
    st = Stylizer.create([style], ImageSettings(size=64, window=5), ModelSettings(weights="random"),
                         RuntimeSettings(), CPU)
    covered = np.ones((48, 64), np.float32)
    covered[18:30, 24:40] = 0.0  # a region no earlier result saw
    init = np.random.default_rng(1).random((48, 64, 3)).astype(np.float32)
    return st, content, covered, init


def test_refining_the_unseen_region_leaves_every_covered_pixel_as_it_was():
    st, content, covered, init = _setup()
    out = refine_unseen(st, content, init, covered, iters=8)
    assert out.shape == init.shape and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0
    seen = covered >= 1.0
    np.testing.assert_array_equal(out[seen], init[seen])
    assert np.abs(out[~seen] - init[~seen]).mean() > 1e-3


def test_refining_a_frame_with_nothing_unseen_returns_the_init_itself():
    st, content, _, init = _setup()
    assert refine_unseen(st, content, init, np.ones((48, 64), np.float32), iters=8) is init


def test_painting_the_unseen_regions_fills_only_their_boxes():
    st, content, covered, _ = _setup()
    painted = paint_unseen(st, content, covered, iters=4)
    assert painted is not None and painted.shape == (48, 64, 3)
    inside = np.isfinite(painted[..., 0])
    assert inside[18:30, 24:40].all()  # the region and its margin
    assert not inside.all()  # nothing outside the boxes
    assert 0.0 <= np.nanmin(painted) and np.nanmax(painted) <= 1.0
