"""The Image Pixel values (PS3.3 C.7.6.3) of a dataset or of a walked file,
read by one set of rules: what RLE Lossless can hold (PS3.5 8.2.2, Annex G)."""

from __future__ import annotations

from collections import namedtuple

from dicomrle.codec.frame import check_single_bit
from dicomrle.codec.rle import Frame

TYPE_CHECKING = False  # typing is slow to import: the command starts without it
if TYPE_CHECKING:
    from collections.abc import Callable

RLE_LOSSLESS = "1.2.840.10008.1.2.5"
# PS3.5 8.2.2: RLE Lossless keeps every sample of every pixel; subsampled
# YBR data cannot be stored as it stands.
SUBSAMPLED = ("YBR_FULL_422", "YBR_PARTIAL_422", "YBR_PARTIAL_420")
# PS3.5 Table 8.2.2-1: single-bit RLE Lossless is for these only.
SINGLE_BIT_PHOTOMETRIC = ("MONOCHROME1", "MONOCHROME2")
REQUIRED = ("Rows", "Columns", "BitsAllocated")
# The Image Pixel elements of VR US, as the walker finds them.
US_ELEMENTS = frozenset(
    ("Rows", "Columns", "BitsAllocated", "SamplesPerPixel", "PlanarConfiguration")
)


# A named tuple, not a dataclass: dataclasses takes longer to import than
# the command takes to start.
class ImagePixel(
    namedtuple(
        "ImagePixel",
        [
            "rows",
            "columns",
            "samples",
            "bits_allocated",
            "planar",  # 0 or 1 (always 0 with one sample, or when decoding)
            "frames",
            "photometric",
            # The codec's description of one frame as the kernel takes it:
            # a single-bit pixel is one byte (PS3.5 G.2).
            "frame",
        ],
    )
):
    """The Image Pixel values, checked."""

    __slots__ = ()

    @property
    def stored_length(self) -> int:
        """The bytes the native Pixel Data holds for every frame."""
        samples = self.rows * self.columns * self.samples * self.frames
        return -(-samples * self.bits_allocated // 8)


def integer(
    get: Callable[[str], object], keyword: str, default: int | None = None
) -> int:
    """The value `get` gives for `keyword` as an int; `default` if it is
    absent or empty, else ValueError."""
    value = get(keyword)
    if value is None or value == "":
        if default is None:
            raise ValueError(f"the dataset lacks {keyword}")
        return default
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ValueError(f"{keyword} must be an integer, not {value!r}") from None


def read(get: Callable[[str], object], *, encoding: bool) -> ImagePixel:
    """The Image Pixel values `get` gives by keyword (None when absent).

    `encoding`: for a source to encode, whose Photometric Interpretation
    and Planar Configuration matter; a frame to decode is described by its
    sizes only.

    Raises
    ------
    ValueError
        If an element is missing or out of range, or describes data RLE
        Lossless cannot hold.
    """
    missing = [k for k in REQUIRED if get(k) in (None, "")]
    if missing:
        raise ValueError(f"the dataset lacks {', '.join(missing)}")
    photometric = str(get("PhotometricInterpretation") or "")
    if encoding and photometric in SUBSAMPLED:
        raise ValueError(
            f"Photometric Interpretation {photometric} is subsampled; RLE "
            "Lossless needs every sample (convert it to YBR_FULL first)"
        )
    rows, columns = integer(get, "Rows"), integer(get, "Columns")
    samples = integer(get, "SamplesPerPixel", 1)
    bits = integer(get, "BitsAllocated")
    frames = integer(get, "NumberOfFrames", 1)
    if frames < 1:
        raise ValueError(f"Number of Frames must be at least 1, not {frames}")
    planar = integer(get, "PlanarConfiguration", 0) if encoding and samples > 1 else 0
    if bits == 1:
        check_single_bit(samples)
        if encoding and photometric and photometric not in SINGLE_BIT_PHOTOMETRIC:
            raise ValueError(
                "RLE Lossless with Bits Allocated 1 is for MONOCHROME1 and "
                f"MONOCHROME2, not {photometric} (PS3.5 Table 8.2.2-1)"
            )
    frame = Frame(
        rows, columns, samples, 8 if bits == 1 else bits, planar_configuration=planar
    )
    return ImagePixel(rows, columns, samples, bits, planar, frames, photometric, frame)


def walked_values(head: bytes, info: dict) -> Callable[[str], object]:
    """``get`` for :func:`read` from the walker's `info` about `head`: a US
    element must hold one value, text is stripped of its padding."""

    def get(keyword: str) -> object:
        found = info.get(keyword)
        if found is None:
            return None
        _, offset, length, vr = found
        value = head[offset : offset + length]
        if keyword in US_ELEMENTS:
            if vr != "US" or length != 2:
                raise ValueError(f"{keyword} is not a single US value")
            return int.from_bytes(value, "little")
        return value.strip(b" \0").decode("ascii", "replace")

    return get
