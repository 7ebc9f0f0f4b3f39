"""Implicit VR Little Endian elements rewritten as Explicit VR Little
Endian, for the byte route (PS3.5 7.1.2 and 7.1.3).

Each element gets the VR the data dictionary fixes for its tag
(``vr_table``), and its value is copied as it is: both transfer syntaxes
are little endian. Sequences and items are written with undefined lengths
and delimiters, since a header grows by 4 bytes with some VRs. "US or SS"
elements of the top-level dataset take their VR from Pixel Representation,
as pydicom reads them.

The bytes are untrusted: every length is checked against the bytes that
hold it, nesting is limited, and anything this module cannot rewrite
exactly (private elements, tags the table lacks, other VRs that depend on
the dataset, undefined lengths on values, odd lengths, values too long for
a 2-byte length, tags out of order) raises ``Refused`` with the reason; the
caller then takes the pydicom route.
"""

from __future__ import annotations

import struct

from dicomrle.dicom import vr_table

# VRs whose explicit header has a 4-byte length (PS3.5 Table 7.1-1).
LONG_VRS = frozenset(
    (b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR",
     b"UT", b"UV")
)  # fmt: skip
# Sequences and items open at once.
MAX_DEPTH = 64
UNDEFINED = 0xFFFFFFFF
ITEM, ITEM_END, SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
PIXEL_DATA = 0x7FE00010
PIXEL_REPRESENTATION = 0x00280103
# The top-level elements the byte route reads (dcm_walk.h's, after the
# File Meta Information), by tag.
WANTED = {
    0x00280002: "SamplesPerPixel",
    0x00280004: "PhotometricInterpretation",
    0x00280006: "PlanarConfiguration",
    0x00280008: "NumberOfFrames",
    0x00280010: "Rows",
    0x00280011: "Columns",
    0x00280100: "BitsAllocated",
    0x00280101: "BitsStored",
    0x00280103: "PixelRepresentation",
    0x7FE00000: "PixelDataGroupLength",
    0x7FE00001: "ExtendedOffsetTable",
    0x7FE00002: "ExtendedOffsetTableLengths",
    0x7FE00008: "FloatPixelData",
    0x7FE00009: "DoubleFloatPixelData",
}
HEADER = struct.Struct("<HHI")
SHORT = struct.Struct("<HH2sH")
LONG = struct.Struct("<HH2sHI")


def sequence_end(pos: int, length: int, limit: int) -> int | None:
    """Where the value of a sequence, `length` bytes from `pos`, ends; None
    for an undefined length. ValueError if it runs past `limit`."""
    if length == UNDEFINED:
        return None
    if length > limit - pos:
        raise ValueError("a sequence runs past the end of what holds it")
    return pos + length


class Refused(Exception):
    """The elements cannot be rewritten exactly; the message says why."""


class NeedMore(Exception):
    """The walk needs the bytes up to `need`, which the file has."""

    def __init__(self, need: int) -> None:
        super().__init__(need)
        self.need = need


_tables: tuple[dict[int, str], dict[int, dict[int, str]]] | None = None


def _load() -> tuple[dict[int, str], dict[int, dict[int, str]]]:
    """The VR table as dictionaries, built on first use (whole before it is
    shared, so that threads never see half of it)."""
    global _tables
    if _tables is None:
        vrs: dict[int, str] = {}
        for vr, tags in vr_table.TAGS.items():
            vrs.update(dict.fromkeys((int(t, 16) for t in tags.split()), vr))
        repeating = {
            group: {int(e, 16): vr for e, vr in (x.split(":") for x in entries.split())}
            for group, entries in vr_table.REPEATING.items()
        }
        _tables = vrs, repeating
    return _tables


def vr_of(tag: int) -> str | None:
    """The VR the data dictionary fixes for public `tag`, or None."""
    vrs, repeating = _load()
    vr = vrs.get(tag)
    if vr is None and tag & 0x0000FFFF == 0:
        return "UL"  # a group length
    if vr is None and (tag >> 24) in (0x50, 0x60, 0x7F):
        vr = repeating[(tag >> 16) & 0xFF00].get(tag & 0xFFFF)
    return vr


