"""Encode the Pixel Data of a whole pydicom Dataset as RLE Lossless."""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

from dicomrle.codec.arrays import encode_in_order
from dicomrle.codec.frame import as_bytes_view, unpack_bits
from dicomrle.codec.jobs import check_threads, plan_jobs
from dicomrle.codec.rle import Frame
from dicomrle.dicom import image_pixel

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np
    from pydicom.dataset import Dataset

    from dicomrle.codec.frame import Buffer


class NotEncodable(ValueError):
    """The dataset holds nothing that RLE Lossless can encode."""


@dataclass(frozen=True)
class Plan:
    """Where the frames of a dataset are and how to read them."""

    data: memoryview
    frames: int
    rows: int
    columns: int
    samples: int
    bits_allocated: int
    planar: int
    # One frame as the kernel takes it, in the source's byte order.
    frame: Frame

    @property
    def frame_length(self) -> int:
        """The bytes of one frame as the kernel takes it."""
        return self.frame.frame_length

    def source(self) -> Callable[[int, int], Buffer]:
        """``source(first, n)``: frames first .. first + n - 1 as the kernel
        takes them, one after the other."""
        if self.bits_allocated == 1:
            return functools.partial(
                _unpacked_frames, self.data, self.rows * self.columns
            )
        return functools.partial(_frames_of, self.data, self.frame_length)


def plan(ds: Dataset) -> Plan:
    """Check that `ds` can be encoded and return where its frames are.

    Raises
    ------
    NotEncodable
        If the Pixel Data is missing or already compressed.
    ValueError
        If the Image Pixel elements are missing, contradict the length of
        the Pixel Data, or describe data RLE Lossless cannot hold.
    """
    from pydicom.uid import UncompressedTransferSyntaxes

    file_meta = getattr(ds, "file_meta", None)
    syntax = file_meta.get("TransferSyntaxUID") if file_meta is not None else None
    if syntax is None:
        raise ValueError("the dataset has no (0002,0010) Transfer Syntax UID")
    if syntax not in UncompressedTransferSyntaxes:
        raise NotEncodable(f"the Pixel Data is already compressed ({syntax.name})")
    if "PixelData" not in ds:
        for keyword in ("FloatPixelData", "DoubleFloatPixelData"):
            if keyword in ds:
                raise NotEncodable(f"RLE Lossless cannot hold {keyword}")
        sop_class = str(getattr(ds.get("SOPClassUID"), "name", ""))
        if ("Rows" in ds and "Columns" in ds) or "Image Storage" in sop_class:
            # pydicom reads a file cut short before its Pixel Data quietly.
            raise ValueError(
                "the dataset is an image (Rows and Columns, or an Image "
                "Storage SOP Class) but has no (7FE0,0010) Pixel Data: is the "
                "file truncated?"
            )
        raise NotEncodable("the dataset has no (7FE0,0010) Pixel Data")
    image = image_pixel.read(ds.get, encoding=True)
    rows, columns, samples, bits, planar, frames = image[:6]
    data = as_bytes_view(ds.PixelData)
    big_endian = not syntax.is_little_endian
    if big_endian and bits in (1, 8) and ds["PixelData"].VR == "OW":
        # PS3.5 7.3: bytes and bits in OW are swapped in 16-bit words.
        import numpy as np

        even = data.nbytes - data.nbytes % 2
        data = as_bytes_view(np.frombuffer(data[:even], "<u2").byteswap())
    if data.nbytes < image.stored_length:
        raise ValueError(
            f"the Pixel Data holds {data.nbytes} bytes, but {frames} frames of "
            f"{rows} x {columns} x {samples} samples of {bits} bits need "
            f"{image.stored_length}"
        )
    frame = Frame(
        rows,
        columns,
        samples,
        image.frame.bits_allocated,
        byteorder=">" if big_endian else "<",
        planar_configuration=planar,
    )
    return Plan(data, frames, rows, columns, samples, bits, planar, frame)


