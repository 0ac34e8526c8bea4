"""Device selection and numeric precision (TF32 / bf16 autocast)."""

from __future__ import annotations

import contextlib
from typing import ContextManager

import torch

from .errors import InputError


def resolve_device(name: str) -> torch.device:
    """``auto`` → CUDA if available else CPU; ``cuda``/``cuda:N`` checked to exist."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "mps":
        if not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
            raise InputError("--device mps requested but no Apple GPU is available; use --device cpu")
        return torch.device("mps")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise InputError(
                f"--device {name} requested but no CUDA GPU is available to this torch "
                f"({torch.__version__}); use --device cpu or --device auto")
        dev = torch.device(name)
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise InputError(
                f"--device {name} requested but only {torch.cuda.device_count()} CUDA device(s) exist")
        return dev
    raise InputError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N")


def effective_precision(precision: str, device: torch.device) -> str:
    """``auto`` becomes tf32 on CUDA and fp32 elsewhere (TF32 is a CUDA feature)."""
    if precision == "auto":
        return "tf32" if device.type == "cuda" else "fp32"
    return precision


def configure_precision(precision: str, device: torch.device) -> None:
    """Set the process-wide TF32 switches for ``precision`` (fp32 turns them off)."""
    if device.type == "cuda":
        allow = precision in ("tf32", "bf16")
        torch.backends.cuda.matmul.allow_tf32 = allow
        torch.backends.cudnn.allow_tf32 = allow


def autocast(precision: str, device: torch.device) -> ContextManager:
    """bf16 autocast for the VGG pass when asked; a no-op context otherwise."""
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def is_oom(exc: BaseException) -> bool:
    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()