class Rewrite:
    """Rewrite the top-level elements of ``data[start:]`` (all but its
    first `start` bytes, which the caller has) into ``out``; the file has
    `size` bytes, of which `data` holds the first ``len(data)``.

    With ``pixel_data_ends=True`` the walk stops at the top-level Pixel
    Data and records it in ``pixel`` as (source offset of the value,
    length); the elements after it are rewritten by another Rewrite with
    ``pixel_data_ends=False``. ``found`` maps the names of WANTED elements
    to (header, offset, length, VR), offsets into ``out``.
    """

    def __init__(
        self,
        data: bytes,
        start: int,
        size: int,
        *,
        pixel_data_ends: bool,
        last_tag: int = -1,
    ) -> None:
        self.data = data
        self.size = size
        self.out = bytearray()
        self.found: dict[str, tuple[int, int, int, str]] = {}
        self.pixel: tuple[int, int] | None = None
        self.pixel_representation: int | None = None
        self._pixel_data_ends = pixel_data_ends
        self._last_tag = last_tag
        vr = data[start + 4 : start + 6]
        if pixel_data_ends and len(vr) == 2 and all(0x40 < c < 0x5B for c in vr):
            # As pydicom decides, which then reads the file as Explicit VR.
            raise Refused("the dataset is Explicit VR, not what the syntax says")
        self._dataset(start, size, False, 0)
        if pixel_data_ends and self.pixel is None:
            raise Refused("no top-level Pixel Data")

    def _header(self, pos: int, limit: int) -> tuple[int, int]:
        """The tag and length at `pos`, inside what ends at `limit`."""
        if limit - pos < 8:
            raise Refused("an element runs past the end of what holds it")
        if len(self.data) - pos < 8:
            raise NeedMore(pos + 8)
        group, element, length = HEADER.unpack_from(self.data, pos)
        return group << 16 | element, length

    def _value_end(self, pos: int, length: int, limit: int) -> int:
        """Where a value of `length` bytes at `pos` ends, if it fits in
        what ends at `limit`."""
        if length > limit - pos:
            raise Refused("a value runs past the end of what holds it")
        if pos + length > len(self.data):
            raise NeedMore(pos + length)
        return pos + length

    def _dataset(self, pos: int, limit: int, delimited: bool, depth: int) -> int:
        """Rewrite the elements from `pos` up to `limit`, or, if `delimited`,
        up to the item delimiter before `limit`; return where they end."""
        top = depth == 0
        last = self._last_tag if top else -1
        while True:
            if pos == limit and not delimited:
                return pos
            tag, length = self._header(pos, limit)
            if tag == ITEM_END and delimited:
                if length != 0:
                    raise Refused("an item delimiter with a length")
                return pos + 8
            if tag >> 16 == 0xFFFE:
                raise Refused("an item or delimiter out of place")
            if tag <= last:
                raise Refused("tags out of order")
            last = tag
            if tag >> 16 == 0x0002:
                raise Refused("a File Meta Information element in the dataset")
            if tag >> 16 & 1:
                raise Refused("private elements")
            if tag == PIXEL_DATA and top:
                if not self._pixel_data_ends:
                    raise Refused("a second Pixel Data")
                if length == UNDEFINED or length & 1:
                    raise Refused("Pixel Data of undefined or odd length")
                if length > limit - pos - 8:
                    raise Refused("the Pixel Data runs past the end of the file")
                self.pixel = (pos + 8, length)
                return pos + 8 + length
            vr = "OW" if tag == PIXEL_DATA else vr_of(tag)
            if vr is None:
                raise Refused(
                    f"({tag >> 16:04X},{tag & 0xFFFF:04X}), whose VR the byte "
                    "route does not know"
                )
            if vr == "US or SS":
                if not top or self.pixel_representation is None:
                    raise Refused("a US or SS element without Pixel Representation")
                vr = "SS" if self.pixel_representation else "US"
            if vr == "SQ":
                pos = self._sequence(tag, pos + 8, length, limit, depth)
                continue
            if length == UNDEFINED:
                raise Refused("undefined length on a value that is not a sequence")
            if length & 1:
                raise Refused("a value of odd length")
            value_end = self._value_end(pos + 8, length, limit)
            value = self.data[pos + 8 : value_end]
            header = len(self.out)
            code = vr.encode()
            if code in LONG_VRS:
                self.out += LONG.pack(tag >> 16, tag & 0xFFFF, code, 0, length)
            elif length <= 0xFFFF:
                self.out += SHORT.pack(tag >> 16, tag & 0xFFFF, code, length)
            else:
                raise Refused(f"a {vr} value longer than 65535 bytes")
            if top and tag in WANTED:
                self.found[WANTED[tag]] = (header, len(self.out), length, vr)
                if tag == PIXEL_REPRESENTATION and length == 2:
                    self.pixel_representation = int.from_bytes(value, "little")
            self.out += value
            pos = value_end

    def _sequence(self, tag: int, pos: int, length: int, limit: int, depth: int) -> int:
        """Rewrite the items of the sequence `tag` whose value starts at
        `pos`, inside what ends at `limit`; return where it ends."""
        if depth + 2 > MAX_DEPTH:
            raise Refused(f"sequences nested deeper than {MAX_DEPTH // 2}")
        try:
            end = sequence_end(pos, length, limit)
        except ValueError as exc:
            raise Refused(str(exc)) from None
        delimited = end is None
        limit = limit if end is None else end
        self.out += LONG.pack(tag >> 16, tag & 0xFFFF, b"SQ", 0, UNDEFINED)
        while True:
            if pos == limit and not delimited:
                break
            item, item_length = self._header(pos, limit)
            if item == SEQUENCE_END and delimited:
                if item_length != 0:
                    raise Refused("a sequence delimiter with a length")
                pos += 8
                break
            if item != ITEM:
                raise Refused("a sequence holds something but items")
            self.out += HEADER.pack(0xFFFE, 0xE000, UNDEFINED)
            if item_length == UNDEFINED:
                pos = self._dataset(pos + 8, limit, True, depth + 2)
            else:
                if item_length > limit - pos - 8:
                    raise Refused("an item runs past the end of its sequence")
                item_end = pos + 8 + item_length
                pos = self._dataset(pos + 8, item_end, False, depth + 2)
            self.out += HEADER.pack(0xFFFE, 0xE00D, 0)
        self.out += HEADER.pack(0xFFFE, 0xE0DD, 0)
        return pos
