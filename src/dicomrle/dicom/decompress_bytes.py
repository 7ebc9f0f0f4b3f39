"""Decompress an RLE Lossless file from its bytes, without pydicom: the
byte route in the other direction.

The C walker finds the encapsulated Pixel Data; its items are read from
their 8-byte headers (every length bounded by the file), one fragment per
frame (or any number for a single frame), the Basic Offset Table checked
against them. The output is Explicit VR Little Endian: new File Meta
Information, the dataset's bytes up to the Pixel Data as they are (Planar
Configuration set to 0 for colour: the decoded frames are interleaved),
native Pixel Data of OB (8 bits) or OW, then the elements after it. Frames
are read and decoded in bounded batches, on threads without the GIL,
straight into a buffer written at its place in the output: memory stays
bounded whatever the file's size.

``plan`` returns a ``Fallback`` with its reason for anything else (single
bit, Extended Offset Table, group lengths, more fragments than frames,
anything malformed); the file then takes the pydicom route. What it
accepts, the Pixel Data is byte for byte what ``dicomrle.decompress``
gives.
"""

from __future__ import annotations

import struct
import threading

from dicomrle.codec import rle
from dicomrle.codec.jobs import run_all
from dicomrle.codec.rle import Frame
from dicomrle.dicom import file_bytes, walk
from dicomrle.dicom.compress_bytes import image_pixel
from dicomrle.dicom.file_bytes import Fallback, Plan, read_head, read_tail, text_value
from dicomrle.dicom.image_pixel import RLE_LOSSLESS as RLE_LOSSLESS_UID

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dicomrle.dicom.file_bytes import Cancel

RLE_LOSSLESS = RLE_LOSSLESS_UID.encode()
EXPLICIT_LITTLE = b"1.2.840.10008.1.2.1\0"
# A batch of frames: at most this many bytes of fragments read, and of
# frames decoded, at once (one frame at least).
BATCH_IN = 32 << 20
BATCH_OUT = 64 << 20
MAX_VALUE = 0xFFFFFFFE  # the largest even defined length


