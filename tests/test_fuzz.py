"""Fuzzing the readers of user files: nothing but our own error type may come out.

- ``.flo`` (flows.read_flo): mutations of a valid file and extreme headers -> FlowError only.
- GIF (media.read_clip): mutations of a valid animated GIF, random size/start/end -> InputError.
- run manifest (runstate.RunFolder.open): random JSON, and a valid manifest with random fields ->
  ResumeError/InputError only; when it opens, every frame record is well typed (the frame loop
  does arithmetic on them).
- sweep TOML (neuralpaint.sweep.config): random tables and mutated text -> InputError only.

Each test is limited to a few seconds (a fixed number of examples, no deadline).
"""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows import read_flo, write_flo
from flows.errors import FlowError
from mediautil import distinct_frame, write_gif
from neuralpaint import media
from neuralpaint.errors import InputError, ResumeError
from neuralpaint.runstate import FrameRecord, RunFolder

FUZZ = dict(deadline=None, derandomize=True, database=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def mutate(data: bytes, edits: list[tuple[int, int]], cut: int | None, tail: bytes) -> bytes:
    """Overwrite bytes (position modulo the length), cut the file, append a tail."""
    b = bytearray(data)
    for pos, value in edits:
        if b:
            b[pos % len(b)] = value
    if cut is not None:
        b = b[: cut % (len(b) + 1)]
    return bytes(b) + tail


EDITS = st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=6)
CUT = st.one_of(st.none(), st.integers(0, 10_000))
TAIL = st.one_of(st.just(b""), st.binary(max_size=24))


# ----------------------------------------------------------------------------------------------
# .flo
# ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def valid_flo(tmp_path_factory) -> bytes:
    p = tmp_path_factory.mktemp("flo") / "ok.flo"
    write_flo(p, np.random.default_rng(0).normal(size=(3, 4, 2)).astype(np.float32))
    return p.read_bytes()


INT32 = st.one_of(st.integers(-2**31, 2**31 - 1), st.sampled_from([0, 1, -1, 99999, 100000, 2**31 - 1, -2**31]))


@settings(max_examples=120, **FUZZ)
@given(edits=EDITS, cut=CUT, tail=TAIL, header=st.one_of(st.none(), st.tuples(INT32, INT32)))
def test_flo_reader_raises_only_flow_error(tmp_path, valid_flo, edits, cut, tail, header):
    data = valid_flo
    if header is not None:  # a lying width/height: must be refused before any allocation
        data = data[:4] + struct.pack("<ii", *header) + data[12:]
    data = mutate(data, edits, cut, tail)
    path = tmp_path / "fuzz.flo"
    path.write_bytes(data)
    try:
        flow = read_flo(path)
    except FlowError as exc:
        assert str(path) in str(exc) and "\n" not in str(exc)
        return
    assert flow.dtype == np.float32 and flow.ndim == 3 and flow.shape[2] == 2
    assert len(data) == 12 + flow.size * 4


# ----------------------------------------------------------------------------------------------
# GIF
# ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def valid_gif(tmp_path_factory) -> bytes:
    p = tmp_path_factory.mktemp("gif") / "ok.gif"
    write_gif(p, [distinct_frame(i, 12, 16) for i in range(3)], [40, 60, 80])
    return p.read_bytes()


@settings(max_examples=150, **FUZZ)
@given(edits=EDITS, cut=CUT, tail=TAIL, size=st.one_of(st.none(), st.integers(-2, 40)),
       start=st.one_of(st.none(), st.integers(-1, 5)), end=st.one_of(st.none(), st.integers(-1, 5)))
def test_gif_reader_raises_only_input_error(tmp_path, valid_gif, edits, cut, tail, size, start, end):
    path = tmp_path / "fuzz.gif"
    path.write_bytes(mutate(valid_gif, edits, cut, tail))
    try:
        clip = media.read_clip(path, size=size, start=start, end=end)
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    assert clip.frames and len({f.shape for f in clip.frames}) == 1
    assert all(f.dtype == np.uint8 and f.ndim == 3 and f.shape[2] == 3 for f in clip.frames)
    if size is not None:
        assert max(clip.frames[0].shape[:2]) == size


# ----------------------------------------------------------------------------------------------
# run manifest
# ----------------------------------------------------------------------------------------------

IDENTITY = {"input": {"size": 10, "mtime_ns": 1, "sha256": "ab"}, "styles": ["file:1"],
            "frames": [3, 16, 16], "settings": {"size": 16, "iters": 2}}

JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**40, 2**40),
              st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12)
RECORD_FIELDS = list(FrameRecord.__dataclass_fields__)  # type: ignore[attr-defined]


def _valid_manifest() -> dict:
    rec = {"passes_done": 1, "iterations": 2, "loss": 0.5, "stop_reason": "max_iters", "seconds": 0.1,
           "flow_seconds": 0.0, "io_seconds": 0.0, "losses": {"style": 0.4}, "history": [[1, 0.5]],
           "iterations_per_pass": [2]}
    return {"format": "neuralpaint-run", "version": 1, "identity": json.loads(json.dumps(IDENTITY)),
            "complete": False, "frames": [dict(rec) for _ in range(3)]}


MANIFESTS = st.one_of(
    JSON.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=40),
    # a real manifest with one part replaced: the top level, the identity, or record fields
    st.tuples(st.sampled_from(["format", "version", "identity", "complete", "frames"]), JSON).map(
        lambda kv: json.dumps({**_valid_manifest(), kv[0]: kv[1]}).encode()),
    st.tuples(st.sampled_from(["input", "styles", "frames", "settings"]), JSON).map(
        lambda kv: json.dumps({**_valid_manifest(), "identity": {**IDENTITY, kv[0]: kv[1]}}).encode()),
    st.tuples(st.integers(0, 2),
              st.dictionaries(st.sampled_from(RECORD_FIELDS + ["extra"]), JSON, min_size=1, max_size=3)).map(
        lambda kv: json.dumps({**_valid_manifest(), "frames": [
            {**r, **kv[1]} if i == kv[0] else r for i, r in enumerate(_valid_manifest()["frames"])]}).encode()),
)


