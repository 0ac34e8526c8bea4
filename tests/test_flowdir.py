"""--flow-dir's naming and the flows it needs (neuralpaint.flowdir); the CLI in test_cli_video."""

from __future__ import annotations

import numpy as np
import pytest

import flows
from neuralpaint.errors import InputError
from neuralpaint.flowdir import check_flow_dir, flow_file, needed_offsets
from neuralpaint.settings import VideoSettings


def test_names_are_those_neuralpaint_flow_writes(tmp_path):
    assert flow_file(tmp_path, "backward", 2, 1).name == "backward_00002_1.flo"
    assert flow_file(tmp_path, "forward", 123, 10).name == "forward_00123_10.flo"


@pytest.mark.parametrize("kwargs, expected", [
    ({}, [1, 2, 4]),  # the init takes each pixel from the closest of the offsets that saw it
    ({"temporal_init": False}, [1]),
    ({"temporal_init": False, "short_term": False}, []),
    ({"temporal_init": False, "long_term": True, "offsets": (1, 10)}, [1, 10]),
    ({"temporal_init": False, "short_term": False, "passes": 3}, [1]),
])
def test_needed_offsets(kwargs, expected):
    assert needed_offsets(VideoSettings(**kwargs)) == expected


def test_check_numbers_from_the_first_rendered_frame_and_reads_only_headers(tmp_path):
    flow = np.zeros((6, 8, 2), np.float32)
    for t in (6, 7):  # --start 5: frames 5, 6, 7
        for kind in ("backward", "forward"):
            flows.write_flo(flow_file(tmp_path, kind, t, 1), flow)
    check_flow_dir(tmp_path, 3, 5, [1], (6, 8))
    with pytest.raises(InputError, match=r"backward_00007_2.flo' does not exist and 1 more"):
        check_flow_dir(tmp_path, 3, 5, [1, 2], (6, 8))
    with pytest.raises(InputError, match=r"is 8x6, but the frames are painted at 16x12"):
        check_flow_dir(tmp_path, 3, 5, [1], (12, 16))
    (tmp_path / "backward_00006_1.flo").write_bytes(b"not a flow at all")
    with pytest.raises(InputError, match=r"backward_00006_1.flo' is not a .flo file"):
        check_flow_dir(tmp_path, 3, 5, [1], (6, 8))
