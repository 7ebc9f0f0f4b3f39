"""Check a copy we wrote, from its bytes on disk, before it gets its name:
the strict element walker (csrc/dcm_walk.c) over every element before and
after the Pixel Data, and, for RLE Lossless, the items of the Pixel Data,
the offset tables and the Pixel Data group length. Whatever route wrote
the copy (the byte route, or pydicom's writer after its lenient reader),
a copy that fails here is not kept: strict readers (DCMTK) refuse what the
walker refuses.

The copy is read with ``pread``, a small file at once, a large one as its
header, its item headers and the elements after its Pixel Data: no map
(a page fault per page and per file) and nothing larger than the elements
around the Pixel Data held in memory.
"""

from __future__ import annotations

import os
import struct

from dicomrle.dicom import image_pixel, walk

RLE_LOSSLESS = image_pixel.RLE_LOSSLESS.encode()
EXPLICIT_LITTLE = b"1.2.840.10008.1.2.1"
# A copy this small is read at once.
WHOLE = 1 << 20
# The elements before, and after, the Pixel Data: at most this many bytes.
ELEMENTS_LIMIT = 64 << 20
ITEM = struct.Struct("<HHI")
# The Image Pixel elements of Type 1 (PS3.3 C.7.6.3) that the walker finds:
# a decoder cannot read the Pixel Data without them (DCMTK stops with "Tag
# not found").
REQUIRED = (
    ("SamplesPerPixel", "Samples per Pixel"),
    ("PhotometricInterpretation", "Photometric Interpretation"),
    ("Rows", "Rows"),
    ("Columns", "Columns"),
    ("BitsAllocated", "Bits Allocated"),
    ("BitsStored", "Bits Stored"),
    ("PixelRepresentation", "Pixel Representation"),
)


class _Copy:
    """The bytes of the open file `fd` of `size` bytes, the first of them
    kept in memory."""

    def __init__(self, fd: int, size: int) -> None:
        self.fd = fd
        self.size = size
        self.first = b""
        self.first = self.read(0, size if size <= WHOLE else 1 << 16)

    def read(self, offset: int, length: int) -> bytes:
        if offset + length <= len(self.first):
            return self.first[offset : offset + length]
        data = os.pread(self.fd, length, offset)
        while len(data) < length:
            more = os.pread(self.fd, length - len(data), offset + len(data))
            if not more:
                raise OSError(f"the copy is shorter than {offset + length} bytes")
            data += more
        return data


def _value(head: bytes, info: dict, name: str) -> bytes:
    value = info.get(name)
    if value is None:
        return b""
    _, offset, length, _ = value
    return head[offset : offset + length].rstrip(b" \0")


def copy_problem(fd: int, size: int, *, encapsulated: bool) -> str | None:
    """What is wrong with the copy open as `fd` (`size` bytes), or None.

    `encapsulated`: the copy must be RLE Lossless, else Explicit VR Little
    Endian with native Pixel Data.
    """
    copy = _Copy(fd, size)
    head = copy.first
    while True:
        status, info = walk.walk_file(head, size, rle=encapsulated)
        if status != walk.NEED_MORE:
            break
        if info["need"] > ELEMENTS_LIMIT:
            return "more than 64 MiB of elements before the Pixel Data"
        head = copy.read(0, min(size, max(info["need"], 2 * len(head))))
    expected = walk.ENCAPSULATED if encapsulated else walk.OK
    if status != expected:
        where = info["error_offset"]
        return f"{walk.message(status)} (at byte {where})"
    for name, words in REQUIRED:
        if name not in info:
            return f"it lacks {words}, which the Image Pixel module requires"
    syntax = _value(head, info, "TransferSyntaxUID")
    if syntax != (RLE_LOSSLESS if encapsulated else EXPLICIT_LITTLE):
        return f"the transfer syntax is {syntax.decode('ascii', 'replace')}"
    if encapsulated:
        problem, after = _items_problem(copy, head, info)
        if problem:
            return problem
    else:
        after = info["after_pixel"]
    if size - after > ELEMENTS_LIMIT:
        return "more than 64 MiB of elements after the Pixel Data"
    status, where = walk.walk_tail(copy.read(after, size - after))
    if status != walk.OK:
        return f"after the Pixel Data: {walk.message(status)} (at byte {after + where})"
    return None


def _items_problem(copy: _Copy, head: bytes, info: dict) -> tuple[str | None, int]:
    """Check the items of the RLE copy's Pixel Data: one Basic Offset Table,
    one fragment per frame, offset tables that point at them, a sequence
    delimiter, a right group length. Return the problem, or None and where
    the elements after the Pixel Data start."""
    number = _value(head, info, "NumberOfFrames") or b"1"
    if not number.isdigit() or int(number) < 1:
        return f"Number of Frames is {number!r}", 0
    frames = int(number)
    size = copy.size
    _, position, _, vr = info["PixelData"]
    if vr != "OB":
        return f"the encapsulated Pixel Data has VR {vr}", 0
    starts: list[int] = []
    lengths: list[int] = []
    while True:
        if size - position < 8:
            return "the Pixel Data has no Sequence Delimitation Item", 0
        group, element, length = ITEM.unpack(copy.read(position, 8))
        tag = group << 16 | element
        if tag == 0xFFFEE0DD:
            if length:
                return "a Sequence Delimitation Item with a length", 0
            position += 8
            break
        if tag != 0xFFFEE000 or length == 0xFFFFFFFF or length % 2:
            return f"a malformed item in the Pixel Data (at byte {position})", 0
        if length > size - position - 8:
            return f"an item runs past the end of the file (at byte {position})", 0
        if len(starts) > frames:
            return f"more fragments than the {frames} frames", 0
        starts.append(position + 8)
        lengths.append(length)
        position += 8 + length
    if len(starts) != frames + 1:
        return f"{len(starts) - 1} fragments for {frames} frames", 0
    table_length = lengths[0]
    fragments, sizes = starts[1:], lengths[1:]
    offsets = [start - fragments[0] for start in fragments]
    if table_length:
        if table_length != 4 * frames:
            return (
                f"a Basic Offset Table of {table_length} bytes for {frames} frames",
                0,
            )
        table = struct.unpack(f"<{frames}L", copy.read(starts[0], table_length))
        if list(table) != offsets:
            return "the Basic Offset Table does not point at the fragments", 0
    extended = []
    for name in ("ExtendedOffsetTable", "ExtendedOffsetTableLengths"):
        if name in info:
            _, at, length, _ = info[name]
            if length != 8 * frames:
                return f"{name} of {length} bytes for {frames} frames", 0
            extended.append(list(struct.unpack_from(f"<{frames}Q", head, at)))
    if extended and (len(extended) != 2 or extended != [offsets, sizes]):
        return "the Extended Offset Table does not point at the fragments", 0
    if "PixelDataGroupLength" in info:
        group_header, at, length, _ = info["PixelDataGroupLength"]
        tail_tag = copy.read(position, 2) if position + 2 <= size else b""
        stated = struct.unpack_from("<L", head, at)[0] if length == 4 else None
        # Elements of group 7FE0 after the Pixel Data are not summed: then
        # the length is not checked.
        if tail_tag != b"\xe0\x7f" and stated != position - (group_header + 12):
            return f"a stale Pixel Data group length ({stated})", 0
    return None, position
