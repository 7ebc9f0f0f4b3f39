"""``dciodvfy`` (Debian's dicom3tools) on a file, and the baseline a copy
is held to: the source's own error lines. Where dciodvfy cannot check a
source (it aborts on uncompressed Bits Allocated 32), the baseline is the
source with its Pixel Data removed, in its own transfer syntax, less the
error lines that removal causes (those naming <PixelData> or "condition
unsatisfied")."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pydicom

from .decoders import require_tool


def dciodvfy(path: Path) -> tuple[int, str, list[str]]:
    """(exit code, IOD name, error lines) of ``dciodvfy path``."""
    result = subprocess.run(
        [require_tool("dciodvfy"), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = (result.stdout + result.stderr).splitlines()
    # The IOD it checked against is named on a line of its own ("CTImage").
    iod = next((line for line in lines if re.fullmatch(r"[A-Za-z0-9]+", line)), "")
    return result.returncode, iod, [line for line in lines if line.startswith("Error")]


def baseline(src: Path, folder: Path) -> tuple[str, set[str], str]:
    """(IOD name, error lines, how) of the source, as explained above."""
    code, iod, errors = dciodvfy(src)
    if code >= 0:
        return iod, set(errors), "source"
    ds = pydicom.dcmread(src)
    del ds.PixelData
    stripped = folder / f"no-pixel-data-{src.name}"
    ds.save_as(str(stripped))  # as read: the source's own transfer syntax
    code, iod, errors = dciodvfy(stripped)
    assert code >= 0, f"dciodvfy aborts on {src.name} without Pixel Data too"
    caused = [e for e in errors if "<PixelData>" in e or "condition unsatisfied" in e]
    assert caused, "removing Pixel Data should show"
    return iod, set(errors) - set(caused), "source without Pixel Data"