# Binary values whose words pydicom keeps as raw bytes: converting a
# big-endian dataset to little-endian must swap them (PS3.5 7.3).
WORD_SIZES = {"OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}


def _swap_words(ds: Dataset) -> None:
    """Byte-swap the OW, OF, OL, OD and OV values of `ds` and its sequences."""
    import numpy as np

    for element in ds.iterall():
        size = WORD_SIZES.get(str(element.VR))
        if size is None or element.tag == 0x7FE00010 or not element.value:
            continue
        value = element.value
        even = len(value) - len(value) % size
        words = np.frombuffer(value, f">u{size}", count=even // size)
        element.value = words.astype(f"<u{size}").tobytes() + value[even:]


def mark_explicit_little_endian(ds: Dataset) -> None:
    """Make `ds` write as Explicit VR Little Endian with a plain
    ``ds.save_as(path)``, also when it was read as big endian.

    pydicom 3 refuses to save a dataset read as big endian in little
    endian: once every raw element is parsed (``iterall`` does it) the
    dataset holds values, not bytes, so its original encoding can be said
    to be little endian with the public ``set_original_encoding``. pydicom
    2.4 writes what ``is_little_endian`` and ``is_implicit_VR`` say.
    """
    import pydicom

    if int(pydicom.__version__.split(".")[0]) >= 3:
        little = ds.original_encoding[1]
        if little is False:
            for _ in ds.iterall():
                pass
            ds.set_original_encoding(False, True)
    else:  # pragma: no cover - pydicom 2.4
        if ds.is_little_endian is False:
            for _ in ds.iterall():
                pass
        ds.is_little_endian, ds.is_implicit_VR = True, False


def _frames_of(data: memoryview, length: int, first: int, count: int) -> memoryview:
    return data[first * length : (first + count) * length]


def _unpacked_frames(
    data: memoryview, pixels: int, first: int, count: int
) -> np.ndarray:
    """Frames first .. first + count - 1 of single-bit `data`, one byte per
    pixel; frames of `pixels` pixels follow one another unpadded."""
    return unpack_bits(data, first * pixels, count * pixels)


def compress(
    ds: Dataset,
    *,
    threads: int | None = None,
    encapsulate_ext: bool | None = None,
) -> Dataset:
    """Compress the Pixel Data of `ds` in place as RLE Lossless, in parallel.

    The contract of pydicom's ``Dataset.compress`` for RLE Lossless, and
    right where pydicom's path is not: big-endian datasets, Planar
    Configuration 1, Bits Allocated 32 and 64, and Bits Allocated 1
    (monochrome only, PS3.5 Table 8.2.2-1: each pixel becomes one byte of
    one segment, PS3.5 G.2). Frames are encoded by C
    without the GIL on `threads` threads, each of which copies its frames
    straight to their places in the one encapsulated value, so the memory
    used is about the input plus the output. The SOP Instance UID is
    kept: the compression is lossless. Group Length elements the dataset
    has are recalculated for Explicit VR Little Endian (pydicom's writer
    leaves them out of files; other writers keep them).

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        A dataset with uncompressed Pixel Data and a file meta Transfer
        Syntax UID.
    threads : int, optional
        Threads to encode with; by default the cores this process may use.
    encapsulate_ext : bool, optional
        True to use the Extended Offset Table. By default the Basic Offset
        Table is used unless it cannot hold the offsets (4 GiB or more).

    Returns
    -------
    pydicom.dataset.Dataset
        `ds`, with encapsulated RLE Lossless Pixel Data (OB, undefined
        length), Planar Configuration 0 for colour (PS3.5 G.2 note 2) and
        the RLE Lossless Transfer Syntax UID.

    Raises
    ------
    NotEncodable, ValueError
        As :func:`plan` does; `ds` is left unchanged.

    Examples
    --------
    >>> import dicomrle
    >>> from pydicom import examples
    >>> ds = dicomrle.compress(examples.ct)
    >>> ds.file_meta.TransferSyntaxUID.name
    'RLE Lossless'
    """
    from pydicom.uid import RLELossless
    from pydicom.valuerep import VR

    from dicomrle.dicom.encaps import Encapsulator

    threads = check_threads(threads)
    p = plan(ds)
    writer = Encapsulator(p.frames, p.frame.encode_bound)
    threads, per_job = plan_jobs(p.frame_length, p.frames, threads)
    encode_in_order(writer, p.frames, threads, per_job, p.frame, p.source())
    extended = bool(encapsulate_ext) or writer.needs_extended()
    value, offsets, lengths = writer.finish(extended)
    samples = p.samples
    if p.frame.byteorder == ">":
        _swap_words(ds)
    del writer, p
    ds.PixelData = value
    element = ds["PixelData"]
    element.VR = VR.OB
    element.is_undefined_length = True
    if extended:
        ds.ExtendedOffsetTable = struct.pack(f"<{len(offsets)}Q", *offsets)
        ds.ExtendedOffsetTableLengths = struct.pack(f"<{len(lengths)}Q", *lengths)
    else:
        for keyword in ("ExtendedOffsetTable", "ExtendedOffsetTableLengths"):
            if keyword in ds:
                delattr(ds, keyword)
    mark_explicit_little_endian(ds)
    if samples > 1:
        # PS3.5 G.2 note 2: 0 unless the IOD says otherwise, as other
        # encapsulated syntaxes have it; the segments are by plane all the same.
        ds.PlanarConfiguration = 0
    ds.file_meta.TransferSyntaxUID = RLELossless
    fix_group_lengths(ds)
    return ds


# Items nested deeper than this keep their group lengths as they are.
GROUP_LENGTH_DEPTH = 32
# Explicit VR header of 12 bytes (PS3.5 Table 7.1-1); all others take 8.
LONG_VRS = ("OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT",
            "UV")  # fmt: skip
# VRs whose value pydicom writes as its bytes, padded to even.
BYTES_VRS = ("OB", "OD", "OF", "OL", "OV", "OW", "UN")
# A Group Length element, (gggg,0000) of 4 bytes, from its third byte on, in
# the raw bytes of a sequence: Explicit VR (little and big endian), Implicit.
RAW_GROUP_LENGTHS = (b"\0\0UL\4\0", b"\0\0UL\0\4", b"\0\0\4\0\0\0")


def fix_group_lengths(
    ds: Dataset, encodings: str | list[str] | None = None, depth: int = 0
) -> None:
    """Set each Group Length (gggg,0000) of `ds` and of the items of its
    sequences, but the File Meta Information's, to the bytes of the rest
    of its group in Explicit VR Little Endian, as DCMTK recalculates them;
    remove one that 4 bytes cannot hold.

    `encodings` is the character set of the dataset holding `ds`, at
    `depth` items down.
    """
    from pydicom.dataelem import RawDataElement

    charset = ds.get("SpecificCharacterSet", encodings)
    if depth < GROUP_LENGTH_DEPTH:
        for tag in ds.keys():
            element = ds.get_item(tag)
            if isinstance(element, RawDataElement):
                # Sequences not read yet are read for a group length only.
                raw = element.value or b""
                if element.VR not in ("SQ", None) or not any(
                    pattern in raw for pattern in RAW_GROUP_LENGTHS
                ):
                    continue
                element = ds[tag]
            if element.VR == "SQ":
                for item in element.value:
                    fix_group_lengths(item, charset, depth + 1)
    groups = [t for t in ds.keys() if t.element == 0 and t.group != 2]
    for length_tag in groups:
        total = sum(
            _encoded_length(ds, tag, charset)
            for tag in ds.keys()
            if tag.group == length_tag.group and tag.element
        )
        if total > 0xFFFFFFFF:
            del ds[length_tag]
        else:
            ds[length_tag].value = total


def _encoded_length(
    ds: Dataset, tag: int, encodings: str | list[str] | None, depth: int = 0
) -> int:
    """The bytes element `tag` of `ds`, whose character set is `encodings`,
    takes in Explicit VR Little Endian, Group Length elements of its items
    included (but past `depth` GROUP_LENGTH_DEPTH, where pydicom writes the
    sequence)."""
    from pydicom.dataelem import RawDataElement
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import correct_ambiguous_vr_element, write_data_element

    element = ds.get_item(tag)
    if isinstance(element, RawDataElement):
        if element.VR is not None and element.VR != "SQ":
            header = 12 if element.VR in LONG_VRS else 8
            undefined = 8 if element.length == 0xFFFFFFFF else 0
            return header + len(element.value or b"") + undefined
        element = ds[tag]
    vr = element.VR
    undefined = 8 if element.is_undefined_length else 0
    if vr == "SQ" and depth < GROUP_LENGTH_DEPTH:
        items = 0
        for item in element.value:
            charset = item.get("SpecificCharacterSet", encodings)
            ends = 8 if getattr(item, "is_undefined_length_sequence_item", False) else 0
            items += 8 + ends
            items += sum(
                _encoded_length(item, t, charset, depth + 1) for t in item.keys()
            )
        return 12 + items + undefined
    value = element.value
    if vr in BYTES_VRS and isinstance(value, (bytes, bytearray, memoryview)):
        size = memoryview(value).nbytes
        return 12 + size + size % 2 + undefined
    if " or " in vr:
        correct_ambiguous_vr_element(element, ds, True)  # in place
    fp = DicomBytesIO()
    fp.is_little_endian, fp.is_implicit_VR = True, False
    write_data_element(fp, element, encodings)
    return fp.tell()


def write_dataset(fp: BinaryIO, ds: Dataset) -> None:
    """Write `ds` as a DICOM file (preamble and file meta) with pydicom 2.4 or 3."""
    import pydicom

    if int(pydicom.__version__.split(".")[0]) >= 3:
        pydicom.dcmwrite(fp, ds, enforce_file_format=True)
    else:  # pragma: no cover - pydicom 2.4
        ds.is_little_endian, ds.is_implicit_VR = True, False
        pydicom.dcmwrite(fp, ds, write_like_original=False)
