"""The ``dicomrle`` command as a user runs it, and what its output says."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.uid import ExplicitVRLittleEndian, RLELossless

import dicomrle
from dicomrle.dicom.compress import write_dataset

from .corpus import find
from .decoders import console_script


def run(
    command: str, *args: object, timeout: float = 300, **kwargs
) -> subprocess.CompletedProcess:
    """``dicomrle COMMAND ARGS...`` through the installed console script."""
    return subprocess.run(
        [console_script(), command, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        **kwargs,
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files_under(folder: Path) -> set[str]:
    """Every file under `folder`, hidden ones too, as relative POSIX paths;
    none if there is no `folder`."""
    return {
        (Path(root) / name).relative_to(folder).as_posix()
        for root, _, names in os.walk(folder)
        for name in names
    }


def part_files(folder: Path) -> list[str]:
    return [name for name in files_under(folder) if name.endswith(".part")]


SUMMARY = re.compile(
    r"^files: (?P<files>\d+), written: (?P<written>\d+), "
    r"skipped: (?P<skipped>\d+), failed: (?P<failed>\d+)$",
    re.MULTILINE,
)


def summary(stdout: str) -> dict[str, int]:
    (match,) = SUMMARY.finditer(stdout)
    return {k: int(v) for k, v in match.groupdict().items()}


def reasons(stdout: str) -> dict[str, tuple[str, str]]:
    """{file name: (status, reason)} from the problem lines after the summary."""
    tail = stdout[SUMMARY.search(stdout).end() :]
    out = {}
    for line in tail.splitlines():
        match = re.match(r"^  (skipped|failed): (.+?): (.+)$", line)
        if match:
            out[Path(match[2]).name] = (match[1], match[3])
    return out


def assert_copy(src: Path, dst: Path) -> None:
    """`dst` is a complete RLE Lossless copy of `src` with the same pixels."""
    out = pydicom.dcmread(dst)
    assert out.file_meta.TransferSyntaxUID == RLELossless, dst
    np.testing.assert_array_equal(out.pixel_array, pydicom.dcmread(src).pixel_array)


def made_rle(path: Path) -> Path:
    """An RLE Lossless file of our own making."""
    ds = dicomrle.compress(pydicom.dcmread(find("MR_small.dcm")))
    write_dataset(path, ds)
    return path


def assert_uncompressed_copy(src: Path, dst: Path) -> None:
    """`dst` is an Explicit VR Little Endian copy of the RLE file `src` with
    the pixels pydicom decodes from `src`."""
    out = pydicom.dcmread(dst)
    assert out.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian, dst
    ds = pydicom.dcmread(src)
    assert out.SOPInstanceUID == ds.SOPInstanceUID
    np.testing.assert_array_equal(out.pixel_array, ds.pixel_array)


def truncated(src: Path, dst: Path, keep: float) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * keep)])
    return dst


def corrupt_rle(path: Path) -> Path:
    """An RLE file of ours whose first segment lost its tail: the frame
    lengths and items are right, the segment is short."""
    made = made_rle(path)
    data = bytearray(made.read_bytes())
    value = pydicom.dcmread(made).PixelData
    # Past the Basic Offset Table item and the frame's item header.
    at = data.index(value) + 8 + int.from_bytes(value[4:8], "little") + 8
    second = int.from_bytes(data[at + 8 : at + 12], "little")  # segment 2
    # Replace the end of segment 1 with no-op bytes (0x80): it decodes short.
    data[at + second - 40 : at + second] = b"\x80" * 40
    path.write_bytes(bytes(data))
    return path


@dataclass(frozen=True)
class Tree:
    """A folder tree for one command: the corpus files it must write (relative
    path: corpus name), the files it must skip and fail (relative path:
    reason), how to make those, and what a right output is."""

    written: dict[str, str]
    skipped: dict[str, str]
    failed: dict[str, str]
    others: Callable[[Path], None]
    assert_copy: Callable[[Path, Path], None]
    # The failed file's line on stderr.
    failure: str

    def make(self, root: Path) -> Path:
        for rel, name in self.written.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(find(name), root / rel)
        (root / "notes.txt").write_text("not DICOM\n")
        self.others(root)
        return root


def _compress_others(root: Path) -> None:
    shutil.copy(find("JPEG2000.dcm"), root / "colour/JPEG2000.dcm")
    made_rle(root / "mr/ours-rle.dcm")
    # A real file cut to half its size: its Pixel Data is short.
    truncated(find("emri_small.dcm"), root / "mr/big/corrupt.dcm", 0.5)


def _decompress_others(root: Path) -> None:
    shutil.copy(find("MR_small.dcm"), root / "mr/MR_small.dcm")
    shutil.copy(find("JPEG2000.dcm"), root / "colour/JPEG2000.dcm")
    corrupt_rle(root / "mr/corrupt.dcm")


TREES = {
    "compress": Tree(
        written={
            "CT_small.dcm": "CT_small.dcm",
            "mr/MR_small.dcm": "MR_small.dcm",
            "mr/big/MR_small_bigendian.dcm": "MR_small_bigendian.dcm",
            "mr/big/emri_small.dcm": "emri_small.dcm",  # 10 frames
            "colour/color-pl.dcm": "color-pl.dcm",  # Planar Configuration 1
            "colour/deep/er/SC_rgb_32bit_2frame.dcm": "SC_rgb_32bit_2frame.dcm",
        },
        skipped={
            "notes.txt": "not a DICOM file",
            "colour/JPEG2000.dcm": "already compressed",
            "mr/ours-rle.dcm": "already compressed",
        },
        failed={"mr/big/corrupt.dcm": "Pixel Data holds"},
        others=_compress_others,
        assert_copy=assert_copy,
        failure=r"corrupt\.dcm: failed:",
    ),
    "decompress": Tree(
        written={
            "MR_small_RLE.dcm": "MR_small_RLE.dcm",
            "colour/SC_rgb_rle.dcm": "SC_rgb_rle.dcm",
            "colour/deep/SC_rgb_rle_16bit_2frame.dcm": "SC_rgb_rle_16bit_2frame.dcm",
            "mr/emri_small_RLE.dcm": "emri_small_RLE.dcm",  # 10 frames
        },
        skipped={
            "notes.txt": "not a DICOM file",
            "mr/MR_small.dcm": "is Explicit VR Little Endian, not RLE Lossless",
            "colour/JPEG2000.dcm": "is JPEG 2000 Image Compression, not RLE Lossless",
        },
        failed={"mr/corrupt.dcm": "RLE segment 1 of 2 decodes to"},
        others=_decompress_others,
        assert_copy=assert_uncompressed_copy,
        failure=(
            r"corrupt\.dcm: failed: .*RLE segment 1 of 2 decodes to \d+ bytes, but "
            r"its plane needs 4096"
        ),
    ),
}
