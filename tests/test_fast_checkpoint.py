"""The fast model file: round trip, and refusal of anything that is not exactly our format."""

import os
import pickle

import pytest
import torch

from neuralpaint.errors import WeightsError
from neuralpaint.fast.checkpoint import FORMAT, VERSION, load_checkpoint, save_checkpoint
from neuralpaint.fast.infer import load_model
from neuralpaint.fast.network import TransformNet


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    torch.manual_seed(3)
    net = TransformNet().eval()
    path = tmp_path_factory.mktemp("ckpt") / "model.pt"
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for p in net.parameters():
        p.grad = torch.full_like(p, 1e-3)
    opt.step()  # gives Adam a state to save
    save_checkpoint(path, net, {"train": {"size": 16}, "model": {"weights": "random"}}, 7, opt,
                    {"name": "s.png", "sha256": "0" * 64})
    return net, path


def test_round_trip_gives_identical_outputs(saved):
    net, path = saved
    x = torch.rand(2, 3, 33, 47)
    loaded = load_model(path, "cpu")
    with torch.no_grad():
        assert torch.equal(net(x), loaded(x))
    ckpt = load_checkpoint(path)
    assert ckpt["format"] == FORMAT and ckpt["version"] == VERSION and ckpt["step"] == 7
    assert ckpt["settings"]["train"]["size"] == 16 and ckpt["optimizer"]["state"]


def test_no_temp_files_are_left(saved):
    _, path = saved
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.pt"]


def _blob(path):
    return torch.load(path, weights_only=True)


class Evil:
    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    evil = Evil()
    evil.marker = marker
    bad = tmp_path / "evil.pt"
    torch.save({"format": FORMAT, "payload": evil}, bad)
    with pytest.raises(WeightsError, match=r"refused to load fast model .*evil\.pt.*holds the Python object"):
        load_model(bad)
    assert not marker.exists()
    raw = tmp_path / "raw.pt"
    raw.write_bytes(pickle.dumps(evil, protocol=2))
    with pytest.raises(WeightsError, match="refused to load"):
        load_model(raw)
    assert not marker.exists()


@pytest.mark.parametrize("change, message", [
    (lambda b: b.update(format="other-tool"), r"is not a neuralpaint-fast checkpoint \(format 'other-tool'\)"),
    (lambda b: b.pop("format"), r"no 'format' key"),
    (lambda b: b.update(version=2), r"has checkpoint version 2; this neuralpaint reads version 1"),
    (lambda b: b.pop("state_dict"), r"lacks key\(s\) 'state_dict'"),
    (lambda b: b.pop("step"), r"lacks key\(s\) 'step'"),
    (lambda b: b["state_dict"].update({"decoder.2.conv.weight": torch.zeros(3, 32, 3, 3)}),
     r"decoder\.2\.conv\.weight has shape \(3, 32, 3, 3\), the network needs \(3, 32, 9, 9\)"),
    (lambda b: b["state_dict"].pop("encoder.0.conv.bias"), r"state_dict lacks 'encoder\.0\.conv\.bias'"),
    (lambda b: b["state_dict"].update(extra=torch.zeros(1)), r"unexpected key 'extra'"),
    (lambda b: b.update(step="ten"), r"'step' must be a non-negative integer"),
])
def test_bad_checkpoints_are_refused_by_name(saved, tmp_path, change, message):
    blob = _blob(saved[1])
    change(blob)
    bad = tmp_path / "bad.pt"
    torch.save(blob, bad)
    with pytest.raises(WeightsError, match=r"bad\.pt") as info:
        load_model(bad)
    assert "\n" not in str(info.value)
    with pytest.raises(WeightsError, match=message):
        load_checkpoint(bad)


def test_non_dicts_and_garbage_are_refused(tmp_path):
    lst = tmp_path / "list.pt"
    torch.save([1, 2, 3], lst)
    with pytest.raises(WeightsError, match="holds a list, not a dict"):
        load_model(lst)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a torch file at all")
    with pytest.raises(WeightsError, match="refused to load fast model"):
        load_model(junk)
    plain = tmp_path / "plain.pt"
    torch.save(TransformNet().state_dict(), plain)  # a bare state dict: no format header
    with pytest.raises(WeightsError, match="no 'format' key"):
        load_model(plain)
    with pytest.raises(WeightsError, match="does not exist"):
        load_model(tmp_path / "missing.pt")
    with pytest.raises(WeightsError, match="is a directory"):
        load_model(tmp_path)
