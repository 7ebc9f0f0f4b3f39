"""Encode and decode one frame: the checks of what the binding's ``Frame``
does not describe (buffers, single-bit data), then the C kernel."""

from __future__ import annotations

import operator

from dicomrle.codec import rle
from dicomrle.codec.rle import Frame

TYPE_CHECKING = False  # typing is slow to import: the command starts without it
if TYPE_CHECKING:  # collections.abc.Buffer is new in Python 3.12
    from typing import Any, TypeAlias

    import numpy as np
    from typing_extensions import Buffer as _Buffer

    # Any bytes-like object; numpy's stubs make ndarray a Buffer only on
    # Python 3.12 and newer.
    Buffer: TypeAlias = "_Buffer | np.ndarray"

#: Every Bits Allocated the encoder and decoder take, single-bit aside.
BITS_ALLOCATED = rle.BITS_ALLOCATED


def is_single_bit(bits_allocated: Any) -> bool:
    """True if `bits_allocated` is the int 1 (a bool is not)."""
    if isinstance(bits_allocated, bool):
        return False
    try:
        return operator.index(bits_allocated) == 1
    except TypeError:
        return False


def as_bytes_view(src: object) -> memoryview:
    """Return `src` as a flat, C-contiguous memoryview of unsigned bytes.

    Raises
    ------
    TypeError
        If `src` does not support the buffer protocol.
    ValueError
        If `src` is not C-contiguous.
    """
    if isinstance(src, str):
        raise TypeError("'src' must be a bytes-like object, not str")
    try:
        view = memoryview(src)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:  # numpy: ValueError for datetime64
        raise TypeError(
            f"'src' must be a bytes-like object, not {type(src).__name__} ({exc})"
        ) from None
    if not view.c_contiguous:
        raise ValueError(
            "'src' must be a C-contiguous buffer; copy it first, e.g. with "
            "numpy.ascontiguousarray()"
        )
    if view.format == "B" and view.ndim == 1:
        return view
    return view.cast("B")


def encode(src: Buffer, frame: Frame) -> bytes:
    """Encode one `frame` held in `src` (any C-contiguous buffer)."""
    view = as_bytes_view(src)
    needed = frame.source_length
    if view.nbytes < needed:
        raise ValueError(
            f"'src' holds {view.nbytes} bytes, but a frame of {frame.rows} rows x "
            f"{frame.columns} columns x {frame.samples_per_pixel} samples x "
            f"{frame.bytes_per_sample} bytes needs {needed}"
        )
    return rle.encode(frame, view)


def check_single_bit(samples_per_pixel: object) -> None:
    """Refuse single-bit data of more than one sample per pixel."""
    if samples_per_pixel != 1:
        raise ValueError(
            "Bits Allocated 1 needs Samples per Pixel 1, not "
            f"{samples_per_pixel!r} (PS3.5 Table 8.2.2-1)"
        )


