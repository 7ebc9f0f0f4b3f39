"""Compress a DICOM file from its bytes, without pydicom: the byte route.

An Explicit VR Little Endian file is encoded the same way as RLE Lossless
datasets are (PS3.5 A.4, A.4.2), so the elements before and after the
Pixel Data are copied as they are. The C walker (csrc/dcm_walk.c) finds where the
File Meta Information ends, the top-level Image Pixel elements and the
Pixel Data; this module writes new File Meta Information (the Transfer
Syntax UID changes, so does its group length), the dataset up to the Pixel
Data with Planar Configuration 0 for colour, and then the encapsulated
Pixel Data, frames written as they are encoded, the Basic Offset Table
reserved first and filled in at the end. Group Length elements, retired
(PS3.5 7.2) but kept where the source has them, are recalculated as DCMTK
does: those before and after the Pixel Data when the file is planned, the
Pixel Data's own (7FE0,0000) once the encapsulated Pixel Data is written.

The source is read with ``pread`` into bounded buffers, not mapped: a file
that shrinks while it is read gives a short read, an error, not SIGBUS.
Memory holds a few jobs of frames per thread whatever the file's size.

An Implicit VR Little Endian file is the same but for its elements, which
``implicit`` rewrites as Explicit VR Little Endian before and after the
Pixel Data.

``plan`` returns a ``Fallback`` with its reason for anything it does not
handle; the caller then takes the pydicom route. What it accepts, the
output is what ``dicomrle.compress`` and ``pydicom.dcmwrite`` would make of
it: the same Pixel Data bytes, every other element the same value (but the
group lengths, which pydicom's writer leaves out).
"""

from __future__ import annotations

import os
import struct
import threading

from dicomrle.codec import rle
from dicomrle.codec.arrays import encode_in_order
from dicomrle.codec.jobs import plan_jobs

# Imported here, at start-up, not on the first file: a Cython module's
# initialisation swallows a KeyboardInterrupt raised while it runs.
from dicomrle.dicom import file_bytes, implicit, walk
from dicomrle.dicom import image_pixel as image_pixel_module
from dicomrle.dicom.encaps import FileEncapsulator
from dicomrle.dicom.file_bytes import Fallback, Plan, read_head, read_tail, text_value
from dicomrle.dicom.image_pixel import ImagePixel, walked_values

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dicomrle.dicom.file_bytes import Cancel

IMPLICIT = b"1.2.840.10008.1.2"
# Implicit VR elements are rewritten in Python: at most this many bytes of
# them before the Pixel Data, and as many after it.
IMPLICIT_LIMIT = 4 << 20
MAX_OFFSET = 0xFFFFFFFF
MAX_GROUP_LENGTH = 0xFFFFFFFF
UNDEFINED = 0xFFFFFFFF
# Bytes 2 to 7 of a Group Length element, (gggg,0000) UL of 4 bytes.
GROUP_LENGTH = b"\0\0UL\4\0"
# The buffers of all threads (see write) stay under this, unless one frame
# alone is larger: a thread needs room for at least one.
MEMORY_BUDGET = 192 << 20


def image_pixel(
    head: bytes, info: dict, *, encoding: bool = True
) -> tuple[ImagePixel, int | None] | Fallback:
    """The Image Pixel values of the walked `head`, read by the rules of
    every route, and where the value of a Planar Configuration of 1 is (or
    None); a Fallback where the byte routes do not take them."""
    try:
        image = image_pixel_module.read(walked_values(head, info), encoding=encoding)
    except ValueError as exc:
        return Fallback(str(exc))
    if image.bits_allocated == 1:
        return Fallback("single-bit data")
    planar_offset = None
    if image.samples > 1:
        if encoding and "PlanarConfiguration" not in info:
            return Fallback("colour without a Planar Configuration")
        if image.planar == 1:
            planar_offset = info["PlanarConfiguration"][1]
    return image, planar_offset