def _well_typed(rec: FrameRecord) -> bool:
    def num(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    return (isinstance(rec.passes_done, int) and not isinstance(rec.passes_done, bool) and rec.passes_done >= 0
            and isinstance(rec.iterations, int) and not isinstance(rec.iterations, bool)
            and (rec.loss is None or num(rec.loss)) and (rec.stop_reason is None or isinstance(rec.stop_reason, str))
            and all(num(getattr(rec, k)) for k in ("seconds", "flow_seconds", "io_seconds"))
            and isinstance(rec.losses, dict) and all(isinstance(k, str) and num(v) for k, v in rec.losses.items())
            and isinstance(rec.history, list) and all(isinstance(h, list) and len(h) == 2 and all(num(x) for x in h)
                                                      for h in rec.history)
            and isinstance(rec.iterations_per_pass, list)
            and all(isinstance(i, int) and not isinstance(i, bool) for i in rec.iterations_per_pass))


@settings(max_examples=200, **FUZZ)
@given(manifest=MANIFESTS)
def test_manifest_reader_raises_only_resume_errors(tmp_path_factory, manifest):
    work = tmp_path_factory.mktemp("run")
    (work / "manifest.json").write_bytes(manifest)
    run = RunFolder(work, json.loads(json.dumps(IDENTITY)), 3)
    try:
        done = run.open()
    except (ResumeError, InputError):
        return  # (the CLI prints any message on one line: a key read from the file may hold "\n")
    assert 0 <= done <= 3
    assert all(_well_typed(r) for r in run.records), run.records
    json.loads((work / "manifest.json").read_text())  # rewritten valid


# ----------------------------------------------------------------------------------------------
# sweep TOML
# ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    pytest.importorskip("neuralpaint.sweep.config")
    from PIL import Image
    d = tmp_path_factory.mktemp("sweep")
    Image.fromarray(distinct_frame(1, 16, 16)).save(d / "c.png")
    write_gif(d / "clip.gif", [distinct_frame(i, 16, 16) for i in range(2)], [50, 50])
    return d


# TOML integers are 64-bit (the spec); bigger ones are a separate, known case below.
TOML_SCALAR = st.one_of(st.booleans(), st.integers(-2**63, 2**63 - 1), st.sampled_from([0, 1, -1, 16, 2**62]),
                        st.floats(), st.text(max_size=10), st.sampled_from(["lbfgs", "adam", "dis", "relu1_1", "max"]))
TOML_VALUE = st.recursive(TOML_SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                               st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                          max_leaves=6)


def _option_names() -> list[str]:
    from neuralpaint.sweep.config import FIELDS
    return sorted(FIELDS)


@settings(max_examples=150, **FUZZ)
@given(data=st.data())
def test_sweep_validation_raises_only_input_error(sweep_dir, data):
    from neuralpaint.sweep.config import TOP_LEVEL, parse
    names = st.one_of(st.sampled_from(_option_names()), st.text(max_size=8))
    table = st.dictionaries(names, TOML_VALUE, max_size=3)
    doc = data.draw(st.fixed_dictionaries(
        {"inputs": st.one_of(st.just(["c.png"]), st.just(["clip.gif"]), st.just(["c.png", "clip.gif"]), TOML_VALUE)},
        optional={"options": table,
                  "grid": st.dictionaries(names, st.lists(TOML_VALUE, max_size=3) | TOML_VALUE, max_size=2),
                  "runs": st.lists(table, max_size=2) | TOML_VALUE, "styles": st.just(["c.png"]) | TOML_VALUE,
                  "offsets": TOML_VALUE, "title": TOML_VALUE, "output": TOML_VALUE,
                  "extra": TOML_VALUE}))
    assert set(doc) - {"extra"} <= set(TOP_LEVEL)
    try:
        sweep = parse(doc, sweep_dir / "sweep.toml")
    except InputError as exc:
        assert "\n" not in str(exc) and "sweep.toml" in str(exc)
        return
    assert sweep.runs


VALID_TOML = b'''title = "t"
inputs = ["c.png", "clip.gif"]
styles = ["c.png"]
offsets = [1, 2]
[options]
size = 16
iters = 2
[grid]
style_weight = [1e5, 1e6]
optimizer = ["lbfgs", "adam"]
[[runs]]
tv_weight = 1.0
'''


@settings(max_examples=150, **FUZZ)
@given(edits=EDITS, cut=CUT, tail=TAIL)
def test_sweep_file_reader_raises_only_input_error(sweep_dir, edits, cut, tail):
    from neuralpaint.sweep.config import load
    path = sweep_dir / "fuzz.toml"
    path.write_bytes(mutate(VALID_TOML, edits, cut, tail))
    try:
        load(path)
    except InputError as exc:
        assert "\n" not in str(exc)


@pytest.mark.parametrize("option", ["style_weight", "size"])
def test_sweep_huge_integer_is_an_input_error(sweep_dir, option):
    from neuralpaint.sweep.config import load
    path = sweep_dir / f"huge_{option}.toml"
    path.write_text(f'inputs = ["c.png"]\n[options]\n{option} = 1{"0" * 400}\n')
    with pytest.raises(InputError, match=option):
        load(path)
