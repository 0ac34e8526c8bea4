"""The `neuralpaint` entry point: --version, -h, usage lines, start-up cost, the weights command."""

from __future__ import annotations

import subprocess
import sys

import pytest

from neuralpaint import __version__


def test_version_and_short_help(cli):
    r = cli("--version")
    assert r.code == 0 and r.out.strip() == f"neuralpaint {__version__}"
    r = cli("-h")
    assert r.code == 0 and "Usage: neuralpaint" in r.out
    r = cli("image", "-h")
    assert r.code == 0 and "Usage: neuralpaint image" in r.out


@pytest.mark.parametrize("command, usage", [
    ("image", "Usage: neuralpaint image [OPTIONS] CONTENT [STYLES]..."),
    ("video", "Usage: neuralpaint video [OPTIONS] INPUT [STYLES]..."),
    ("evaluate", "Usage: neuralpaint evaluate [OPTIONS] STYLIZED SOURCE"),
])
def test_usage_line_is_conventional_and_flags_show_no_type(cli, command, usage):
    r = cli(command, "--help")
    assert r.code == 0
    assert usage in r.out, r.out
    assert "{" not in r.out.split("\n", 3)[1]
    assert "<bool>" not in r.out


def test_help_does_not_import_torch_or_opencv():
    code = ("import sys; from neuralpaint.cli import main; rc = main(['image', '--help']); "
            "print('heavy:', sorted(m for m in ('torch', 'cv2', 'av', 'matplotlib') if m in sys.modules), rc)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout
    assert out.strip().splitlines()[-1] == "heavy: [] 0", out


def test_weights_verify_without_a_file_fails(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    r = cli("weights", "--verify")
    assert r.code == 2, r
    assert r.err.startswith("error: nothing to verify: ") and "vgg19-dcbb9e9d.pth" in r.err


def test_weights_download_failure_does_not_say_to_run_itself(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    # a closed local port: fails at once, no network involved
    r = cli("weights", "--download", "--url", "http://127.0.0.1:9/vgg19-dcbb9e9d.pth")
    assert r.code == 2, r
    assert "could not be downloaded" in r.err and "weights --download" not in r.err, r.err