def plan(fd: int, size: int) -> Plan | Fallback:
    """Walk the file open as `fd`, of `size` bytes; return a Plan if the byte
    route can write it, else a Fallback saying why not."""
    read = read_head(fd, size)
    if isinstance(read, Fallback):
        return read
    head, status, info = read
    source = head
    if (
        status == walk.SYNTAX
        and text_value(head, info["TransferSyntaxUID"]) == IMPLICIT
    ):
        parts = _implicit_parts(fd, size, head, info)
        if isinstance(parts, Fallback):
            return parts
        head, info, tail = parts
    elif status != walk.OK:
        return Fallback(walk.message(status))
    else:
        walked = read_tail(fd, size, info["after_pixel"])
        if isinstance(walked, Fallback):
            return walked
        tail = walked
    for name in (
        "FileMetaInformationVersion",
        "MediaStorageSOPClassUID",
        "MediaStorageSOPInstanceUID",
        "ImplementationClassUID",
    ):
        if name not in info or info[name][2] == 0:
            return Fallback(f"the File Meta Information lacks {name}")
    for name in (
        "ExtendedOffsetTable",
        "ExtendedOffsetTableLengths",
        "FloatPixelData",
        "DoubleFloatPixelData",
    ):
        if name in info:
            return Fallback(f"the file has {name}")
    found = image_pixel(head, info)
    if isinstance(found, Fallback):
        return found
    image, planar_offset = found
    rows, columns, samples, bits, planar, frames = image[:6]
    pixel_header, pixel_offset, pixel_length, _ = info["PixelData"]
    needed = rows * columns * samples * bits // 8 * frames
    if pixel_length < needed:
        return Fallback("the Pixel Data is shorter than its frames")
    group_length_at = None
    rest = 0
    try:
        dataset, tail = _group_lengths(head, info["meta_end"], pixel_header, tail)
        if "PixelDataGroupLength" in info:
            group = info["PixelDataGroupLength"]
            group_length_at, rest = _pixel_data_group(group, pixel_header, tail)
    except ValueError as exc:
        return Fallback(f"group lengths: {exc}")
    if group_length_at is not None:
        bound = image.frame.encode_bound
        # The Pixel Data element, the offset tables, items and delimiters.
        most = rest + 12 + 16 * frames + 32 + frames * (8 + bound + 1) + 8
        if most > MAX_GROUP_LENGTH:
            # 4 bytes may not hold it: left out, as PS3.5 7.2 allows.
            at = group_length_at
            dataset = dataset[: at - 8] + dataset[at + 4 :]
            group_length_at = None
    return Plan(
        size=size,
        head=dataset,
        tail=tail,
        meta_end=info["meta_end"],
        pixel_header=len(dataset),
        pixel_offset=pixel_offset,
        planar=planar,
        planar_offset=planar_offset,
        rows=rows,
        columns=columns,
        samples=samples,
        bits_allocated=bits,
        frame=image.frame,
        frames=frames,
        pixels=source[pixel_offset : pixel_offset + needed]
        if pixel_offset + needed <= len(source)
        else None,
        group_length_at=group_length_at,
        group_length_rest=rest,
    )


def _group_lengths(
    head: bytes, meta_end: int, pixel_header: int, tail: bytes
) -> tuple[bytes, bytes]:
    """``head[:pixel_header]`` and `tail`, Explicit VR Little Endian, with
    their group lengths recalculated (that of the group cut at
    `pixel_header` to its bytes before it).

    Raises
    ------
    ValueError
        If the elements cannot be walked.
    """
    dataset = head[:pixel_header]
    if dataset.find(GROUP_LENGTH, meta_end) != -1:
        fixed = bytearray(dataset)
        _fix_groups(fixed, meta_end, pixel_header, False, 0)
        dataset = bytes(fixed)
    if GROUP_LENGTH in tail:
        fixed = bytearray(tail)
        _fix_groups(fixed, 0, len(fixed), False, 0)
        tail = bytes(fixed)
    return dataset, tail


def _pixel_data_group(
    value: tuple[int, int, int, str], pixel_header: int, tail: bytes
) -> tuple[int, int]:
    """Where the value of the (7FE0,0000) group length the walker found as
    `value` is, and the bytes of group 7FE0 before the Pixel Data element
    and after it, at the start of `tail`."""
    _, at, length, vr = value
    if vr != "UL" or length != 4:
        raise ValueError("(7FE0,0000) is not one UL value")
    pos = 0
    if tail[:2] == b"\xe0\x7f":
        data = bytearray(tail)
        while pos < len(data) and data[pos : pos + 2] == b"\xe0\x7f":
            pos = _element_end(data, pos, len(data), 0)
    return at, pixel_header - (at + 4) + pos


