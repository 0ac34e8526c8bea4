"""``neuralpaint weights``: where the ImageNet VGG-19 file is cached; download and verify it."""

from __future__ import annotations

import re
from typing import Optional

import typer
from typing_extensions import Annotated

from ..errors import WeightsError
from ..settings import VGG19_URL
from . import app
from .common import echo


#: Advice to run this very command, which `weights --download` must not give.
_SELF_ADVICE = re.compile(r";? ?(or )?run `neuralpaint weights --download`")


@app.command("weights")
def weights(
    download: Annotated[bool, typer.Option("--download", help="Download the file if it is not cached.")] = False,
    verify: Annotated[bool, typer.Option("--verify", help="Check the cached file's SHA-256 prefix.")] = False,
    url: Annotated[Optional[str], typer.Option("--url", help="Another location of the same file (a mirror).")] = None,
) -> None:
    """Show, download or verify the ImageNet VGG-19 weights (torchvision's file)."""
    from .. import vgg  # here: `neuralpaint --help` must not import torch
    src = url or VGG19_URL
    path = vgg.cached_path(src)
    echo(f"url:    {src}")
    echo(f"cache:  {path}")
    if download and not path.exists():
        try:
            vgg.download_imagenet(src, progress=True)
        except WeightsError as exc:  # its advice may end with "run `neuralpaint weights --download`"
            raise WeightsError(_SELF_ADVICE.sub("", str(exc))) from None
    if not path.exists():
        echo("status: not downloaded (run `neuralpaint weights --download`, or pass --weights PATH)")
        if verify:
            raise WeightsError(f"nothing to verify: {str(path)!r} does not exist")
        return
    echo(f"status: cached, {path.stat().st_size / 1e6:.1f} MB")
    if verify or download:
        if not vgg.verify_file(path, src):
            raise WeightsError(f"cached weights {str(path)!r} fail the SHA-256 check against "
                               f"{vgg.expected_hash_prefix(src)!r}; delete the file and download again")
        echo(f"verify: ok (sha256 starts with {vgg.expected_hash_prefix(src)})")
