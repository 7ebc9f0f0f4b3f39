"""Find the frames of an encapsulated Pixel Data value (PS3.5 A.4) without
copying them: a parser of untrusted bytes, every length checked against
what is really there."""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

ITEM = b"\xfe\xff\x00\xe0"  # (FFFE,E000) Item, little-endian
SEQUENCE_END = b"\xfe\xff\xdd\xe0"  # (FFFE,E0DD) Sequence Delimitation Item


class Fragment:
    """Where one fragment's bytes are in the value (after its item header)."""

    __slots__ = ("length", "start")

    def __init__(self, start: int, length: int) -> None:
        self.start = start
        self.length = length


def fragments(value: memoryview) -> tuple[memoryview, list[Fragment]]:
    """Return the Basic Offset Table and the fragments of `value`.

    Raises
    ------
    ValueError
        If `value` is not a sequence of items that fit in it.
    """
    items: list[Fragment] = []
    position = 0
    size = value.nbytes
    while position < size:
        if size - position < 8:
            raise ValueError(
                f"the encapsulated Pixel Data ends in {size - position} stray "
                f"byte(s) at offset {position}, too few for an item header"
            )
        tag = bytes(value[position : position + 4])
        (length,) = struct.unpack_from("<L", value, position + 4)
        if tag == SEQUENCE_END:
            break
        if tag != ITEM:
            raise ValueError(
                f"the encapsulated Pixel Data has {tag.hex(' ')} at offset "
                f"{position} where an item (FFFE,E000) must be"
            )
        position += 8
        if length > size - position:
            raise ValueError(
                f"item {len(items)} of the encapsulated Pixel Data claims "
                f"{length} bytes, but only {size - position} remain"
            )
        items.append(Fragment(position, length))
        position += length
    if not items:
        raise ValueError("the encapsulated Pixel Data holds no Basic Offset Table item")
    table = items.pop(0)
    return value[table.start : table.start + table.length], items


def _offsets(table: Sequence[int], what: str, items: list[Fragment]) -> list[int]:
    """The fragment index each offset of `table` points at."""
    starts = {}
    first = items[0].start - 8
    for index, item in enumerate(items):
        starts[item.start - 8 - first] = index
    found: list[int] = []
    for k, offset in enumerate(table):
        at = starts.get(offset)
        if at is None or (found and at <= found[-1]):
            raise ValueError(
                f"the {what} offset {offset} of frame {k} is not the start of a "
                "fragment after the previous frame's"
            )
        found.append(at)
    if found and found[0] != 0:
        raise ValueError(f"the {what} does not start at the first fragment")
    return found


def frame_views(
    value: object, frames: int, extended: bytes | None = None
) -> list[memoryview | bytes]:
    """Return each of the `frames` frames of the encapsulated `value`.

    One fragment per frame (PS3.5 A.4.2 for RLE) gives views of `value`.
    Frames of several fragments are joined (copies) as the Basic or
    Extended Offset Table, or for a single frame all fragments, say.

    Raises
    ------
    ValueError
        If the items do not fit in `value` or cannot be told apart into
        exactly `frames` frames.
    """
    from dicomrle.codec.frame import as_bytes_view

    data = as_bytes_view(value)
    table, items = fragments(data)
    if not items:
        raise ValueError("the encapsulated Pixel Data holds no fragments")
    if len(items) == frames:
        return [data[f.start : f.start + f.length] for f in items]
    if len(items) < frames:
        raise ValueError(
            f"Number of Frames is {frames}, but the encapsulated Pixel Data "
            f"holds only {len(items)} fragment(s)"
        )
    if frames == 1:
        return [b"".join(data[f.start : f.start + f.length] for f in items)]
    if extended:
        count = len(extended) // 8
        starts = _offsets(
            struct.unpack(f"<{count}Q", extended[: 8 * count]),
            "Extended Offset Table",
            items,
        )
    elif table.nbytes:
        count = table.nbytes // 4
        starts = _offsets(
            struct.unpack(f"<{count}L", table[: 4 * count]), "Basic Offset Table", items
        )
    else:
        raise ValueError(
            f"the encapsulated Pixel Data holds {len(items)} fragments for "
            f"{frames} frames and no offset table to tell which frame each "
            "belongs to"
        )
    if len(starts) != frames:
        raise ValueError(
            f"the offset table lists {len(starts)} frames, but Number of "
            f"Frames is {frames}"
        )
    ends = [*starts[1:], len(items)]
    return [
        b"".join(data[f.start : f.start + f.length] for f in items[a:b])
        for a, b in zip(starts, ends, strict=True)
    ]
