"""flows.visualize: the Middlebury colour wheel, directions and the shared scale."""

from __future__ import annotations

import numpy as np
import pytest

from flows import FlowError, clip_max_magnitude, to_color
from flows.visualize import color_wheel, max_flow_magnitude


def one(dx: float, dy: float, scale: float | None = 1.0) -> np.ndarray:
    flow = np.array([[[dx, dy]]], np.float32)
    return to_color(flow, scale)[0, 0].astype(int)


def test_wheel_has_55_colours_starting_at_red():
    wheel = color_wheel()
    assert wheel.shape == (55, 3)
    np.testing.assert_array_equal(wheel[0], [255, 0, 0])
    np.testing.assert_array_equal(wheel[15], [255, 255, 0])  # yellow after the 15 RY steps
    np.testing.assert_array_equal(wheel[21], [0, 255, 0])  # green
    np.testing.assert_array_equal(wheel[25], [0, 255, 255])  # cyan
    np.testing.assert_array_equal(wheel[36], [0, 0, 255])  # blue
    np.testing.assert_array_equal(wheel[49], [255, 0, 255])  # magenta


@pytest.mark.parametrize(
    "dx, dy, check",
    [
        (1, 0, lambda c: c[0] == 255 and c[1] < 10 and c[2] < 60),  # right: red
        (-1, 0, lambda c: c[0] < 10 and c[1] > 150 and c[2] == 255),  # left: cyan/blue
        (0, 1, lambda c: c[0] == 255 and c[1] > 180 and c[2] < 10),  # down (+y): yellow/orange
        (0, -1, lambda c: c[2] == 255 and c[1] < 10 and c[0] < 130),  # up: blue/violet
    ],
)
def test_known_directions(dx, dy, check):
    c = one(dx, dy)
    assert check(c), c


def test_saturation_and_scale():
    assert (one(0, 0) == 255).all()  # zero flow is white
    full = one(1, 0, 1.0)
    half = one(0.5, 0, 1.0)
    assert half[1] > full[1] and half[2] > full[2]  # shorter: paler
    beyond = one(2, 0, 1.0)
    assert beyond[0] == int(255 * 0.75)  # longer than the scale: darkened like the reference
    # Shared scale: the same vector is paler under a larger clip-wide maximum.
    assert one(1, 0, 4.0)[1] > one(1, 0, 1.0)[1]


def test_default_scale_is_the_flows_own_maximum():
    flow = np.zeros((2, 2, 2), np.float32)
    flow[0, 0] = (3, 4)
    flow[1, 1] = (1, 0)
    img = to_color(flow)
    assert img.shape == (2, 2, 3) and img.dtype == np.uint8
    np.testing.assert_array_equal(img, to_color(flow, 5.0))
    assert max_flow_magnitude(flow) == pytest.approx(5.0)
    assert clip_max_magnitude([flow, flow * 2]) == pytest.approx(10.0)
    assert clip_max_magnitude([]) == 0.0
    assert (to_color(np.zeros((3, 3, 2), np.float32)) == 255).all()  # all-zero flow: white, no NaN


def test_unknown_vectors_are_black():
    flow = np.zeros((1, 3, 2), np.float32)
    flow[0, 0] = (np.nan, 0)
    flow[0, 1] = (2e9, 0)
    flow[0, 2] = (1, 0)
    img = to_color(flow)
    assert (img[0, 0] == 0).all() and (img[0, 1] == 0).all()
    assert img[0, 2, 0] == 255
    assert max_flow_magnitude(flow) == pytest.approx(1.0)


def test_errors():
    with pytest.raises(FlowError, match=r"max_magnitude must be a non-negative finite number, got -1"):
        to_color(np.zeros((2, 2, 2), np.float32), -1)
    with pytest.raises(FlowError, match=r"HxWx2"):
        to_color(np.zeros((2, 2), np.float32))
