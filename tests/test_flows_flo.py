"""flows.flo: exact round trips, explicit little-endian layout, clear errors on bad files."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows import FlowError, read_flo, write_flo


def test_round_trip_is_exact(tmp_path: Path):
    rng = np.random.default_rng(0)
    flow = (rng.standard_normal((7, 13, 2)) * 50).astype(np.float32)
    flow[0, 0] = (np.inf, -np.inf)
    flow[0, 1] = (np.nan, 1e-40)  # NaN and a subnormal survive bit for bit
    path = write_flo(tmp_path / "a.flo", flow)
    back = read_flo(path)
    assert back.dtype == np.float32 and back.shape == (7, 13, 2)
    assert back.tobytes() == flow.tobytes()
    back[0, 0] = 0  # writable, native order


def test_layout_is_little_endian_middlebury(tmp_path: Path):
    flow = np.array([[[1.5, -2.0], [3.0, 4.25]]], np.float32)  # H=1, W=2
    write_flo(tmp_path / "b.flo", flow)
    raw = (tmp_path / "b.flo").read_bytes()
    assert raw[:4] == b"PIEH"
    assert struct.unpack("<fii", raw[:12]) == (202021.25, 2, 1)
    assert struct.unpack("<4f", raw[12:]) == (1.5, -2.0, 3.0, 4.25)


def test_float64_and_non_contiguous_input(tmp_path: Path):
    flow = np.random.default_rng(1).random((6, 8, 2))[:, ::2]
    write_flo(tmp_path / "c.flo", flow)
    np.testing.assert_array_equal(read_flo(tmp_path / "c.flo"), flow.astype(np.float32))


def test_write_is_atomic_and_leaves_no_temp_files(tmp_path: Path):
    path = tmp_path / "sub" / "d.flo"
    write_flo(path, np.zeros((3, 4, 2), np.float32))
    write_flo(path, np.ones((3, 4, 2), np.float32))  # replaces
    assert os.listdir(path.parent) == ["d.flo"]
    assert read_flo(path).min() == 1.0
    with pytest.raises(FlowError, match=r"HxWx2, got \(3, 4\)"):
        write_flo(path, np.zeros((3, 4), np.float32))
    assert read_flo(path).min() == 1.0  # untouched
    assert os.listdir(path.parent) == ["d.flo"]


def _header(w: int, h: int, magic: float = 202021.25) -> bytes:
    return struct.pack("<fii", magic, w, h)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", r"0 bytes, shorter than the 12-byte header"),
        (b"PIEH\x01\x00", r"6 bytes, shorter than the 12-byte header"),
        (_header(2, 2, magic=1.0) + bytes(32), r"magic number 1\.0 .* expected 202021\.25"),
        (struct.pack(">fii", 202021.25, 2, 2) + bytes(32), r"magic number .* expected 202021\.25"),  # big-endian
        (_header(0, 2), r"invalid size 0x2"),
        (_header(3, -1), r"invalid size 3x-1"),
        (_header(100000, 1), r"invalid size 100000x1"),
        (_header(2, 2) + bytes(31), r"truncated: a 2x2 flow needs 32 data bytes, found 31"),
        (_header(2, 2) + bytes(33), r"longer than a 2x2 flow \(44 bytes\): 45 bytes"),
        (_header(99999, 99999), r"truncated: a 99999x99999 flow needs 79998400008 data bytes, found 0"),
    ],
)
def test_bad_files_raise_flow_error_naming_the_path(tmp_path: Path, content: bytes, message: str):
    path = tmp_path / "bad.flo"
    path.write_bytes(content)
    with pytest.raises(FlowError, match=message) as info:
        read_flo(path)
    assert "bad.flo" in str(info.value)


def test_missing_file_and_folder(tmp_path: Path):
    with pytest.raises(FlowError, match=r"'.*nope\.flo' does not exist"):
        read_flo(tmp_path / "nope.flo")
    with pytest.raises(FlowError, match="is a folder"):
        read_flo(tmp_path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.one_of(
        st.binary(max_size=64),
        # Valid magic and plausible sizes with random payload lengths hit the size checks.
        st.tuples(st.integers(-3, 5), st.integers(-3, 5), st.binary(max_size=200)).map(
            lambda t: _header(t[0], t[1]) + t[2]
        ),
    )
)
def test_fuzz_only_flow_error(tmp_path: Path, data: bytes):
    path = tmp_path / "fuzz.flo"
    path.write_bytes(data)
    try:
        flow = read_flo(path)
    except FlowError:
        return
    assert flow.ndim == 3 and flow.shape[2] == 2 and flow.dtype == np.float32
    assert len(data) == 12 + flow.size * 4
