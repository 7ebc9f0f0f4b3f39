"""What both byte routes (``compress_bytes``, ``decompress_bytes``) share:
reading a DICOM file's bytes with ``pread`` (a file that shrinks while it
is read gives a short read, an error, not SIGBUS), walking them up to and
after the Pixel Data, the walker's values, new File Meta Information,
writing with ``pwritev``, and the plan of a file.
"""

from __future__ import annotations

import os
import struct
import threading
from collections import namedtuple

from dicomrle.dicom import implicit, walk
from dicomrle.dicom.image_pixel import RLE_LOSSLESS as RLE_LOSSLESS_UID

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol

    class Cancel(Protocol):
        """Anything with is_set(): a thread's or a worker process's event."""

        def is_set(self) -> bool: ...


RLE_LOSSLESS = RLE_LOSSLESS_UID.encode() + b"\0"
# The first read of a file; more is read when the elements before the
# Pixel Data need it, up to HEADER_LIMIT.
FIRST_READ = 1 << 16
HEADER_LIMIT = 64 << 20
ITEM = struct.Struct("<HHI")
# Each thread keeps its buffers for the next file, up to this size: a
# fresh buffer costs a page fault per 4 KiB, more than reading into it.
KEPT_BUFFER = 16 << 20
_kept = threading.local()


# A named tuple, not a dataclass: dataclasses takes longer to import than
# the command takes to start.
class Plan(
    namedtuple(
        "Plan",
        [
            "size",
            "head",  # the file up to the Pixel Data element's header
            "tail",  # the elements after the Pixel Data
            "meta_end",
            "planar_offset",  # where to write 0 in Planar Configuration, or None
            "rows",
            "columns",
            "samples",
            "bits_allocated",
            # One frame as the kernel takes it (encoding) or gives it
            # (decoding: little-endian, by pixel).
            "frame",
            # The number of frames (compress), or each frame's fragments as
            # (offset in the file, length) pairs (decompress).
            "frames",
            # Where the value of the (7FE0,0000) group length is, or None.
            "group_length_at",
            # Compress only: where the Pixel Data's header and value are, the
            # source's Planar Configuration, the bytes of group 7FE0 but the
            # encapsulated Pixel Data and the Extended Offset Table, and the
            # frames when the reads of the header brought them in already.
            "pixel_header",
            "pixel_offset",
            "planar",
            "group_length_rest",
            "pixels",
        ],
        defaults=(0, 0, 0, 0, None),
    )
):
    """What a byte route needs to write one file."""

    __slots__ = ()

    @property
    def frame_length(self) -> int:
        return self.rows * self.columns * self.samples * self.bits_allocated // 8


class Cancelled(Exception):
    """The work was cancelled (an interrupt); nothing was left behind."""


