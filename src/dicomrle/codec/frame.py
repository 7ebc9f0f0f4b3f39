"""Validate frame parameters in Python before they reach the C kernel."""

from __future__ import annotations

import operator

from dicomrle.codec import rle

TYPE_CHECKING = False  # typing is slow to import: the command starts without it
if TYPE_CHECKING:  # collections.abc.Buffer is new in Python 3.12
    from typing import Any, TypeAlias

    import numpy as np
    from typing_extensions import Buffer as _Buffer

    # Any bytes-like object; numpy's stubs make ndarray a Buffer only on
    # Python 3.12 and newer.
    Buffer: TypeAlias = "_Buffer | np.ndarray"

MAX_SEGMENTS = 15
MAX_DIMENSION = 65535  # Rows and Columns are US (PS3.3 C.7.6.3.1)
BITS_ALLOCATED = (8, 16, 32, 64)


def _positive(name: str, value: Any, maximum: int) -> int:
    if isinstance(value, bool):
        raise TypeError(f"'{name}' must be an int, not bool")
    try:
        number = operator.index(value)
    except TypeError:
        raise TypeError(
            f"'{name}' must be an int, not {type(value).__name__}"
        ) from None
    if not 1 <= number <= maximum:
        raise ValueError(f"'{name}' must be between 1 and {maximum}, not {number}")
    return number


def _choice(name: str, value: Any, allowed: tuple[int, ...]) -> int:
    text = ", ".join(map(str, allowed[:-1])) + f" or {allowed[-1]}"
    try:
        number = None if isinstance(value, bool) else operator.index(value)
    except TypeError:
        number = None
    if number not in allowed:
        raise ValueError(f"'{name}' must be {text}, not {value!r}")
    return number


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


def check_frame(
    *,
    rows: int,
    columns: int,
    samples_per_pixel: int,
    bits_allocated: int,
    planar_configuration: int,
) -> tuple[int, int, int, int]:
    """Check a frame's description; return rows, columns, samples and bytes
    allocated as ints.

    Raises
    ------
    TypeError
        If a size is not an int.
    ValueError
        If a value is out of range or the frame needs more than 15 segments.
    """
    rows = _positive("rows", rows, MAX_DIMENSION)
    columns = _positive("columns", columns, MAX_DIMENSION)
    samples_per_pixel = _positive("samples_per_pixel", samples_per_pixel, MAX_SEGMENTS)
    bytes_allocated = _choice("bits_allocated", bits_allocated, BITS_ALLOCATED) // 8
    if samples_per_pixel * bytes_allocated > MAX_SEGMENTS:
        raise ValueError(
            f"'samples_per_pixel' ({samples_per_pixel}) times 'bits_allocated' / 8 "
            f"({bytes_allocated}) is {samples_per_pixel * bytes_allocated} "
            f"segments, but RLE Lossless allows at most {MAX_SEGMENTS}"
        )
    _choice("planar_configuration", planar_configuration, (0, 1))
    return rows, columns, samples_per_pixel, bytes_allocated


def _kernel_args(
    rows: int,
    columns: int,
    samples_per_pixel: int,
    bits_allocated: int,
    byteorder: str,
    planar_configuration: int,
    bytes_per_sample: int | None,
    sign_extend: bool,
) -> tuple[int, int, int, int, int, bool, bool, bool]:
    """Check every parameter of a frame; return the C kernel's arguments."""
    rows, columns, samples_per_pixel, bytes_allocated = check_frame(
        rows=rows,
        columns=columns,
        samples_per_pixel=samples_per_pixel,
        bits_allocated=bits_allocated,
        planar_configuration=planar_configuration,
    )
    if byteorder not in ("<", ">"):
        raise ValueError(f"'byteorder' must be '<' or '>', not {byteorder!r}")
    if bytes_per_sample is None:
        bytes_per_sample = bytes_allocated
    elif bytes_per_sample not in (1, 2, 4, 8) or bytes_per_sample > bytes_allocated:
        raise ValueError(
            f"'bytes_per_sample' must be 1, 2, 4 or 8 and at most "
            f"{bytes_allocated}, not {bytes_per_sample!r}"
        )
    return (
        rows,
        columns,
        samples_per_pixel,
        bytes_allocated,
        bytes_per_sample,
        byteorder == ">",
        planar_configuration == 1,
        bool(sign_extend),
    )


def encode(
    src: object,
    *,
    rows: int,
    columns: int,
    samples_per_pixel: int,
    bits_allocated: int,
    byteorder: str = "<",
    planar_configuration: int = 0,
    bytes_per_sample: int | None = None,
    sign_extend: bool = False,
) -> bytes:
    """Check every parameter, then encode one frame with the C kernel.

    `bytes_per_sample` is the container size of a sample in `src`, from 1 up
    to ``bits_allocated // 8`` (the default); narrower samples are widened,
    with the sign when `sign_extend` is true.
    """
    args = _kernel_args(
        rows,
        columns,
        samples_per_pixel,
        bits_allocated,
        byteorder,
        planar_configuration,
        bytes_per_sample,
        sign_extend,
    )
    rows, columns, samples_per_pixel, _, bytes_per_sample = args[:5]
    view = as_bytes_view(src)
    needed = rows * columns * samples_per_pixel * bytes_per_sample
    if view.nbytes < needed:
        raise ValueError(
            f"'src' holds {view.nbytes} bytes, but a frame of {rows} rows x "
            f"{columns} columns x {samples_per_pixel} samples x "
            f"{bytes_per_sample} bytes needs {needed}"
        )
    return rle.encode(view, *args)


def workspace(
    capacity: int = 1,
    *,
    rows: int,
    columns: int,
    samples_per_pixel: int,
    bits_allocated: int,
    byteorder: str = "<",
    planar_configuration: int = 0,
    bytes_per_sample: int | None = None,
    sign_extend: bool = False,
) -> rle.Workspace:
    """Check every parameter, then return a workspace that encodes up to
    `capacity` frames at a time like ``encode``, into buffers it keeps (one
    thread at a time)."""
    return rle.Workspace(
        *_kernel_args(
            rows,
            columns,
            samples_per_pixel,
            bits_allocated,
            byteorder,
            planar_configuration,
            bytes_per_sample,
            sign_extend,
        ),
        capacity=capacity,
    )


def _is_one(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    try:
        return operator.index(value) == 1
    except TypeError:
        return False


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
    rows = _positive("rows", rows, MAX_DIMENSION)
    columns = _positive("columns", columns, MAX_DIMENSION)
    view = as_bytes_view(src)
    pixels = rows * columns
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
    view = as_bytes_view(src)
    pixels = _positive("rows", rows, MAX_DIMENSION) * _positive(
        "columns", columns, MAX_DIMENSION
    )
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
    if _is_one(bits_allocated):
        src = unpack_single_bit(src, rows, columns, samples_per_pixel)
        bits_allocated = 8
    return encode(
        src,
        rows=rows,
        columns=columns,
        samples_per_pixel=samples_per_pixel,
        bits_allocated=bits_allocated,
        byteorder=byteorder,
        planar_configuration=planar_configuration,
    )
