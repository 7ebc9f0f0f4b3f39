"""Decode RLE Lossless frames and datasets: the inverse of the encoder."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dicomrle.codec.arrays import check_threads, run_all, useful_threads
from dicomrle.codec.frame import _is_one, as_bytes_view, check_frame, check_single_bit

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


def _kernel(
    rows: int,
    columns: int,
    samples_per_pixel: int,
    bits_allocated: int,
    byteorder: str,
    planar_configuration: int,
) -> dict[str, Any]:
    """Check a frame's description; return the binding's keyword arguments."""
    rows, columns, samples_per_pixel, bytes_allocated = check_frame(
        rows=rows,
        columns=columns,
        samples_per_pixel=samples_per_pixel,
        bits_allocated=bits_allocated,
        planar_configuration=planar_configuration,
    )
    if byteorder not in ("<", ">"):
        raise ValueError(f"'byteorder' must be '<' or '>', not {byteorder!r}")
    return {
        "rows": rows,
        "columns": columns,
        "samples_per_pixel": samples_per_pixel,
        "bytes_allocated": bytes_allocated,
        "big_endian": byteorder == ">",
        "planar": samples_per_pixel > 1 and planar_configuration == 1,
    }


def pack_single_bit(pixels: np.ndarray) -> bytes:
    """Pack one byte (0 or 1) per pixel into bits, pixel k in bit k % 8 of
    byte k // 8 (PS3.5 8.1.1, D.2).

    Raises
    ------
    ValueError
        If a byte is neither 0 nor 1.
    """
    import numpy as np

    if pixels.size and pixels.max() > 1:
        raise ValueError(
            "the single-bit RLE segment holds values other than 0 and 1, so "
            "it cannot be packed into bits"
        )
    return np.packbits(pixels.reshape(-1), bitorder="little").tobytes()


def decode_frame(
    src: Buffer,
    *,
    rows: int,
    columns: int,
    samples_per_pixel: int,
    bits_allocated: int,
    byteorder: str = "<",
    planar_configuration: int = 0,
    lsb_first: bool = False,
) -> bytes:
    """Return one RLE Lossless frame decoded, as it is stored uncompressed.

    Parameters
    ----------
    src : bytes-like
        The RLE Lossless frame (PS3.5 Annex G): its 64-byte header and
        segments. Bytes past the last segment are ignored.
    rows, columns : int
        The frame's size, 1 to 65535 each.
    samples_per_pixel : int
        Samples per pixel, e.g. 1 for greyscale or 3 for RGB.
    bits_allocated : int
        1 (monochrome only), 8, 16, 32 or 64. A single-bit frame has one
        byte (0 or 1) per pixel in its one segment and is returned packed,
        pixel k in bit k % 8 of byte k // 8.
    byteorder : {"<", ">"}
        The byte order of the returned samples.
    planar_configuration : {0, 1}
        0 to return the samples of a pixel together (R1G1B1R2G2B2...), 1
        for a plane per sample (R1R2...G1G2...B1B2...).
    lsb_first : bool
        True for non-conformant frames whose segments hold the least
        significant byte of each sample first (pydicom's
        ``rle_segment_order="<"``).

    Returns
    -------
    bytes
        The frame, ``rows * columns * samples_per_pixel * bits_allocated
        / 8`` bytes (rounded up for single-bit frames).

    Raises
    ------
    TypeError
        If `src` is not a bytes-like object or a size is not an int.
    ValueError
        If a parameter is out of range or `src` is not a valid RLE frame
        of that size: the message names the segment and what is wrong.

    Examples
    --------
    >>> import dicomrle
    >>> frame = dicomrle.encode_frame(
    ...     bytes(range(8)), rows=2, columns=4, samples_per_pixel=1, bits_allocated=8
    ... )
    >>> dicomrle.decode_frame(
    ...     frame, rows=2, columns=4, samples_per_pixel=1, bits_allocated=8
    ... )
    b'\\x00\\x01\\x02\\x03\\x04\\x05\\x06\\x07'
    """
    from dicomrle.codec import rle

    single = _is_one(bits_allocated)
    if single:
        check_single_bit(samples_per_pixel)
    kernel = _kernel(
        rows,
        columns,
        samples_per_pixel,
        8 if single else bits_allocated,
        byteorder,
        planar_configuration,
    )
    view = as_bytes_view(src)
    frame = rle.decode(view, lsb_first=bool(lsb_first), **kernel)
    if single:
        import numpy as np

        return pack_single_bit(np.frombuffer(frame, np.uint8))
    return frame


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

    @property
    def kernel_bytes(self) -> int:
        """Bytes per sample as decoded: single-bit pixels take one each."""
        return 1 if self.bits_allocated == 1 else self.bits_allocated // 8

    @property
    def frame_length(self) -> int:
        return self.rows * self.columns * self.samples * self.kernel_bytes

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
        return np.dtype(f"{kind}{self.kernel_bytes}")


def _int(ds: Dataset, keyword: str, default: int | None = None) -> int:
    from dicomrle.dicom.compress import _int as element_int

    return element_int(ds, keyword, default)


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
    rows, columns = _int(ds, "Rows"), _int(ds, "Columns")
    samples = _int(ds, "SamplesPerPixel", 1)
    bits = _int(ds, "BitsAllocated")
    frames = _int(ds, "NumberOfFrames", 1)
    if frames < 1:
        raise ValueError(f"Number of Frames must be at least 1, not {frames}")
    if bits == 1:
        check_single_bit(samples)
    check_frame(
        rows=rows,
        columns=columns,
        samples_per_pixel=samples,
        bits_allocated=8 if bits == 1 else bits,
        planar_configuration=0,
    )
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
        _int(ds, "BitsStored", bits),
        _int(ds, "PixelRepresentation", 0) == 1,
    )
    segments = samples * result.kernel_bytes
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


# A decode job is this many frames or fewer: few enough hand-overs between
# threads, and jobs small enough that a busy core does not hold up the rest.
JOBS_PER_THREAD = 8


def decode_all(
    p: Plan,
    out: memoryview | None,
    *,
    big_endian: bool,
    threads: int | None,
    lsb_first: bool,
    planar: bool = False,
    padding: int = 0,
) -> bytes | None:
    """Decode every frame of `p` into its place in `out`, in parallel; with
    `out` None, into a new ``bytes`` (and `padding` zero bytes after the
    frames), returned once every frame is in it."""
    from dicomrle.codec import rle

    threads = check_threads(threads)
    length = p.frame_length
    count = len(p.frames)
    threads = useful_threads(length, count, threads)
    per_job = max(1, -(-count // (JOBS_PER_THREAD * threads)))
    decoder = rle.FrameDecoder(
        p.frames,
        out,
        rows=p.rows,
        columns=p.columns,
        samples_per_pixel=p.samples,
        bytes_allocated=p.kernel_bytes,
        big_endian=big_endian,
        planar=planar and p.samples > 1,
        lsb_first=lsb_first,
        padding=padding,
    )

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
    kernel: dict[str, Any] = {
        "rows": source.rows,
        "columns": source.columns,
        "samples_per_pixel": source.samples,
        "bytes_allocated": source.kernel_bits // 8,
        "big_endian": source.big_endian,
        "planar": source.samples > 1 and source.planar == 1,
    }
    threads = useful_threads(length, count, check_threads(threads))
    per_job = max(1, -(-count // (JOBS_PER_THREAD * threads)))

    def same(number: int) -> bool:
        scratch = bytearray(length)
        for index in range(number * per_job, min(count, (number + 1) * per_job)):
            expected = as_bytes_view(frame_of(index, 1))
            try:
                if not rle.decode_equals(frames[index], expected, scratch, **kernel):
                    return False
            except ValueError as exc:
                raise ValueError(f"frame {index}: {exc}") from None
        return True

    return all(run_all(same, -(-count // per_job), threads))


def _check_lsb_first(lsb_first: object) -> bool:
    if not isinstance(lsb_first, bool):
        raise TypeError(f"'lsb_first' must be a bool, not {type(lsb_first).__name__}")
    return lsb_first


def pixel_array(
    ds: Dataset, *, threads: int | None = None, lsb_first: bool = False
) -> np.ndarray:
    """Decode the RLE Lossless Pixel Data of `ds` into a NumPy array.

    The array equals pydicom 3's ``pydicom.pixels.pixel_array(ds,
    raw=True)`` in shape, dtype and values: (frames, rows, columns,
    samples), frames and samples left out when 1; unused high bits
    cleared, or set from the sign for signed data; single-bit pixels one
    byte (0 or 1) each. Frames are decoded by C without the GIL on
    `threads` threads, each straight into its place in the one array.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        A dataset with RLE Lossless Pixel Data.
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
    arr = np.empty(p.shape(), p.dtype())
    decode_all(
        p,
        as_bytes_view(arr.reshape(-1).view(np.uint8)),
        big_endian=sys.byteorder == "big",
        threads=threads,
        lsb_first=lsb_first,
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
    threads : int, optional
        Threads to decode with; by default the cores this process may use.
    lsb_first : bool
        True for non-conformant data whose segments hold the least
        significant byte first.

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
        p,
        None,
        big_endian=False,
        threads=threads,
        lsb_first=lsb_first,
        padding=0 if single else total % 2,
    )
    assert value is not None
    if single:
        value = pack_single_bit(np.frombuffer(value, np.uint8))
        if len(value) % 2:
            value += b"\x00"
    frames = len(p.frames)
    del p
    mark_explicit_little_endian(ds)
    ds.PixelData = value
    element = ds["PixelData"]
    element.VR = VR.OB if ds.BitsAllocated <= 8 else VR.OW
    element.is_undefined_length = False
    for keyword in ("ExtendedOffsetTable", "ExtendedOffsetTableLengths"):
        if keyword in ds:
            delattr(ds, keyword)
    if _int(ds, "SamplesPerPixel", 1) > 1:
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
