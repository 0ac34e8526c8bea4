"""The frame loop's steps that are not covered end to end by tests/test_video.py."""

import numpy as np
import torch

from neuralpaint.frameloop import paint_unseen
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
    return st, content, covered


def test_painting_the_unseen_regions_fills_only_their_boxes():
    st, content, covered = _setup()
    painted = paint_unseen(st, content, covered, iters=4)
    assert painted is not None and painted.shape == (48, 64, 3)
    inside = np.isfinite(painted[..., 0])
    assert inside[18:30, 24:40].all()  # the region and its margin
    assert not inside.all()  # nothing outside the boxes
    assert 0.0 <= np.nanmin(painted) and np.nanmax(painted) <= 1.0