def _fix_groups(
    data: bytearray, pos: int, end: int, delimited: bool, depth: int
) -> int:
    """Recalculate the group lengths of the Explicit VR Little Endian
    elements of ``data[pos:end]``, or, if `delimited`, of those up to an
    item delimiter, and of the items of their sequences; return where they
    end (after the delimiter)."""
    group = -1
    length_at = None  # the value of the group's Group Length
    while True:
        if pos == end and not delimited:
            stop = pos
            break
        if end - pos < 8:
            raise ValueError("an element runs past the end of what holds it")
        number, element = struct.unpack_from("<HH", data, pos)
        if delimited and (number, element) == (0xFFFE, 0xE00D):
            stop = pos
            pos += 8
            break
        if number != group:
            _close_group(data, length_at, pos)
            group, length_at = number, None
        if element == 0 and data[pos + 2 : pos + 8] == GROUP_LENGTH:
            length_at = pos + 8
        pos = _element_end(data, pos, end, depth)
    _close_group(data, length_at, stop)
    return pos


def _close_group(data: bytearray, length_at: int | None, end: int) -> None:
    if length_at is not None:
        struct.pack_into("<I", data, length_at, end - length_at - 4)


def _element_end(data: bytearray, pos: int, end: int, depth: int) -> int:
    """Where the Explicit VR Little Endian element at `pos`, in what ends at
    `end`, ends; the group lengths in the items of a sequence are
    recalculated on the way."""
    if end - pos < 8:
        raise ValueError("an element runs past the end of what holds it")
    vr = bytes(data[pos + 4 : pos + 6])
    if vr in implicit.LONG_VRS:
        if end - pos < 12:
            raise ValueError("an element runs past the end of what holds it")
        length = struct.unpack_from("<I", data, pos + 8)[0]
        value = pos + 12
    else:
        length = struct.unpack_from("<H", data, pos + 6)[0]
        value = pos + 8
    if vr == b"SQ":
        return _items(data, value, length, end, depth + 2)
    if length == UNDEFINED:
        raise ValueError(f"undefined length on {vr.decode('latin-1')}")
    if length > end - value:
        raise ValueError("a value runs past the end of what holds it")
    return value + length


def _items(data: bytearray, pos: int, length: int, end: int, depth: int) -> int:
    """Walk the items of a sequence whose value of `length` bytes starts at
    `pos`; return where it ends."""
    if depth > implicit.MAX_DEPTH:
        raise ValueError(f"sequences nested deeper than {implicit.MAX_DEPTH // 2}")
    value_end = implicit.sequence_end(pos, length, end)
    delimited = value_end is None
    end = end if value_end is None else value_end
    while not (pos == end and not delimited):
        if end - pos < 8:
            raise ValueError("an item runs past the end of its sequence")
        tag, item_length = struct.unpack_from("<II", data, pos)
        if delimited and tag == 0xE0DDFFFE:
            return pos + 8
        if tag != 0xE000FFFE:
            raise ValueError("a sequence holds something but items")
        if item_length == UNDEFINED:
            pos = _fix_groups(data, pos + 8, end, True, depth)
        elif item_length > end - pos - 8:
            raise ValueError("an item runs past the end of its sequence")
        else:
            item_end = pos + 8 + item_length
            pos = _fix_groups(data, pos + 8, item_end, False, depth)
    return pos


