"""The benchmark corpus: uncompressed little-endian 8/16-bit images of
pydicom's test files and pydicom-data, plus synthetic worst cases."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

LITTLE_ENDIAN = {
    "1.2.840.10008.1.2",  # Implicit VR Little Endian
    "1.2.840.10008.1.2.1",  # Explicit VR Little Endian
}


def corpus_dirs() -> list[Path]:
    """pydicom's test_files and pydicom-data's data_store/data."""
    import pydicom

    dirs = [Path(pydicom.__file__).parent / "data" / "test_files"]
    try:
        import data_store  # pydicom-data

        dirs.append(Path(data_store.__file__).parent / "data")
    except ImportError:
        pass
    return [d for d in dirs if d.is_dir()]


def corpus_paths() -> list[Path]:
    """Every corpus file: readable, with Pixel Data, an uncompressed
    little-endian transfer syntax and Bits Allocated 8 or 16."""
    import pydicom

    out = []
    for folder in corpus_dirs():
        for path in sorted(folder.rglob("*")):
            if not path.is_file():
                continue
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    ds = pydicom.dcmread(path, stop_before_pixels=False)
                    syntax = ds.file_meta.get("TransferSyntaxUID")
                    if (
                        "PixelData" not in ds
                        or syntax not in LITTLE_ENDIAN
                        or ds.get("BitsAllocated") not in (8, 16)
                    ):
                        continue
            except Exception:
                continue
            out.append(path)
    return out


@dataclass
class Image:
    """One corpus image, with everything the kernel needs."""

    name: str
    path: Path | None
    rows: int
    columns: int
    samples: int
    bits_allocated: int
    bits_stored: int
    frames: int
    planar: int
    signed: int
    data: bytes  # all frames, little-endian, Bits Allocated per sample

    @property
    def frame_bytes(self) -> int:
        return self.rows * self.columns * self.samples * self.bits_allocated // 8

    def frame(self, index: int) -> memoryview:
        n = self.frame_bytes
        return memoryview(self.data)[index * n : (index + 1) * n]


def _image(path: Path) -> Image | None:
    import pydicom

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(path)
        bits = int(ds.BitsAllocated)
        rows, columns = int(ds.Rows), int(ds.Columns)
        samples = int(ds.get("SamplesPerPixel") or 1)
        frames = int(ds.get("NumberOfFrames") or 1)
        data = bytes(ds.PixelData)
    need = rows * columns * samples * bits // 8 * frames
    if len(data) < need or need == 0:
        return None
    return Image(
        name=f"{path.parent.name}/{path.name}",
        path=path,
        rows=rows,
        columns=columns,
        samples=samples,
        bits_allocated=bits,
        bits_stored=int(ds.get("BitsStored") or bits),
        frames=frames,
        planar=int(ds.get("PlanarConfiguration") or 0) if samples > 1 else 0,
        signed=int(ds.get("PixelRepresentation") or 0),
        data=data[:need],
    )


def corpus_images() -> Iterator[Image]:
    for path in corpus_paths():
        image = _image(path)
        if image is not None:
            yield image


def synthetic_images(scale: int = 1) -> list[Image]:
    """Worst and best cases: noise, constant, alternating bytes, gradients."""
    rng = np.random.default_rng(20240607)
    rows, columns = 512 * scale, 512
    out = []

    def add(name: str, arr: np.ndarray, bits: int) -> None:
        out.append(
            Image(name, None, rows, columns, 1, bits, bits, 1, 0, 0,
                  arr.astype(f"<u{bits // 8}").tobytes())
        )

    add("synthetic/noise-8", rng.integers(0, 256, (rows, columns)), 8)
    add("synthetic/noise-16", rng.integers(0, 65536, (rows, columns)), 16)
    add("synthetic/constant-16", np.full((rows, columns), 1000), 16)
    alt = np.tile(np.array([0, 255]), rows * columns // 2).reshape(rows, columns)
    add("synthetic/alternating-8", alt, 8)
    pairs = np.tile(np.array([7, 7, 9, 9]), rows * columns // 4).reshape(rows, columns)
    add("synthetic/pairs-8", pairs, 8)
    grad = (np.arange(columns)[None, :] * 97 + np.arange(rows)[:, None] * 13) % 65536
    add("synthetic/gradient-16", grad, 16)
    return out


if __name__ == "__main__":
    total = 0
    for image in corpus_images():
        total += len(image.data)
        print(f"{image.name:60} {image.rows}x{image.columns}x{image.samples} "
              f"{image.bits_allocated}/{image.bits_stored} f={image.frames} "
              f"pl={image.planar} s={image.signed} {len(image.data)}")
    print(total, os.linesep)