class Fallback:
    """The byte route does not take this file, for `reason`."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Fallback) and other.reason == self.reason

    def __hash__(self) -> int:
        return hash(self.reason)

    def __repr__(self) -> str:
        return f"Fallback({self.reason!r})"


def read_exactly(fd: int, length: int, offset: int) -> bytes:
    """Exactly `length` bytes at `offset`, or OSError if the file is shorter."""
    data = os.pread(fd, length, offset)
    while len(data) < length:
        more = os.pread(fd, length - len(data), offset + len(data))
        if not more:
            at = offset + len(data)
            raise OSError(f"the input shrank while it was read (at byte {at})")
        data += more
    return data


def read_into(fd: int, view: memoryview, offset: int) -> None:
    """Fill `view` with the bytes of `fd` from `offset` on."""
    done = 0
    while done < len(view):
        got = os.preadv(fd, [view[done:]], offset + done)
        if got == 0:
            at = offset + done
            raise OSError(f"the input shrank while it was read (at byte {at})")
        done += got


def write_parts(fd: int, parts: list[bytes | memoryview], offset: int) -> int:
    """Write `parts` one after the other at `offset` of `fd`; return the
    number of bytes."""
    total = sum(len(part) for part in parts)
    views = [memoryview(part) for part in parts if len(part)]
    while views:
        done = os.pwritev(fd, views, offset)
        if done == 0:
            raise OSError(f"nothing was written at byte {offset}")
        offset += done
        while views and done >= len(views[0]):
            done -= len(views[0])
            views.pop(0)
        if views and done:
            views[0] = views[0][done:]
    return total


def kept_buffer(name: str, size: int) -> bytearray:
    """This thread's buffer `name`, of `size` bytes or more; kept for the
    next file when it is no larger than KEPT_BUFFER."""
    buffer: bytearray | None = getattr(_kept, name, None)
    if buffer is None or len(buffer) < size:
        buffer = bytearray(size)
        setattr(_kept, name, buffer if size <= KEPT_BUFFER else None)
    return buffer


def us_value(data: bytes, value: tuple[int, int, int, str] | None) -> int | None:
    """The single US value the walker found at `value` in `data`, or None.

    Raises
    ------
    ValueError
        If it is not a single US value.
    """
    if value is None:
        return None
    _, offset, length, vr = value
    if vr != "US" or length != 2:
        raise ValueError("not a single US value")
    return int.from_bytes(data[offset : offset + 2], "little")


def text_value(data: bytes, value: tuple[int, int, int, str] | None) -> bytes:
    """The value the walker found at `value` in `data`, padding stripped."""
    if value is None:
        return b""
    _, offset, length, _ = value
    return data[offset : offset + length].strip(b" \0")


def read_head(
    fd: int, size: int, *, rle: bool = False
) -> tuple[bytes, int, dict] | Fallback:
    """The first bytes of the file open as `fd`, as many as the walker needs
    to reach the Pixel Data, its status and what it found."""
    available = min(size, FIRST_READ)
    head = read_exactly(fd, available, 0)
    while True:
        status, info = walk.walk_file(head, size, rle=rle)
        if status != walk.NEED_MORE:
            return head, status, info
        available = min(size, max(info["need"], 2 * available))
        if available > HEADER_LIMIT:
            return Fallback("more than 64 MiB of elements before the Pixel Data")
        head = read_exactly(fd, available, 0)


def read_tail(fd: int, size: int, after: int) -> bytes | Fallback:
    """The elements after the Pixel Data, from `after` on, walked."""
    if size - after > HEADER_LIMIT:
        return Fallback("more than 64 MiB of elements after the Pixel Data")
    tail = read_exactly(fd, size - after, after) if size > after else b""
    status, _ = walk.walk_tail(tail)
    if status != walk.OK:
        return Fallback(f"after the Pixel Data: {walk.message(status)}")
    return tail


def element(group: int, number: int, vr: bytes, value: bytes) -> bytes:
    """The Explicit VR Little Endian element (`group`, `number`)."""
    if vr in implicit.LONG_VRS:
        return struct.pack("<HH2sHI", group, number, vr, 0, len(value)) + value
    return struct.pack("<HH2sH", group, number, vr, len(value)) + value


def file_meta(head: bytes, meta_end: int, syntax: bytes = RLE_LOSSLESS) -> bytes:
    """The File Meta Information of the output: the source's elements, with
    the Transfer Syntax UID `syntax` (RLE Lossless unless said, NUL-padded to
    an even length) and a new group length."""
    out = []
    pos = 132
    while pos < meta_end:  # walked and bounded by dcmwalk_file already
        _, number, vr = struct.unpack_from("<HH2s", head, pos)
        if vr in implicit.LONG_VRS:
            end = pos + 12 + struct.unpack_from("<I", head, pos + 8)[0]
        else:
            end = pos + 8 + struct.unpack_from("<H", head, pos + 6)[0]
        if number == 0x0010:
            out.append(element(2, 0x10, b"UI", syntax))
        elif number != 0x0000:
            out.append(head[pos:end])
        pos = end
    body = b"".join(out)
    return element(2, 0, b"UL", struct.pack("<I", len(body))) + body