def _implicit_parts(
    fd: int, size: int, head: bytes, info: dict
) -> tuple[bytes, dict, bytes] | Fallback:
    """For an Implicit VR Little Endian file whose first bytes `head` and
    File Meta Information `info` the walker gave: the file up to its Pixel
    Data and the elements after it, rewritten as Explicit VR Little Endian,
    and `info` for the rewritten head (the Pixel Data's value offset is
    the source's)."""
    meta_end = info["meta_end"]
    while True:
        try:
            before = implicit.Rewrite(head, meta_end, size, pixel_data_ends=True)
            break
        except implicit.NeedMore as more:
            available = min(size, max(more.need, 2 * len(head)))
            if available > IMPLICIT_LIMIT:
                return Fallback(
                    "more than 4 MiB of Implicit VR elements before the Pixel Data"
                )
            head = file_bytes.read_exactly(fd, available, 0)
        except implicit.Refused as exc:
            return Fallback(f"Implicit VR Little Endian: {exc}")
    assert before.pixel is not None
    pixel_offset, pixel_length = before.pixel
    after = pixel_offset + pixel_length
    if size - after > IMPLICIT_LIMIT:
        return Fallback("more than 4 MiB of Implicit VR elements after the Pixel Data")
    raw_tail = file_bytes.read_exactly(fd, size - after, after) if size > after else b""
    try:
        tail = implicit.Rewrite(
            raw_tail,
            0,
            len(raw_tail),
            pixel_data_ends=False,
            last_tag=implicit.PIXEL_DATA,
        ).out
    except implicit.Refused as exc:
        return Fallback(f"Implicit VR Little Endian, after the Pixel Data: {exc}")
    rewritten = head[:meta_end] + before.out
    found = {
        name: (header + meta_end, offset + meta_end, length, vr)
        for name, (header, offset, length, vr) in before.found.items()
    }
    pixel = (len(rewritten), pixel_offset, pixel_length, "OW")
    # The walker's info holds the File Meta Information's elements only: it
    # stopped at the transfer syntax.
    where = {"after_pixel": after, "PixelData": pixel}
    return rewritten, {**info, **found, **where}, bytes(tail)


def _prefix(p: Plan, bot: bytes, offsets: list[int] | None = None,
            lengths: list[int] | None = None, items: int = 0) -> bytes:  # fmt: skip
    """Everything before the first frame's item; `items` is the length of
    the frames' items, for the (7FE0,0000) group length."""
    dataset = bytearray(p.head[p.meta_end :])
    if p.planar_offset is not None:
        # PS3.5 G.2 note 2: 0 unless the IOD says otherwise, as other
        # encapsulated syntaxes have it; the segments are by plane all the same.
        struct.pack_into("<H", dataset, p.planar_offset - p.meta_end, 0)
    extended = b""
    if offsets is not None and lengths is not None:
        extended = file_bytes.element(
            0x7FE0, 1, b"OV", struct.pack(f"<{len(offsets)}Q", *offsets)
        ) + file_bytes.element(
            0x7FE0, 2, b"OV", struct.pack(f"<{len(lengths)}Q", *lengths)
        )
    if p.group_length_at is not None:
        length = _group_length(p, len(extended), len(bot), items)
        struct.pack_into("<I", dataset, p.group_length_at - p.meta_end, length)
    return b"".join(
        (
            p.head[:132],
            file_bytes.file_meta(p.head, p.meta_end),
            dataset,
            extended,
            struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OB", 0, 0xFFFFFFFF),
            file_bytes.ITEM.pack(0xFFFE, 0xE000, len(bot)),
            bot,
        )
    )


def _group_length(p: Plan, extended: int, bot: int, items: int) -> int:
    """The (7FE0,0000) group length with `extended` bytes of Extended Offset
    Table elements, a Basic Offset Table of `bot` bytes and `items` bytes of
    frame items: the Pixel Data element's header, its items and its
    sequence delimiter, and the rest of the group."""
    return p.group_length_rest + extended + 12 + 8 + bot + items + 8


def _group_length_offset(p: Plan) -> int:
    """Where the (7FE0,0000) group length's value is in the output."""
    assert p.group_length_at is not None
    meta = file_bytes.file_meta(p.head, p.meta_end)
    return 132 + len(meta) + p.group_length_at - p.meta_end


