import hashlib
import http.server
import pickle
import threading
from pathlib import Path

import pytest
import torch
from torch import nn

from neuralpaint import vgg
from neuralpaint.errors import WeightsError
from neuralpaint.settings import VGG19_LAYERS, ModelSettings

TORCHVISION_CONVS = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34]


def test_layer_names_map_to_torchvision_indices():
    feats = vgg.build_features()
    assert len(feats) == 37
    assert [i for i, m in enumerate(feats) if isinstance(m, nn.Conv2d)] == TORCHVISION_CONVS
    expected = {"relu1_1": (1, 64), "relu2_1": (6, 128), "relu3_1": (11, 256), "relu4_1": (20, 512),
                "relu4_2": (22, 512), "relu5_1": (29, 512)}
    for name, (idx, ch) in expected.items():
        assert VGG19_LAYERS[name] == idx
        assert isinstance(feats[idx], nn.ReLU) and not feats[idx].inplace
        assert feats[idx - 1].out_channels == ch
    assert all(isinstance(feats[i], nn.MaxPool2d) for i in (4, 9, 18, 27, 36))


def test_truncated_after_deepest_layer_and_frozen():
    net = vgg.load_vgg(ModelSettings(weights="random"), ["relu1_1", "relu4_2"])
    assert net.depth == 23
    assert all(not p.requires_grad for p in net.parameters())
    out = net(torch.rand(1, 3, 32, 40))
    assert set(out) == {"relu1_1", "relu4_2"}
    assert out["relu1_1"].shape == (1, 64, 32, 40)
    assert out["relu4_2"].shape == (1, 512, 4, 5)


def test_avg_pooling_variant():
    net = vgg.load_vgg(ModelSettings(weights="random", pooling="avg"), ["relu2_1"])
    assert isinstance(net.features[4], nn.AvgPool2d)


def test_random_weights_are_seeded():
    a = vgg.random_features("max", 3)[0].weight
    b = vgg.random_features("max", 3)[0].weight
    c = vgg.random_features("max", 4)[0].weight
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_channels_last_matches_contiguous():
    x = torch.rand(1, 3, 24, 36)
    a = vgg.load_vgg(ModelSettings(weights="random"), ["relu3_1"], channels_last=True)(x)["relu3_1"]
    b = vgg.load_vgg(ModelSettings(weights="random"), ["relu3_1"], channels_last=False)(x)["relu3_1"]
    assert torch.allclose(a, b, atol=1e-5, rtol=1e-4)


def _features_state(prefix: str = "features.", upto: int = 37, dtype=torch.float32) -> dict:
    feats = vgg.random_features("max", 7)
    return {f"{prefix}{k}": v.to(dtype) for k, v in feats.state_dict().items() if int(k.split(".")[0]) < upto}


def test_weights_file_loads_with_torchvision_keys(tmp_path):
    path = tmp_path / "vgg.pth"
    state = _features_state()
    state["classifier.0.weight"] = torch.zeros(2, 2)  # extra keys of the full model are ignored
    torch.save(state, path)
    net = vgg.load_vgg(ModelSettings(weights=str(path)), ["relu1_1"])
    assert torch.equal(net.features[0].weight, state["features.0.weight"])


def test_weights_file_with_wrong_keys_is_rejected(tmp_path):
    path = tmp_path / "bad.pth"
    torch.save({"conv.weight": torch.zeros(3)}, path)
    with pytest.raises(WeightsError, match=r"lack key 'features.0.weight'|lack key '0.weight'"):
        vgg.load_vgg(ModelSettings(weights=str(path)), ["relu1_1"])


def test_weights_file_with_wrong_shapes_is_rejected(tmp_path):
    path = tmp_path / "shape.pth"
    state = _features_state()
    state["features.0.weight"] = torch.zeros(64, 3, 5, 5)
    torch.save(state, path)
    with pytest.raises(WeightsError, match=r"features.0.weight has shape \(64, 3, 5, 5\)"):
        vgg.load_vgg(ModelSettings(weights=str(path)), ["relu1_1"])


class _Exploit:
    def __reduce__(self):
        return (Path.touch, (Path("/tmp/neuralpaint_pwned"),))


def test_pickle_that_would_run_code_is_refused(tmp_path):
    marker = Path("/tmp/neuralpaint_pwned")
    marker.unlink(missing_ok=True)
    path = tmp_path / "evil.pth"
    torch.save({"features.0.weight": _Exploit()}, path, pickle_module=pickle)
    with pytest.raises(WeightsError, match="refused to load weights file"):
        vgg.load_vgg(ModelSettings(weights=str(path)), ["relu1_1"])
    assert not marker.exists()


def test_not_a_state_dict_is_rejected(tmp_path):
    path = tmp_path / "list.pth"
    torch.save([1, 2, 3], path)
    with pytest.raises(WeightsError, match="does not hold a state dict"):
        vgg.load_vgg(ModelSettings(weights=str(path)), ["relu1_1"])
    text = tmp_path / "text.pth"
    text.write_text("hello")
    with pytest.raises(WeightsError, match="refused to load"):
        vgg.load_vgg(ModelSettings(weights=str(text)), ["relu1_1"])


def test_missing_weights_path_names_it(tmp_path):
    with pytest.raises(WeightsError, match="nope.pth"):
        vgg.load_vgg(ModelSettings(weights=str(tmp_path / "nope.pth")), ["relu1_1"])


@pytest.fixture
def served(tmp_path):
    """Serve tmp_path/www over loopback; yields the base URL."""
    www = tmp_path / "www"
    www.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=str(www), **k)

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_imagenet_download_is_hash_checked_cached_and_loads(served, tmp_path, monkeypatch):
    www, base = served
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    blob = tmp_path / "blob.pth"
    state = _features_state(upto=29, dtype=torch.float16)  # through conv5_1, half size
    torch.save(state, blob)
    digest = hashlib.sha256(blob.read_bytes()).hexdigest()
    name = f"vgg19-{digest[:8]}.pth"
    (www / name).write_bytes(blob.read_bytes())
    url = f"{base}/{name}"

    net = vgg.load_vgg(ModelSettings(weights="imagenet"), ["relu5_1"], url=url)
    cached = tmp_path / "torch_home" / "hub" / "checkpoints" / name
    assert cached.exists() and vgg.verify_file(cached, url)
    assert torch.equal(net.features[28].weight, state["features.28.weight"].float())
    (www / name).unlink()  # second load comes from the cache, no network needed
    vgg.load_vgg(ModelSettings(weights="imagenet"), ["relu1_1"], url=url)


def test_download_with_wrong_hash_is_rejected_and_not_kept(served, tmp_path, monkeypatch):
    www, base = served
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    (www / "vgg19-00000000.pth").write_bytes(b"not the right bytes")
    with pytest.raises(WeightsError, match="hash check"):
        vgg.download_imagenet(f"{base}/vgg19-00000000.pth")
    assert not (tmp_path / "th" / "hub" / "checkpoints" / "vgg19-00000000.pth").exists()


def test_unreachable_imagenet_weights_say_how_to_get_them(served, tmp_path, monkeypatch):
    _, base = served
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    with pytest.raises(WeightsError, match=r"could not be downloaded .*--weights PATH"):
        vgg.load_vgg(ModelSettings(weights="imagenet"), ["relu1_1"], url=f"{base}/vgg19-deadbeef.pth")