class Invalid:
    """The file is RLE Lossless but its frames cannot be told apart: its
    frame count or offset table disagrees with its fragments. No route
    takes it."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def plan(fd: int, size: int) -> Plan | Fallback | Invalid:
    """Walk the RLE Lossless file open as `fd`, of `size` bytes; return a
    Plan if the byte route can decompress it, else a Fallback saying why
    not."""
    read = read_head(fd, size, rle=True)
    if isinstance(read, Fallback):
        return read
    head, status, info = read
    if status != walk.ENCAPSULATED:
        return Fallback(walk.message(status))
    if text_value(head, info.get("TransferSyntaxUID")) != RLE_LOSSLESS:
        return Fallback("the transfer syntax is not RLE Lossless")
    for name in ("ExtendedOffsetTable", "ExtendedOffsetTableLengths"):
        if name in info:
            return Fallback(f"the file has {name}")
    group_length = info.get("PixelDataGroupLength")
    if group_length is not None and (group_length[2], group_length[3]) != (4, "UL"):
        return Fallback("(7FE0,0000) is not a single UL value")
    found = image_pixel(head, info)
    if isinstance(found, Fallback):
        return found
    image, planar_offset = found
    rows, columns, samples, bits, _, count = image[:6]
    total = rows * columns * samples * bits // 8 * count
    if total + total % 2 > MAX_VALUE:
        return Fallback("the decoded Pixel Data would not fit a defined length")
    items = _items(fd, head, size, info["PixelData"][1], count)
    if isinstance(items, (Fallback, Invalid)):
        return items
    fragments, after = items
    if count == 1:
        frames = [fragments]
    else:
        frames = [[fragment] for fragment in fragments]
    tail = read_tail(fd, size, after)
    if isinstance(tail, Fallback):
        return tail
    if group_length is not None and tail[:2] == b"\xe0\x7f":
        return Fallback("elements of group 7FE0 after the Pixel Data")
    return Plan(
        size=size,
        head=head[: info["PixelData"][0]],
        tail=tail,
        meta_end=info["meta_end"],
        planar_offset=planar_offset,
        rows=rows,
        columns=columns,
        samples=samples,
        bits_allocated=bits,
        frame=Frame(rows, columns, samples, bits),
        frames=frames,
        group_length_at=None if group_length is None else group_length[1],
    )


def _items(
    fd: int, head: bytes, size: int, position: int, count: int
) -> tuple[list[tuple[int, int]], int] | Fallback | Invalid:
    """The fragments of the encapsulated value at `position`, one a frame
    (any number for a single frame), and where the elements after its
    Sequence Delimitation Item start. A Basic Offset Table must be empty
    or point at them; several fragments a frame, which only such a table
    can tell apart, are left to the pydicom route."""

    def header(at: int) -> tuple[int, int]:
        data = (
            head[at : at + 8]
            if at + 8 <= len(head)
            else file_bytes.read_exactly(fd, 8, at)
        )
        group, element, length = file_bytes.ITEM.unpack(data)
        return group << 16 | element, length

    starts: list[int] = []  # of the item headers: the table's first
    lengths: list[int] = []
    while True:
        if size - position < 8:
            return Fallback("the Pixel Data has no Sequence Delimitation Item")
        tag, length = header(position)
        if tag == 0xFFFEE0DD:
            if length:
                return Fallback("a Sequence Delimitation Item with a length")
            position += 8
            break
        if tag != 0xFFFEE000 or length == 0xFFFFFFFF or length > size - position - 8:
            return Fallback(f"a malformed item in the Pixel Data (at byte {position})")
        if len(starts) > max(count, 4096) + 1:
            return Fallback(f"more than {max(count, 4096)} fragments")
        starts.append(position)
        lengths.append(length)
        position += 8 + length
    fragments = [(at + 8, n) for at, n in zip(starts[1:], lengths[1:], strict=True)]
    if not fragments:
        return Invalid("the Pixel Data holds no fragment")
    table_length = lengths[0]
    if table_length not in (0, 4 * count):
        return Invalid(
            f"a Basic Offset Table of {table_length} bytes for {count} frames"
        )
    offsets = [at - starts[1] for at in starts[1:]]
    if table_length:
        table = list(
            struct.unpack(
                f"<{count}L", file_bytes.read_exactly(fd, table_length, starts[0] + 8)
            )
        )
        if count == 1 or table == offsets:
            return fragments, position
        if len(fragments) > count and set(table) <= set(offsets) and table[0] == 0:
            if table == sorted(table):
                return Fallback("several fragments a frame")
        return Invalid("the Basic Offset Table does not point at the fragments")
    if count > 1 and len(fragments) != count:
        return Invalid(
            f"Number of Frames is {count}, but the Pixel Data holds "
            f"{len(fragments)} fragments and no offset table"
        )
    return fragments, position


def _header(p: Plan) -> bytes:
    """Everything before the first decoded byte."""
    dataset = bytearray(p.head[p.meta_end :])
    if p.planar_offset is not None:
        struct.pack_into("<H", dataset, p.planar_offset - p.meta_end, 0)
    total = p.frame_length * len(p.frames)
    if p.group_length_at is not None:
        # Its group: the Pixel Data alone, now native (elements of group 7FE0
        # before it were refused, or are the Extended Offset Table, refused).
        at = p.group_length_at - p.meta_end
        struct.pack_into("<L", dataset, at, 12 + total + total % 2)
    vr = b"OB" if p.bits_allocated <= 8 else b"OW"
    return b"".join(
        (
            p.head[:132],
            file_bytes.file_meta(p.head, p.meta_end, EXPLICIT_LITTLE),
            dataset,
            struct.pack("<HH2sHI", 0x7FE0, 0x0010, vr, 0, total + total % 2),
        )
    )


def _batches(p: Plan) -> list[tuple[int, int, int, int]]:
    """The frames in batches: (first, last + 1, start, end), the items of
    frames first .. last in bytes start .. end of the file, at most
    BATCH_IN of them and BATCH_OUT of frames decoded (one frame at least)."""
    length = p.frame_length
    out = []
    first = 0
    while first < len(p.frames):
        start = p.frames[first][0][0]
        last, end = first, start
        while last < len(p.frames):
            fragment = p.frames[last][-1]
            stop = fragment[0] + fragment[1]
            too_much = (
                stop - start > BATCH_IN or (last + 1 - first) * length > BATCH_OUT
            )
            if last > first and too_much:
                break
            end = stop
            last += 1
        out.append((first, last, start, end))
        first = last
    return out


def write(
    p: Plan, src: int, dst: int, *, threads: int = 1, cancel: Cancel | None = None
) -> int:
    """Write the Explicit VR Little Endian file of plan `p` from `src` to
    `dst` (two open file descriptors); return its size. Raises ValueError
    for a frame that does not decode, Cancelled when `cancel` is set."""
    length = p.frame_length
    header = _header(p)
    position = file_bytes.write_parts(dst, [header], 0)
    batches = _batches(p)
    # One buffer for the items, two for the frames: a batch is written by a
    # thread while the next is decoded.
    source = memoryview(
        file_bytes.kept_buffer("source", max(e - s for _, _, s, e in batches))
    )
    most = max(b - a for a, b, _, _ in batches) * length
    frames = [
        memoryview(file_bytes.kept_buffer(name, most)) for name in ("frames", "frames2")
    ]
    writing: list[threading.Thread] = [threading.Thread()] * 2
    failed: list[BaseException] = []

    def write_out(out: memoryview, at: int) -> None:
        try:
            file_bytes.write_parts(dst, [out], at)
        except BaseException as exc:  # noqa: BLE001 - raised below
            failed.append(exc)

    try:
        for k, (first, last, start, end) in enumerate(batches):
            if cancel is not None and cancel.is_set():
                raise file_bytes.Cancelled("cancelled")
            file_bytes.read_into(src, source[: end - start], start)
            if writing[k % 2].ident is not None:
                writing[k % 2].join()  # its buffer is free again
            if failed:
                raise failed[0]
            out = frames[k % 2][: (last - first) * length]
            _decode_batch(p, source, start, out, range(first, last), threads)
            if len(batches) == 1:
                write_out(out, position)
            else:
                writing[k % 2] = threading.Thread(
                    target=write_out, args=(out, position)
                )
                writing[k % 2].start()
            position += len(out)
    finally:
        for thread in writing:
            if thread.ident is not None:
                thread.join()
    if failed:
        raise failed[0]
    pad = b"\0" * ((length * len(p.frames)) % 2)
    return position + file_bytes.write_parts(dst, [pad, p.tail], position)


def _decode_batch(
    p: Plan,
    source: memoryview,
    start: int,
    out: memoryview,
    frames: range,
    threads: int,
) -> None:
    """Decode `frames` of `p`, whose items `source` holds from file offset
    `start` on, one after the other into `out`, on `threads` threads."""
    length = p.frame_length

    def decode(j: int) -> None:
        k = frames[j]
        pieces = [source[at - start : at - start + n] for at, n in p.frames[k]]
        frame = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        try:
            rle.decode_into(p.frame, frame, out[j * length : (j + 1) * length])
        except ValueError as exc:
            raise ValueError(f"frame {k}: {exc}") from None

    run_all(decode, len(frames), min(threads, len(frames)))
