"""Encode the Pixel Data of a whole pydicom Dataset as RLE Lossless."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from dicomrle._frame import as_bytes_view, encode

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

# PS3.5 8.2.2: RLE Lossless keeps every sample of every pixel; subsampled
# YBR data cannot be stored as it stands.
SUBSAMPLED = ("YBR_FULL_422", "YBR_PARTIAL_422", "YBR_PARTIAL_420")
REQUIRED = ("Rows", "Columns", "BitsAllocated", "PixelData")
MAX_BASIC_OFFSET = 2**32 - 1


class NotEncodable(ValueError):
    """The dataset holds nothing that RLE Lossless can encode."""


def _frames(ds: Dataset) -> Iterator[bytes]:
    """Yield each frame of `ds` encoded as RLE Lossless."""
    from pydicom.uid import UncompressedTransferSyntaxes

    file_meta = getattr(ds, "file_meta", None)
    syntax = file_meta.get("TransferSyntaxUID") if file_meta is not None else None
    if syntax is None:
        raise ValueError("the dataset has no (0002,0010) Transfer Syntax UID")
    if syntax not in UncompressedTransferSyntaxes:
        raise NotEncodable(f"the Pixel Data is already compressed ({syntax.name})")
    if "PixelData" not in ds:
        raise NotEncodable("the dataset has no (7FE0,0010) Pixel Data")
    missing = [k for k in REQUIRED if ds.get(k) is None]
    if missing:
        raise ValueError(f"the dataset lacks {', '.join(missing)}")

    rows, columns = int(ds.Rows), int(ds.Columns)
    samples = int(ds.get("SamplesPerPixel") or 1)
    bits = int(ds.BitsAllocated)
    frames = int(ds.get("NumberOfFrames") or 1)
    photometric = str(ds.get("PhotometricInterpretation", ""))
    if photometric in SUBSAMPLED:
        raise ValueError(
            f"Photometric Interpretation {photometric} is subsampled; RLE "
            "Lossless needs every sample (convert it to YBR_FULL first)"
        )
    if bits == 1 or bits % 8:
        raise ValueError(f"'bits_allocated' must be 8, 16, 32 or 64, not {bits}")
    if frames < 1:
        raise ValueError(f"Number of Frames must be at least 1, not {frames}")

    data = as_bytes_view(ds.PixelData)
    big_endian = not syntax.is_little_endian
    if big_endian and bits == 8 and ds["PixelData"].VR == "OW":
        # PS3.5 7.3: 8-bit samples in OW are swapped in 16-bit words.
        import numpy as np

        even = data.nbytes - data.nbytes % 2
        data = memoryview(np.frombuffer(data[:even], "<u2").byteswap()).cast("B")

    frame_length = rows * columns * samples * bits // 8
    if data.nbytes < frame_length * frames:
        raise ValueError(
            f"the Pixel Data holds {data.nbytes} bytes, but {frames} frames of "
            f"{rows} x {columns} x {samples} samples of {bits} bits need "
            f"{frame_length * frames}"
        )
    planar = int(ds.get("PlanarConfiguration") or 0) if samples > 1 else 0
    for index in range(frames):
        start = index * frame_length
        yield encode(
            data[start : start + frame_length],
            rows=rows,
            columns=columns,
            samples_per_pixel=samples,
            bits_allocated=bits,
            byteorder=">" if big_endian else "<",
            planar_configuration=planar,
        )


def write_dataset(fp: object, ds: Dataset) -> None:
    """Write `ds` as a DICOM file (preamble and file meta) with pydicom 2.4 or 3."""
    import pydicom

    if int(pydicom.__version__.split(".")[0]) >= 3:
        pydicom.dcmwrite(fp, ds, enforce_file_format=True)
    else:  # pragma: no cover - pydicom 2.4
        ds.is_little_endian, ds.is_implicit_VR = True, False
        pydicom.dcmwrite(fp, ds, write_like_original=False)


def compress_dataset(ds: Dataset) -> Dataset:
    """Replace the Pixel Data of `ds` in place by its RLE Lossless encoding.

    Handles what pydicom's ``Dataset.compress`` does not: big-endian
    datasets, Planar Configuration 1, and Bits Allocated 32 and 64.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        A dataset with uncompressed Pixel Data and a file meta Transfer
        Syntax UID.

    Returns
    -------
    pydicom.dataset.Dataset
        `ds`, now with encapsulated RLE Lossless Pixel Data.

    Raises
    ------
    NotEncodable
        If the Pixel Data is missing or already compressed.
    ValueError
        If the Image Pixel elements are missing, contradict the length of
        the Pixel Data, or describe data RLE Lossless cannot hold.
    """
    from pydicom.encaps import encapsulate, encapsulate_extended
    from pydicom.uid import RLELossless
    from pydicom.valuerep import VR

    encoded = list(_frames(ds))
    offsets_end = sum(len(f) + 8 for f in encoded[:-1])
    if offsets_end > MAX_BASIC_OFFSET:
        ds.PixelData, ds.ExtendedOffsetTable, ds.ExtendedOffsetTableLengths = (
            encapsulate_extended(encoded)
        )
    else:
        ds.PixelData = encapsulate(encoded)
    del encoded
    element = ds["PixelData"]
    element.VR = VR.OB
    element.is_undefined_length = True
    if int(ds.get("SamplesPerPixel") or 1) > 1:
        # PS3.5 G.2: RLE stores every sample as planes of its own; decoders
        # return pixel-interleaved data, which Planar Configuration 0 states.
        ds.PlanarConfiguration = 0
    ds.file_meta.TransferSyntaxUID = RLELossless
    return ds