def write(
    p: Plan,
    src: int,
    dst: int,
    *,
    threads: int = 1,
    cancel: Cancel | None = None,
    extended: bool | None = None,
) -> int:
    """Write the RLE Lossless file of plan `p` from `src` to `dst` (two open
    file descriptors); return its size. `extended` as ``encapsulate_ext``
    of ``dicomrle.compress``. Raises Cancelled when `cancel` is set."""
    if p.frames == 1 and not extended:
        return _write_one_frame(p, src, dst, cancel)
    length = p.frame_length
    bound = p.frame.encode_bound
    # Whether the Basic Offset Table can hold the offsets is known only at
    # the end: the items are written after a prefix for it, and moved
    # behind one with the Extended Offset Table if it cannot.
    use_extended = bool(extended)
    bot = b"" if use_extended else bytes(4 * p.frames)
    prefix = _prefix(p, bot)
    start = len(prefix)
    file_bytes.write_parts(dst, [prefix], 0)

    threads, per_job = plan_jobs(length, p.frames, threads)
    # Two workspaces and a read buffer per thread: keep them in the budget.
    per_thread = per_job * (2 * bound + length)
    threads = max(1, min(threads, MEMORY_BUDGET // per_thread))
    buffers = threading.local()

    def source(first: int, count: int) -> bytearray:
        if cancel is not None and cancel.is_set():
            raise file_bytes.Cancelled("cancelled")
        buffer = getattr(buffers, "buffer", None)
        if buffer is None:
            buffer = buffers.buffer = file_bytes.kept_buffer("read", per_job * length)
        file_bytes.read_into(
            src, memoryview(buffer)[: count * length], p.pixel_offset + first * length
        )
        return buffer

    writer = FileEncapsulator(dst, start, p.frames, bound)
    encode_in_order(
        writer,
        p.frames,
        threads,
        per_job,
        p.frame,
        source,
    )
    data_length, offsets, lengths = writer.finish()
    del writer
    trailer = file_bytes.ITEM.pack(0xFFFE, 0xE0DD, 0) + p.tail
    if not use_extended and offsets[-1] > MAX_OFFSET:
        # The Basic Offset Table cannot hold the offsets: move the items
        # behind a prefix with the Extended Offset Table (PS3.3 C.7.6.3).
        new_prefix = _prefix(p, b"", offsets, lengths, data_length)
        _move(dst, start, data_length, len(new_prefix))
        file_bytes.write_parts(dst, [new_prefix], 0)
        end = len(new_prefix) + data_length
        file_bytes.write_parts(dst, [trailer], end)
        os.ftruncate(dst, end + len(trailer))
        return end + len(trailer)
    if use_extended:
        extended_prefix = _prefix(p, b"", offsets, lengths, data_length)
        shift = len(extended_prefix) - start
        _move(dst, start, data_length, start + shift)
        file_bytes.write_parts(dst, [extended_prefix], 0)
        start += shift
    else:
        file_bytes.write_parts(
            dst, [struct.pack(f"<{p.frames}I", *offsets)], start - 4 * p.frames
        )
        if p.group_length_at is not None:
            length = _group_length(p, 0, len(bot), data_length)
            file_bytes.write_parts(
                dst, [struct.pack("<I", length)], _group_length_offset(p)
            )
    file_bytes.write_parts(dst, [trailer], start + data_length)
    return start + data_length + len(trailer)


def _write_one_frame(p: Plan, src: int, dst: int, cancel: Cancel | None) -> int:
    """``write`` for a single frame: encoded from memory, then the whole file
    written at once (a tree of small images is mostly such files)."""
    if cancel is not None and cancel.is_set():
        raise file_bytes.Cancelled("cancelled")
    length = p.frame_length
    data: bytes | bytearray
    if p.pixels is not None:
        data = p.pixels
    else:
        data = file_bytes.kept_buffer("read", length)
        file_bytes.read_into(src, memoryview(data)[:length], p.pixel_offset)
    space = rle.Workspace(p.frame)
    (size,) = space.encode(data, 1)
    pad = b"\0" * (size % 2)
    with memoryview(space) as frame:
        parts: list[bytes | memoryview] = [
            # The Basic Offset Table: offset 0.
            _prefix(p, bytes(4), items=8 + size + len(pad)),
            file_bytes.ITEM.pack(0xFFFE, 0xE000, size + len(pad)),
            frame,
            pad,
            file_bytes.ITEM.pack(0xFFFE, 0xE0DD, 0) + p.tail,
        ]
        return file_bytes.write_parts(dst, parts, 0)


def _move(fd: int, start: int, length: int, to: int) -> None:
    """Move bytes start .. start + length - 1 of `fd` to `to` (> start),
    last chunk first, in bounded chunks."""
    chunk = 8 << 20
    end = length
    while end > 0:
        begin = max(0, end - chunk)
        data = file_bytes.read_exactly(fd, end - begin, start + begin)
        file_bytes.write_parts(fd, [data], to + begin)
        end = begin
