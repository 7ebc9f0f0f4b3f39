"""The uncompressed images pydicom and pydicom-data ship: the test corpus."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pydicom
from pydicom.uid import UncompressedTransferSyntaxes

SINGLE_BIT = "Bits Allocated 1: only pylibjpeg-rle decodes it (tests/test_single_bit.py)"

# Files the corpus leaves out, each for a reason of its own; the error
# tests use some of them.
EXCLUDED = {
    "MR_truncated.dcm": "Pixel Data shorter than the image (truncated)",
    "badVR.dcm": "Number of Frames is '1A'",
    "SC_ybr_full_422_uncompressed.dcm": "YBR_FULL_422 is subsampled",
    "liver_1frame.dcm": SINGLE_BIT,
    "liver_expb_1frame.dcm": SINGLE_BIT,
    "liver.dcm": SINGLE_BIT,
    "liver_expb.dcm": SINGLE_BIT,
}


@dataclass(frozen=True)
class Image:
    path: Path
    big_endian: bool
    bits_allocated: int
    samples: int
    planar: int
    frames: int

    @property
    def id(self) -> str:
        return self.path.name


def _folders() -> list[Path]:
    folders = [Path(pydicom.__file__).parent / "data" / "test_files"]
    try:
        import data_store  # pydicom-data
    except ImportError:
        pass
    else:
        folders.append(Path(data_store.__file__).parent / "data")
    return folders


def find(name: str) -> Path:
    """The path of a file of pydicom's test files or of pydicom-data.

    Not ``get_testdata_file``: without pydicom-data it goes to the network.
    Skips without pydicom-data, and fails in CI, which installs it.
    """
    from .decoders import require

    for folder in _folders():
        path = folder / name
        if path.exists():
            return path
    require(False, f"pydicom-data ({name})")
    raise AssertionError("unreachable")


@cache
def images() -> tuple[Image, ...]:
    """Return every uncompressed image of the corpus, sorted by name."""
    found = []
    for folder in _folders():
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or path.name in EXCLUDED:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    ds = pydicom.dcmread(path, stop_before_pixels=False)
                except Exception:
                    continue
            meta = getattr(ds, "file_meta", None)
            syntax = meta.get("TransferSyntaxUID") if meta is not None else None
            if syntax not in UncompressedTransferSyntaxes or "PixelData" not in ds:
                continue
            if ds.get("Rows") is None:
                continue
            found.append(
                Image(
                    path=path,
                    big_endian=not syntax.is_little_endian,
                    bits_allocated=ds.BitsAllocated,
                    samples=ds.get("SamplesPerPixel", 1),
                    planar=ds.get("PlanarConfiguration", 0) or 0,
                    frames=int(ds.get("NumberOfFrames") or 1),
                )
            )
    # Names are not unique across folders (dicomdirtests): key on the path.
    return tuple(sorted(found, key=lambda i: str(i.path)))


def excluded_paths() -> dict[str, Path]:
    return {
        name: path
        for folder in _folders()
        for name in EXCLUDED
        if (path := folder / name).exists()
    }


def image_id(image: Image) -> str:
    base = Path(pydicom.__file__).parent / "data" / "test_files"
    try:
        return str(image.path.relative_to(base))
    except ValueError:
        return image.path.name


if os.environ.get("DICOMRLE_PRINT_CORPUS"):  # pragma: no cover
    for i in images():
        print(i)
