"""Shared fixtures: tiny synthetic images, CLI runner, single-threaded torch for stable timing."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pytest
import torch

# One thread: the test images are tiny (<= 96 px), where a second thread only adds
# synchronisation; and flow worker threads run beside torch in the video tests.
torch.set_num_threads(1)


def textured(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth random colour texture, uint8 HxWx3 (deterministic)."""
    rng = np.random.default_rng(seed)
    small = rng.random((max(2, h // 8), max(2, w // 8), 3)).astype(np.float32)
    import cv2
    big = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    fine = rng.random((h, w, 3)).astype(np.float32) * 0.25
    return (np.clip(big * 0.75 + fine, 0, 1) * 255).astype(np.uint8)


@pytest.fixture
def tiny_images(tmp_path: Path) -> tuple[Path, Path]:
    from PIL import Image
    c = tmp_path / "content.png"
    s = tmp_path / "style.png"
    Image.fromarray(textured(48, 64, seed=1)).save(c)
    Image.fromarray(textured(40, 40, seed=2)).save(s)
    return c, s


class CliResult:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err

    def __repr__(self) -> str:
        return f"CliResult(code={self.code}, out={self.out[-500:]!r}, err={self.err[-1500:]!r})"


@pytest.fixture
def cli():
    """Run ``neuralpaint`` in-process: cli(*args) -> CliResult(code, out, err)."""
    from neuralpaint.cli import main

    def run(*args: str) -> CliResult:
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main([str(a) for a in args])
        return CliResult(code, out.getvalue(), err.getvalue())

    return run