def unpack_single_bit(
    src: Buffer, rows: int, columns: int, samples_per_pixel: int
) -> np.ndarray:
    """One byte, 0 or 1, per pixel of a packed single-bit frame."""
    check_single_bit(samples_per_pixel)
    frame = Frame(rows, columns, 1, 8)
    view = as_bytes_view(src)
    pixels = frame.rows * frame.columns
    needed = -(-pixels // 8)
    if view.nbytes < needed:
        raise ValueError(
            f"'src' holds {view.nbytes} bytes, but a single-bit frame of "
            f"{rows} rows x {columns} columns needs {needed}"
        )
    return unpack_bits(view, 0, pixels)


def single_bit_frame(
    src: Buffer, rows: int, columns: int, samples_per_pixel: int
) -> Buffer:
    """A single-bit frame as one byte (0 or 1) per pixel; `src` holds it
    packed, as stored, or already so: shorter than one byte per pixel, or
    exactly the packed length, means packed."""
    import numpy as np

    check_single_bit(samples_per_pixel)
    frame = Frame(rows, columns, 1, 8)
    view = as_bytes_view(src)
    pixels = frame.rows * frame.columns
    if view.nbytes < pixels or view.nbytes == -(-pixels // 8):
        return unpack_single_bit(view, rows, columns, samples_per_pixel)
    unpacked = np.frombuffer(view, np.uint8, count=pixels)
    check_bit_values(unpacked)
    return unpacked


def check_bit_values(arr: np.ndarray) -> None:
    """Refuse single-bit data, one value per pixel, of values but 0 and 1."""
    if arr.dtype.kind != "b" and arr.size and (arr.min() < 0 or arr.max() > 1):
        raise ValueError(
            "single-bit data holds values other than 0 and 1: every value "
            "must be 0 or 1"
        )


def unpack_bits(data: memoryview, start: int, count: int) -> np.ndarray:
    """Bits `start` to `start` + `count` - 1 of `data`, one byte (0 or 1)
    each; bit k is bit k % 8 of byte k // 8 (PS3.5 8.1.1, D.2)."""
    import numpy as np

    end = start + count
    packed = np.frombuffer(data[start // 8 : -(-end // 8)], np.uint8)
    return np.unpackbits(packed, bitorder="little")[start % 8 : start % 8 + count]


def encode_frame(
    src: Buffer,
    *,
    rows: int,
    columns: int,
    samples_per_pixel: int,
    bits_allocated: int,
    byteorder: str = "<",
    planar_configuration: int = 0,
) -> bytes:
    """Return one frame of pixel data encoded as DICOM RLE Lossless.

    Parameters
    ----------
    src : bytes-like
        The frame's pixel data, C-contiguous, ``bits_allocated // 8`` bytes
        per sample; for `bits_allocated` 1, packed as DICOM stores it, pixel
        k in bit k % 8 of byte k // 8. Bytes past the end of the frame are
        ignored.
    rows, columns : int
        The frame's size, 1 to 65535 each.
    samples_per_pixel : int
        Samples per pixel, e.g. 1 for greyscale or 3 for RGB.
    bits_allocated : int
        1 (monochrome only), 8, 16, 32 or 64; ``samples_per_pixel *
        bits_allocated / 8`` must be 15 or less, the number of segments RLE
        Lossless allows. A single-bit pixel becomes one byte, 0 or 1, of the
        frame's one segment (PS3.5 G.2).
    byteorder : {"<", ">"}
        The byte order of the samples in `src`.
    planar_configuration : {0, 1}
        0 if the samples of a pixel are adjacent (R1G1B1R2G2B2...), 1 if
        each sample has a plane of its own (R1R2...G1G2...B1B2...).

    Returns
    -------
    bytes
        The RLE Lossless frame (PS3.5 Annex G): the 64-byte header and
        one segment per byte of each sample, most significant byte first.

    Raises
    ------
    TypeError
        If `src` is not a bytes-like object or a size is not an int.
    ValueError
        If a parameter is out of range or `src` is shorter than the frame.

    Examples
    --------
    >>> import dicomrle
    >>> frame = dicomrle.encode_frame(
    ...     bytes(8), rows=2, columns=4, samples_per_pixel=1, bits_allocated=8
    ... )
    >>> frame[64:]
    b'\\xfd\\x00\\xfd\\x00'
    """
    if is_single_bit(bits_allocated):
        src = unpack_single_bit(src, rows, columns, samples_per_pixel)
        bits_allocated = 8
    frame = Frame(
        rows,
        columns,
        samples_per_pixel,
        bits_allocated,
        byteorder=byteorder,
        planar_configuration=planar_configuration,
    )
    return encode(src, frame)


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
    single = is_single_bit(bits_allocated)
    if single:
        check_single_bit(samples_per_pixel)
    frame = Frame(
        rows,
        columns,
        samples_per_pixel,
        8 if single else bits_allocated,
        byteorder=byteorder,
        planar_configuration=planar_configuration,
        lsb_first=bool(lsb_first),
    )
    decoded = rle.decode(frame, as_bytes_view(src))
    if single:
        import numpy as np

        return pack_single_bit(np.frombuffer(decoded, np.uint8))
    return decoded
