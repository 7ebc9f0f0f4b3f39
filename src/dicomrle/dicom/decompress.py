"""Decode RLE Lossless frames and datasets: the inverse of the encoder."""

from __future__ import annotations

import operator
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dicomrle.codec.frame import as_bytes_view, pack_single_bit
from dicomrle.codec.jobs import plan_jobs, run_all
from dicomrle.codec.rle import Frame
from dicomrle.dicom import image_pixel

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np
    from pydicom.dataset import Dataset

    from dicomrle.codec.frame import Buffer
    from dicomrle.dicom.compress import Plan as SourcePlan

HEADER = 64
# PS3.5 G.3.1: two bytes of a segment give at most 128 (a replicate run).
MAX_EXPANSION = 64


class NotDecodable(ValueError):
    """The dataset holds no RLE Lossless Pixel Data."""


@dataclass(frozen=True)
class Plan:
    """What the RLE Pixel Data of a dataset holds, checked against its bytes."""

    frames: list[memoryview | bytes]
    rows: int
    columns: int
    samples: int
    bits_allocated: int
    bits_stored: int
    signed: bool
    # One frame as the kernel decodes it (a single-bit pixel takes a byte).
    frame: Frame

    @property
    def frame_length(self) -> int:
        return self.frame.frame_length

    def decoded_as(
        self, *, byteorder: str = "<", planar: bool = False, lsb_first: bool = False
    ) -> Frame:
        """The kernel's frame, decoded in `byteorder`, by plane if `planar`."""
        return Frame(
            self.rows,
            self.columns,
            self.samples,
            self.frame.bits_allocated,
            byteorder=byteorder,
            planar_configuration=int(planar),
            lsb_first=lsb_first,
        )

    def shape(self) -> tuple[int, ...]:
        """The shape pydicom gives: frames and samples only when above 1."""
        shape: tuple[int, ...] = (self.rows, self.columns)
        if len(self.frames) > 1:
            shape = (len(self.frames), *shape)
        if self.samples > 1:
            shape = (*shape, self.samples)
        return shape

    def dtype(self) -> np.dtype:
        import numpy as np

        kind = "i" if self.signed and self.bits_allocated > 1 else "u"
        return np.dtype(f"{kind}{self.frame.bytes_allocated}")


def plan(ds: Dataset) -> Plan:
    """Check that `ds` holds RLE Lossless Pixel Data that its bytes can
    justify, before anything is allocated for it.

    Raises
    ------
    NotDecodable
        If the dataset is not RLE Lossless or has no Pixel Data.
    ValueError
        If an Image Pixel element is missing or out of range, or the Pixel
        Data cannot hold the frames it claims.
    """
    from pydicom.uid import RLELossless

    file_meta = getattr(ds, "file_meta", None)
    syntax = file_meta.get("TransferSyntaxUID") if file_meta is not None else None
    if syntax is None:
        raise ValueError("the dataset has no (0002,0010) Transfer Syntax UID")
    if syntax != RLELossless:
        raise NotDecodable(
            f"the Pixel Data is {getattr(syntax, 'name', syntax)}, not RLE Lossless"
        )
    if "PixelData" not in ds:
        raise NotDecodable("the dataset has no (7FE0,0010) Pixel Data")
    image = image_pixel.read(ds.get, encoding=False)
    rows, columns, samples, bits, _, frames = image[:6]
    value = ds.PixelData
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(
            f"the Pixel Data must be bytes, not {type(value).__name__} (read "
            "the file without deferring or buffering the Pixel Data)"
        )
    data = as_bytes_view(value)
    # Each frame takes an item header of 8 bytes at least: a huge Number
    # of Frames is refused before any list of that size is made.
    if frames > data.nbytes // 8:
        raise ValueError(
            f"Number of Frames is {frames}, but the {data.nbytes}-byte Pixel "
            "Data cannot hold that many fragments"
        )
    from dicomrle.dicom.fragments import frame_views

    extended = ds.get("ExtendedOffsetTable")
    views = frame_views(data, frames, bytes(extended) if extended else None)
    result = Plan(
        views,
        rows,
        columns,
        samples,
        bits,
        image_pixel.integer(ds.get, "BitsStored", bits),
        image_pixel.integer(ds.get, "PixelRepresentation", 0) == 1,
        image.frame,
    )
    segments = image.frame.segments
    for index, frame in enumerate(views):
        length = len(frame)
        if length < HEADER:
            raise ValueError(
                f"frame {index} is {length} bytes, shorter than the 64-byte RLE header"
            )
        most = MAX_EXPANSION * (length - HEADER + segments)
        if most < result.frame_length:
            raise ValueError(
                f"frame {index} is {length} bytes, which decode to at most "
                f"{most}, but {rows} x {columns} x {samples} samples of "
                f"{bits} bits need {result.frame_length}"
            )
    return result


