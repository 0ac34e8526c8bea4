"""The fast network's file format: one ``torch.save`` dict, loaded with ``weights_only=True``.

    {
      "format": "neuralpaint-fast",     # FORMAT
      "version": 1,                      # VERSION
      "settings": {...},                 # training settings, plain JSON-able (lists, numbers, str)
      "state_dict": {name: tensor},      # TransformNet's parameters and buffers
      "step": int,                       # optimiser steps done
      "optimizer": {...} | None,         # Adam's state, for resuming (None in exported models)
      "residual_blocks": 5,
      "style": {"name": str, "sha256": str} | None,
      "mask_state_dict": {name: tensor},  # only in a coherent model (neuralpaint train --coherent):
                                         # the mask network of .coherent.MaskNet
    }

The same file is the training checkpoint and the finished model. Writes are atomic (temp file
+ ``os.replace``), so an interrupted training run leaves the previous checkpoint intact.
Anything that is not exactly this — a pickle that would run code, another format or version,
missing keys, tensors of the wrong shape — raises :class:`~neuralpaint.errors.WeightsError` with
one line naming the file and the problem.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Optional

import torch

from ..atomic import atomic_path
from ..vgg import safe_load
from ..errors import WeightsError
from .coherent import CoherentNet, MaskNet
from .network import TransformNet

FORMAT = "neuralpaint-fast"
VERSION = 1
REQUIRED_KEYS = ("format", "version", "settings", "state_dict", "step")


def save_checkpoint(path: str | os.PathLike, net: TransformNet, settings: Mapping[str, Any], step: int,
                    optimizer: Optional[torch.optim.Optimizer] = None,
                    style: Optional[Mapping[str, str]] = None, mask: Optional[MaskNet] = None) -> Path:
    """Write ``net`` (+ Adam state when given, + the mask network of a coherent model) to
    ``path`` atomically; returns the path."""
    state = _cpu_state(net)
    blob = {
        "format": FORMAT,
        "version": VERSION,
        "settings": dict(settings),
        "state_dict": state,
        "step": int(step),
        "optimizer": _to_cpu(optimizer.state_dict()) if optimizer is not None else None,
        "residual_blocks": _residual_blocks(net),
        "style": dict(style) if style is not None else None,
    }
    if mask is not None:
        blob["mask_state_dict"] = _cpu_state(mask)
    dest = Path(path)
    with atomic_path(dest) as tmp:
        torch.save(blob, tmp)
    return dest


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read and validate a checkpoint (CPU tensors). Raises WeightsError naming the file."""
    p = Path(path)
    name = repr(str(p))
    obj = safe_load(p, "fast model")
    if not isinstance(obj, Mapping):
        raise WeightsError(f"fast model {name} is not a {FORMAT} checkpoint: it holds a "
                           f"{type(obj).__name__}, not a dict")
    if obj.get("format") != FORMAT:
        what = f"format {obj.get('format')!r}" if "format" in obj else "no 'format' key"
        raise WeightsError(f"fast model {name} is not a {FORMAT} checkpoint ({what})")
    if obj.get("version") != VERSION:
        raise WeightsError(f"fast model {name} has checkpoint version {obj.get('version')!r}; "
                           f"this neuralpaint reads version {VERSION}")
    missing = [k for k in REQUIRED_KEYS if k not in obj]
    if missing:
        raise WeightsError(f"fast model {name} lacks key(s) {', '.join(map(repr, missing))}")
    if not isinstance(obj["settings"], Mapping):
        raise WeightsError(f"fast model {name}: 'settings' is a {type(obj['settings']).__name__}, not a dict")
    step = obj["step"]
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise WeightsError(f"fast model {name}: 'step' must be a non-negative integer, got {step!r}")
    state = obj["state_dict"]
    if not isinstance(state, Mapping) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"fast model {name}: 'state_dict' is not a dict of tensors")
    blocks = obj.get("residual_blocks", 5)
    if isinstance(blocks, bool) or not isinstance(blocks, int) or not 0 <= blocks <= 64:
        raise WeightsError(f"fast model {name}: bad 'residual_blocks' {blocks!r}")
    check_state_dict(TransformNet(blocks).state_dict(), state, name)
    if "mask_state_dict" in obj:
        mask = obj["mask_state_dict"]
        if not isinstance(mask, Mapping) or not all(isinstance(v, torch.Tensor) for v in mask.values()):
            raise WeightsError(f"fast model {name}: 'mask_state_dict' is not a dict of tensors")
        check_state_dict(MaskNet().state_dict(), mask, name)
    return dict(obj)


def is_coherent(ckpt: Mapping[str, Any]) -> bool:
    """A coherent online model (it carries a mask network)."""
    return "mask_state_dict" in ckpt


def coherent_from_checkpoint(ckpt: Mapping[str, Any], device: torch.device | str = "cpu") -> CoherentNet:
    """The CoherentNet of a coherent checkpoint, in eval mode, on ``device``."""
    model = CoherentNet(net=network_from_checkpoint(ckpt, "cpu"))
    model.mask.load_state_dict(dict(ckpt["mask_state_dict"]))
    return model.eval().to(device)


def check_state_dict(expected: Mapping[str, torch.Tensor], state: Mapping[str, Any], name: str) -> None:
    """Same keys and shapes as ``expected``, else WeightsError naming the first difference."""
    missing = [k for k in expected if k not in state]
    if missing:
        raise WeightsError(f"fast model {name}: state_dict lacks {missing[0]!r}"
                           + (f" and {len(missing) - 1} more" if len(missing) > 1 else ""))
    unexpected = [k for k in state if k not in expected]
    if unexpected:
        raise WeightsError(f"fast model {name}: unexpected key {unexpected[0]!r} in state_dict")
    for k, ref in expected.items():
        t = state[k]
        if tuple(t.shape) != tuple(ref.shape):
            raise WeightsError(f"fast model {name}: {k} has shape {tuple(t.shape)}, the network "
                               f"needs {tuple(ref.shape)}")
        if t.is_floating_point() != ref.is_floating_point():
            raise WeightsError(f"fast model {name}: {k} has dtype {t.dtype}, expected {ref.dtype}")


def network_from_checkpoint(ckpt: Mapping[str, Any], device: torch.device | str = "cpu") -> TransformNet:
    """A TransformNet with the checkpoint's weights, in eval mode, on ``device``."""
    net = TransformNet(int(ckpt.get("residual_blocks", 5)))
    net.load_state_dict({k: v.to(net.state_dict()[k].dtype) for k, v in ckpt["state_dict"].items()})
    return net.eval().to(device)


def _cpu_state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu").clone() for k, v in module.state_dict().items()}


def _residual_blocks(net: TransformNet) -> int:
    return sum(1 for m in net.encoder if m.__class__.__name__ == "ResidualBlock")


def _to_cpu(obj: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu")
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_to_cpu(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_to_cpu(v) for v in obj)
    return obj