def decode_all(
    frames: Sequence[Buffer],
    frame: Frame,
    out: memoryview | None,
    *,
    threads: int | None,
    padding: int = 0,
) -> bytes | None:
    """Decode every one of `frames`, each a `frame`, into its place in
    `out`, in parallel; with `out` None, into a new ``bytes`` (and
    `padding` zero bytes after the frames), returned once every frame is in
    it."""
    from dicomrle.codec import rle

    count = len(frames)
    threads, per_job = plan_jobs(frame.frame_length, count, threads, decoding=True)
    decoder = rle.FrameDecoder(frame, frames, out, padding=padding)

    def job(number: int) -> None:
        decoder.decode(number * per_job, min(count, (number + 1) * per_job))

    run_all(job, -(-count // per_job), threads)
    return decoder.result() if out is None else None


def matches(ds: Dataset, source: SourcePlan, *, threads: int | None = 1) -> bool:
    """True if the RLE Lossless `ds` decodes to the frames of `source`, the
    plan of the uncompressed dataset it was made from, byte for byte."""
    p = plan(ds)
    if (len(p.frames), p.rows, p.columns, p.samples, p.bits_allocated) != (
        source.frames,
        source.rows,
        source.columns,
        source.samples,
        source.bits_allocated,
    ):
        return False
    return frames_match(p.frames, source, threads=threads)


def frames_match(
    frames: Sequence[Buffer], source: SourcePlan, *, threads: int | None = 1
) -> bool:
    """True if the RLE Lossless `frames`, as many as `source` has and of its
    description, decode to the frames of `source` byte for byte.

    Each thread decodes a run of frames at a time into one buffer and
    compares it with the source frame; the first difference ends the run.

    Raises
    ------
    ValueError
        If a frame is not valid RLE for the description.
    """
    from dicomrle.codec import rle

    count = len(frames)
    if count != source.frames:
        return False
    length = source.frame_length
    frame_of = source.source()
    threads, per_job = plan_jobs(length, count, threads, decoding=True)

    def same(number: int) -> bool:
        scratch = bytearray(length)
        for index in range(number * per_job, min(count, (number + 1) * per_job)):
            expected = as_bytes_view(frame_of(index, 1))
            try:
                if not rle.decode_equals(
                    source.frame, frames[index], expected, scratch
                ):
                    return False
            except ValueError as exc:
                raise ValueError(f"frame {index}: {exc}") from None
        return True

    return all(run_all(same, -(-count // per_job), threads))


def _frame_number(index: object, count: int) -> int:
    try:
        if isinstance(index, bool):
            raise TypeError
        index = operator.index(index)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(
            f"'index' must be an int or None, not {type(index).__name__}"
        ) from None
    if not 0 <= index < count:
        raise IndexError(
            f"'index' is {index}, but the Pixel Data holds frames 0 to {count - 1}"
        )
    return index


def _check_lsb_first(lsb_first: object) -> bool:
    if not isinstance(lsb_first, bool):
        raise TypeError(f"'lsb_first' must be a bool, not {type(lsb_first).__name__}")
    return lsb_first


def pixel_array(
    ds: Dataset,
    index: int | None = None,
    *,
    threads: int | None = None,
    lsb_first: bool = False,
) -> np.ndarray:
    """Decode the RLE Lossless Pixel Data of `ds` into a NumPy array.

    The array equals pydicom 3's ``pydicom.pixels.pixel_array(ds,
    index=index, raw=True)`` in shape, dtype and values: (frames, rows,
    columns, samples), frames and samples left out when 1; unused high
    bits cleared, or set from the sign for signed data; single-bit pixels
    one byte (0 or 1) each. Frames are decoded by C without the GIL on
    `threads` threads, each straight into its place in the one array.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        A dataset with RLE Lossless Pixel Data.
    index : int, optional
        The one frame to decode (0 for the first), shaped (rows, columns,
        samples); by default every frame. Only that frame is decoded.
    threads : int, optional
        Threads to decode with; by default the cores this process may use.
    lsb_first : bool
        True for non-conformant data whose segments hold the least
        significant byte first.

    Returns
    -------
    numpy.ndarray
        The pixels, in native byte order, colour by pixel.

    Raises
    ------
    ValueError
        If the dataset is not RLE Lossless, an Image Pixel element is
        missing or out of range, or the Pixel Data is not valid RLE for it;
        nothing is allocated for frames the Pixel Data cannot hold.
    IndexError
        If `index` is not the number of a frame.

    Examples
    --------
    >>> import dicomrle
    >>> from pydicom import examples
    >>> arr = dicomrle.pixel_array(dicomrle.compress(examples.rgb_color))
    >>> arr.shape
    (240, 320, 3)
    """
    import numpy as np

    lsb_first = _check_lsb_first(lsb_first)
    p = plan(ds)
    frames: Sequence[Buffer] = p.frames
    shape = p.shape()
    if index is not None:
        number = _frame_number(index, len(frames))
        frames = frames[number : number + 1]
        shape = shape[1:] if len(p.frames) > 1 else shape
    arr = np.empty(shape, p.dtype())
    frame = p.decoded_as(
        byteorder=">" if sys.byteorder == "big" else "<", lsb_first=lsb_first
    )
    decode_all(
        frames, frame, as_bytes_view(arr.reshape(-1).view(np.uint8)), threads=threads
    )
    if 1 < p.bits_allocated and p.bits_stored < p.bits_allocated:
        # As pydicom does: the unused high bits cannot be relied upon.
        shift = p.bits_allocated - max(p.bits_stored, 1)
        np.left_shift(arr, shift, out=arr)
        np.right_shift(arr, shift, out=arr)
    return arr


def decompress(
    ds: Dataset, *, threads: int | None = None, lsb_first: bool = False
) -> Dataset:
    """Decompress the RLE Lossless Pixel Data of `ds` in place.

    What pydicom 3's ``ds.decompress(as_rgb=False)`` gives, with every
    stored bit kept: Explicit VR Little Endian, Pixel Data of OB (8 bits or
    fewer) or OW, Planar Configuration 0, the SOP Instance UID kept (the
    compression was lossless), Group Length elements recalculated.
    Single-bit data is packed into bits, as native Pixel Data stores it.
    The dataset can then be written with ``ds.save_as(path)``.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        A dataset with RLE Lossless Pixel Data.
    threads, lsb_first
        As for :func:`pixel_array`.

    Returns
    -------
    pydicom.dataset.Dataset
        `ds`, with uncompressed Pixel Data.

    Raises
    ------
    ValueError
        As for :func:`pixel_array`; `ds` is left unchanged.

    Examples
    --------
    >>> import dicomrle
    >>> from pydicom import examples
    >>> ds = dicomrle.decompress(dicomrle.compress(examples.ct))
    >>> ds.file_meta.TransferSyntaxUID.name
    'Explicit VR Little Endian'
    """
    import numpy as np
    from pydicom.uid import ExplicitVRLittleEndian
    from pydicom.valuerep import VR

    from dicomrle.dicom.compress import fix_group_lengths, mark_explicit_little_endian

    lsb_first = _check_lsb_first(lsb_first)
    p = plan(ds)
    total = p.frame_length * len(p.frames)
    if total + total % 2 >= 2**32 - 1:
        raise ValueError(
            f"the decoded Pixel Data would be {total} bytes, more than a "
            "native (0x7FE0,0010) value can hold (PS3.5 7.1.1)"
        )
    single = p.bits_allocated == 1
    value = decode_all(
        p.frames,
        p.decoded_as(lsb_first=lsb_first),
        None,
        threads=threads,
        padding=0 if single else total % 2,
    )
    assert value is not None
    if single:
        value = pack_single_bit(np.frombuffer(value, np.uint8))
        if len(value) % 2:
            value += b"\x00"
    frames, samples = len(p.frames), p.samples
    del p
    mark_explicit_little_endian(ds)
    ds.PixelData = value
    element = ds["PixelData"]
    element.VR = VR.OB if ds.BitsAllocated <= 8 else VR.OW
    element.is_undefined_length = False
    for keyword in ("ExtendedOffsetTable", "ExtendedOffsetTableLengths"):
        if keyword in ds:
            delattr(ds, keyword)
    if samples > 1:
        ds.PlanarConfiguration = 0
    if "NumberOfFrames" in ds or frames > 1:
        ds.NumberOfFrames = frames
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    _decompress_icons(ds, threads)
    fix_group_lengths(ds)
    return ds


def _decompress_icons(ds: Dataset, threads: int | None) -> None:
    """Decompress the RLE Lossless Pixel Data of the Icon Image Sequence
    items of `ds` too (dcmcrle compresses them): an encapsulated value has
    no place in a native dataset, and strict readers refuse it."""
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import RLELossless

    for item in ds.get("IconImageSequence") or []:
        if "PixelData" not in item or not item["PixelData"].is_undefined_length:
            continue
        item.file_meta = FileMetaDataset()
        item.file_meta.TransferSyntaxUID = RLELossless
        try:
            decompress(item, threads=threads)
        finally:
            del item.file_meta
