"""Malformed RLE Lossless frames, each with the verdict our decoder owes it.

A helper module (no tests here): ``variants()`` takes well-formed frames,
two encoded by ``dicomrle.encode_frame`` from small corpus images (16-bit
grey, 8-bit RGB) and one written by hand (8-bit grey, one segment), and
breaks each in named ways. Every ``Variant`` carries the frame, its
description and the policy's answer: accept with the exact pixels, or reject
with one of the decoder's errors ('header', 'segment_count', 'offset',
'short'; see /work/notes/decoder-interface.md).

The policy: accept what is unambiguous (a segment longer than its plane,
runs across row ends, the no-op byte -128, odd segments without their pad
byte, bytes after the last segment, non-zero unused offsets, a last literal
run cut by its segment's end after it has filled the plane); reject the
rest. The frame layout is PS3.5 G.4 and G.5; runs are PS3.5 G.3.

Every frame made here has an even length, as an encapsulated item must
(PS3.5 A.4): an odd one gets a 0x00, the pad byte PS3.5 G.3.1 allows.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import numpy as np

HEADER = 64
ERRORS = ("header", "segment_count", "offset", "short")


@dataclass(frozen=True)
class Frame:
    """A well-formed frame: its segments (without pad bytes) and pixels."""

    name: str
    segments: tuple[bytes, ...]
    rows: int
    columns: int
    samples: int
    bits: int
    pixels: np.ndarray = field(repr=False)  # (rows, columns, samples), unsigned

    @property
    def plane(self) -> int:
        return self.rows * self.columns

    def frame(self) -> bytes:
        return build(self.segments)


@dataclass(frozen=True)
class Variant:
    """A malformed frame and what our decoder must do with it."""

    name: str  # the malformation, e.g. 'longer'
    base: str  # the well-formed frame it was made from
    frame: bytes
    rows: int
    columns: int
    samples: int
    bits: int
    accept: bool
    pixels: np.ndarray | None = field(repr=False)  # the right answer if accept
    error: str | None  # one of ERRORS if not accept
    extra: bool  # accept, and some segment decodes longer than its plane
    note: str

    @property
    def id(self) -> str:
        return f"{self.name}[{self.base}]"

    def planar_bytes(self) -> bytes:
        """The expected pixels as the decoders' frame output: one plane per
        sample, little-endian samples."""
        assert self.pixels is not None
        dtype = np.dtype(f"<u{self.bits // 8}")
        return np.ascontiguousarray(
            self.pixels.transpose(2, 0, 1).astype(dtype)
        ).tobytes()


# --- runs (PS3.5 G.3.1) ---------------------------------------------------


def runs(segment: bytes) -> list[bytes]:
    """Split a well-formed segment into runs, each its header and data."""
    out, i = [], 0
    while i < len(segment):
        n = segment[i]
        size = 1 if n == 0x80 else (n + 2 if n < 0x80 else 2)
        out.append(segment[i : i + size])
        i += size
    return out


def run_length(run: bytes) -> int:
    """How many bytes a run decodes to."""
    n = run[0]
    return 0 if n == 0x80 else (n + 1 if n < 0x80 else 257 - n)


def decoded_length(segment: bytes) -> int:
    return sum(run_length(r) for r in runs(segment))


def pack(data: bytes) -> bytes:
    """PackBits over all of `data`, ignoring row ends: runs of 3 or more
    become replicate runs, the rest literal runs of at most 128 bytes."""
    out, i, literal = bytearray(), 0, bytearray()

    def flush() -> None:
        for k in range(0, len(literal), 128):
            chunk = literal[k : k + 128]
            out.append(len(chunk) - 1)
            out.extend(chunk)
        literal.clear()

    while i < len(data):
        j = i
        while j < len(data) and j - i < 128 and data[j] == data[i]:
            j += 1
        if j - i >= 3:
            flush()
            out += bytes([257 - (j - i), data[i]])
            i = j
        else:
            literal.append(data[i])
            i += 1
    flush()
    return bytes(out)


def make_odd(segment: bytes) -> bytes:
    """The same decoded bytes in a segment of odd length: split a literal run
    of two or more bytes in two (one byte more), or else spell an even
    replicate run as a literal run."""
    if len(segment) % 2:
        return segment
    parts = runs(segment)
    for k, r in enumerate(parts):
        if r[0] < 0x80 and len(r) >= 3:
            half = (len(r) - 1) // 2
            a, b = r[1 : 1 + half], r[1 + half :]
            parts[k] = bytes([len(a) - 1]) + a + bytes([len(b) - 1]) + b
            return b"".join(parts)
    for k, r in enumerate(parts):
        count = run_length(r)
        if r[0] > 0x80 and count % 2 == 0:
            parts[k] = bytes([count - 1]) + r[1:2] * count
            return b"".join(parts)
    raise ValueError("cannot make this segment odd")


# --- frame layout (PS3.5 G.4, G.5) ----------------------------------------


def header(count: int, offsets: list[int]) -> bytes:
    slots = (list(offsets) + [0] * 15)[:15]
    return struct.pack("<16I", count, *slots)


def even(frame: bytes) -> bytes:
    return frame + b"\x00" if len(frame) % 2 else frame


def build(segments: tuple[bytes, ...] | list[bytes], *, pad: bool = True) -> bytes:
    """A frame of `segments`; odd segments get a 0x00 pad byte unless `pad`
    is False (then only the frame as a whole is made even)."""
    stored = [s + b"\x00" if pad and len(s) % 2 else s for s in segments]
    offsets, at = [], HEADER
    for s in stored:
        offsets.append(at)
        at += len(s)
    return even(header(len(stored), offsets) + b"".join(stored))


def offsets_of(frame: bytes) -> list[int]:
    count = struct.unpack_from("<I", frame)[0]
    return list(struct.unpack_from(f"<{min(count, 15)}I", frame, 4))


def with_header(frame: bytes, count: int, offsets: list[int]) -> bytes:
    return header(count, offsets) + frame[HEADER:]


# --- the well-formed frames -----------------------------------------------


def _unpad(seg: bytes) -> bytes:
    if seg.endswith(b"\x00"):
        parts = runs(seg)
        if parts and parts[-1] == b"\x00":  # a literal header with no data: a pad
            return seg[:-1]
    return seg


def _from_image(name: str, path_name: str) -> Frame:
    import pydicom

    import dicomrle

    from .corpus import find

    ds = pydicom.dcmread(find(path_name))
    rows, columns = ds.Rows, ds.Columns
    samples, bits = ds.SamplesPerPixel, ds.BitsAllocated
    dtype = np.dtype(f"<u{bits // 8}")
    pixels = ds.pixel_array.view(dtype.newbyteorder("=")).reshape(
        rows, columns, samples
    )
    frame = dicomrle.encode_frame(
        np.ascontiguousarray(pixels.astype(dtype)).tobytes(),
        rows=rows,
        columns=columns,
        samples_per_pixel=samples,
        bits_allocated=bits,
    )
    segments = tuple(_unpad(s) for s in _split(frame))
    return Frame(name, segments, rows, columns, samples, bits, pixels.copy())


def _split(frame: bytes) -> list[bytes]:
    offsets = [*offsets_of(frame), len(frame)]
    return [frame[a:b] for a, b in itertools.pairwise(offsets)]


def hand_frame() -> Frame:
    """An 8-bit grey frame of 4 rows of 16, one segment written by hand, each
    row encoded on its own (PS3.5 G.3.1). (python-gdcm 3.2 decodes no frame
    of fewer than 64 pixel bytes, so it is no smaller.)"""
    rows = [
        b"\x05" * 16,
        bytes(range(1, 17)),
        b"\x07\x07\x07\x09\x08\x07" + b"\x20" * 10,
        b"\x00\x00\x00\x00\xff\xff" + bytes(range(0x80, 0x8A)),
    ]
    segment = (
        b"\xf1\x05"  # replicate 16 x 05
        + b"\x0f"
        + bytes(range(1, 17))  # literal 16
        + b"\xfe\x07\x02\x09\x08\x07\xf7\x20"  # 3 x 07, literal 3, 10 x 20
        + b"\xfd\x00\xff\xff\x09"
        + bytes(range(0x80, 0x8A))  # 4 x 00, 2 x ff, literal
    )
    pixels = np.frombuffer(b"".join(rows), np.uint8).reshape(4, 16, 1)
    return Frame("hand8", (segment,), 4, 16, 1, 8, pixels.copy())


@cache
def frames() -> tuple[Frame, ...]:
    """The well-formed frames the variants are made from."""
    return (
        _from_image("grey16", "MR_small.dcm"),
        _from_image("rgb8", "SC_rgb.dcm"),
        hand_frame(),
    )


# --- the malformations ----------------------------------------------------

EXTRA_RUNS = b"\xf7\xab\x03\x01\x02\x03\x04"  # 10 x 0xab, then a literal of 4
TRAILING = b"\x7f" + bytes(range(128)) + b"\xde\xad\xbe"
UNUSED_OFFSET = 0x12345678


def _accept(
    f: Frame, name: str, frame: bytes, note: str, extra: bool = False
) -> Variant:
    return Variant(
        name,
        f.name,
        frame,
        f.rows,
        f.columns,
        f.samples,
        f.bits,
        True,
        f.pixels,
        None,
        extra,
        note,
    )


def _reject(f: Frame, name: str, frame: bytes, error: str, note: str) -> Variant:
    assert error in ERRORS
    return Variant(
        name,
        f.name,
        frame,
        f.rows,
        f.columns,
        f.samples,
        f.bits,
        False,
        None,
        error,
        False,
        note,
    )


def _last_literal_cut(segment: bytes) -> bytes:
    """`segment` with its tail spelt as literal runs, the last of which lost
    its last 2 or 3 bytes (so that the segment stays even, and no pad byte
    fills the gap): a literal header claiming bytes the plane needs and the
    segment does not hold."""
    parts, kept, size = runs(segment), [], 0
    total = decoded_length(segment)
    for r in parts:
        if size + run_length(r) > total - 4:
            break
        kept.append(r)
        size += run_length(r)
    tail = b"".join(_expand(r) for r in parts[len(kept) :])  # 4 to 131 bytes
    chunks = (
        [tail[: len(tail) - 4], tail[len(tail) - 4 :]] if len(tail) > 128 else [tail]
    )
    literal = b"".join(bytes([len(c) - 1]) + c for c in chunks if c)
    body = b"".join(kept) + literal
    cut = 2 if len(body) % 2 == 0 else 3
    return body[:-cut]


def _literal_past_plane(segment: bytes) -> bytes:
    """`segment` with its last 4 to 125 decoded bytes spelt as one literal
    run whose header claims 3 bytes more: the bytes the plane needs are all
    there, and the missing ones would be past the plane."""
    parts, kept, size = runs(segment), [], 0
    total = decoded_length(segment)
    for r in parts:
        if size + run_length(r) > total - 4:
            break
        kept.append(r)
        size += run_length(r)
    tail = b"".join(_expand(r) for r in parts[len(kept) :])  # 4 to 131 bytes
    head, last = (tail[:-4], tail[-4:]) if len(tail) > 125 else (b"", tail)
    literal = b"".join(bytes([len(c) - 1]) + c for c in _chunks(head, 128))
    return b"".join(kept) + literal + bytes([len(last) + 2]) + last


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[k : k + size] for k in range(0, len(data), size)]


def _expand(run: bytes) -> bytes:
    n = run[0]
    return b"" if n == 0x80 else (run[1:] if n < 0x80 else run[1:2] * (257 - n))


def _drop_last_run(segment: bytes) -> tuple[bytes, int]:
    parts = runs(segment)
    return b"".join(parts[:-1]), run_length(parts[-1])


def _make(f: Frame) -> list[Variant]:
    segs = list(f.segments)
    n = len(segs)
    good = f.frame()
    offsets = offsets_of(good)
    out: list[Variant] = [
        _accept(f, "well-formed", good, "the frame itself, unchanged (a control)")
    ]

    seg0 = segs[0] + EXTRA_RUNS
    out.append(
        _accept(
            f,
            "longer",
            build([seg0, *segs[1:]]),
            f"segment 1 of {n} ends with {len(EXTRA_RUNS)} more bytes of runs, "
            f"{decoded_length(EXTRA_RUNS)} bytes past its plane",
            extra=True,
        )
    )

    short, lost = _drop_last_run(segs[0])
    out.append(
        _reject(
            f,
            "shorter",
            build([short, *segs[1:]]),
            "short",
            f"segment 1 lost its last run: {lost} bytes short of its plane",
        )
    )

    crossing = [pack(_plane(f, k)) for k in range(n)]
    out.append(
        _accept(
            f,
            "row-crossing",
            build(crossing),
            "every segment re-encoded as one stream, runs crossing row ends",
        )
    )

    noop = [b"\x80" + b"\x80".join(runs(s)[:2]) + b"".join(runs(s)[2:]) for s in segs]
    out.append(
        _accept(
            f,
            "noop-0x80",
            build(noop),
            "a 0x80 byte before the first run and after it, in every segment",
        )
    )

    odd = [make_odd(s) for s in segs]
    out.append(
        _accept(
            f,
            "odd-unpadded",
            build(odd, pad=False),
            "every segment of odd length, no pad byte; offsets follow "
            "(GDCM writes these)",
        )
    )

    out.append(
        _accept(
            f,
            "trailing",
            even(good + TRAILING),
            f"{len(TRAILING)} bytes after the last segment",
            extra=True,
        )
    )

    if n > 1:
        out.append(
            _reject(
                f,
                "count-low",
                with_header(good, n - 1, offsets[:-1]),
                "segment_count",
                f"header says {n - 1} segments, not {n}",
            )
        )
    split = offsets[-1] + len(segs[-1]) // 2
    out.append(
        _reject(
            f,
            "count-high",
            with_header(good, n + 1, [*offsets, split]),
            "segment_count",
            f"header says {n + 1} segments, not {n}; the extra offset "
            "points into the last segment",
        )
    )
    out.append(
        _reject(
            f,
            "count-zero",
            with_header(good, 0, offsets),
            "segment_count",
            "header says 0 segments; the offsets are right",
        )
    )
    out.append(
        _reject(
            f,
            "count-16",
            with_header(good, 16, offsets),
            "segment_count",
            "header says 16 segments (at most 15 fit)",
        )
    )

    past = [*offsets[:-1], len(good) + 100]
    out.append(
        _reject(
            f,
            "offset-past-end",
            with_header(good, n, past),
            "offset",
            f"the last segment's offset is {len(good) + 100}, past the "
            f"{len(good)}-byte frame",
        )
    )
    out.append(
        _reject(
            f,
            "offset-below-64",
            with_header(good, n, [48, *offsets[1:]]),
            "offset",
            "the first segment's offset is 48, inside the header",
        )
    )
    if n > 1:
        # The data of segments 1 and 2 swapped, the offsets pointing at
        # each: decodable, but the offsets do not increase.
        body = build([segs[1], segs[0], *segs[2:]])
        swapped = offsets_of(body)
        out.append(
            _reject(
                f,
                "offset-out-of-order",
                with_header(body, n, [swapped[1], swapped[0], *swapped[2:]]),
                "offset",
                "segments 1 and 2 stored in swapped order; "
                "the offsets point at each, so they decrease",
            )
        )
        out.append(
            _reject(
                f,
                "offset-equal",
                with_header(good, n, [offsets[0], offsets[0], *offsets[2:]]),
                "offset",
                "segment 2's offset equals segment 1's",
            )
        )
    out.append(
        _reject(
            f, "truncated-header", good[:40], "header", "the frame is cut to 40 bytes"
        )
    )
    cut = offsets[-1] + len(segs[-1]) // 2
    cut -= cut % 2
    out.append(
        _reject(
            f,
            "truncated-segment",
            good[:cut],
            "short",
            f"the frame cut at byte {cut} of {len(good)}, inside the last segment",
        )
    )
    out.append(
        _reject(
            f,
            "literal-past-end",
            build([_last_literal_cut(segs[0]), *segs[1:]]),
            "short",
            "segment 1's last run is a literal whose header claims "
            "more bytes than the segment holds"
            + (
                "; they would come from segment 2"
                if n > 1
                else "; they would come from past the frame"
            ),
        )
    )
    cut = _literal_past_plane(segs[0])
    out.append(
        _accept(
            f,
            "literal-past-plane",
            build([cut, *segs[1:]]),
            "segment 1's last run is a literal that fills its plane but whose "
            "header claims 3 bytes more than the segment holds (2 if a pad byte "
            "follows, which then decodes past the plane), all past the plane",
            extra=len(cut) % 2 == 1,
        )
    )
    out.append(
        _accept(
            f,
            "unused-offset-nonzero",
            with_header(good, n, [*offsets, UNUSED_OFFSET]),
            f"the first unused offset slot is {UNUSED_OFFSET:#x}",
        )
    )
    if f.name == "grey16":
        out.append(_gdcm_padded(f))
    return out


def _plane(f: Frame, k: int) -> bytes:
    """The bytes of segment k (PS3.5 G.2: most significant byte first)."""
    size = f.bits // 8
    sample, byte = divmod(k, size)
    planes = f.pixels[:, :, sample].astype(f"<u{size}").tobytes()
    return planes[size - 1 - byte :: size]


def _gdcm_padded(f: Frame) -> Variant:
    """What ``gdcmconv --rle`` (GDCM 3.0) makes of pydicom's
    MR_small_padded.dcm, whose Pixel Data is one row longer than the image:
    GDCM takes the row length from the Pixel Data length (columns + 1
    pixels), reads each row at the true stride (columns), so every encoded
    row holds its own pixels and the first pixel of the next row (0 after the
    last row), and every segment decodes rows * (columns + 1) bytes. Its
    segments are odd without pad bytes. The policy's answer is the first
    rows * columns bytes of each segment: not the image, which no decoder
    can know."""
    import dicomrle

    size = f.bits // 8
    flat = np.zeros((f.rows * f.columns + 1, f.samples), f"<u{size}")
    flat[:-1] = f.pixels.reshape(-1, f.samples)
    wide = np.array(
        [flat[r * f.columns : r * f.columns + f.columns + 1] for r in range(f.rows)]
    )  # (rows, columns + 1, samples)
    frame = dicomrle.encode_frame(
        np.ascontiguousarray(wide).tobytes(),
        rows=f.rows,
        columns=f.columns + 1,
        samples_per_pixel=f.samples,
        bits_allocated=f.bits,
    )
    segs = [make_odd(_unpad(s)) for s in _split(frame)]
    answer = wide.reshape(-1, f.samples)[: f.rows * f.columns]
    return Variant(
        "gdcm-padded",
        f.name,
        build(segs, pad=False),
        f.rows,
        f.columns,
        f.samples,
        f.bits,
        True,
        answer.reshape(f.rows, f.columns, f.samples).copy(),
        None,
        True,
        "every row encoded with one pixel more (the next row's first), so each "
        "segment decodes rows*(columns+1) bytes; odd segments, no pad byte "
        "(gdcmconv --rle of MR_small_padded.dcm)",
    )


def reference_decode(
    frame: bytes, rows: int, columns: int, samples: int, bits: int
) -> tuple[bytes, bool]:
    """The policy, in plain Python: the frame's planes (one per sample,
    little-endian samples) and whether a segment decoded past its plane
    (its last run went past the plane, or 2 bytes or more follow the run
    that filled it, leading no-op bytes 0x80 aside; one pad byte is not
    extra).

    Raises ``ValueError(kind, message, numbers)`` with kind one of ERRORS and
    numbers what a decoder's message should name: ``(frame length,)`` for
    'header', ``(count, needed)`` for 'segment_count', ``(segment, offset)``
    for 'offset', ``(segment, decoded, plane)`` for 'short'; segments
    counted from 0.
    """
    size = bits // 8
    plane = rows * columns
    if len(frame) < HEADER:
        raise ValueError("header", f"{len(frame)} bytes", (len(frame),))
    count = struct.unpack_from("<I", frame)[0]
    need = samples * size
    if count != need or not 1 <= count <= 15:
        raise ValueError("segment_count", f"{count}, not {need}", (count, need))
    offsets = list(struct.unpack_from(f"<{count}I", frame, 4))
    for k, at in enumerate(offsets):
        # An offset at the very end gives an empty segment: short, below.
        if at < HEADER or at > len(frame) or (k and at <= offsets[k - 1]):
            raise ValueError("offset", f"segment {k} at {at}", (k, at))
    ends = [*offsets[1:], len(frame)]
    out = np.zeros((samples, plane, size), np.uint8)
    extra = False
    for k, (at, end) in enumerate(zip(offsets, ends, strict=True)):
        got, i = bytearray(), at
        # G.3.2: loop until the plane is full. A literal cut by the segment's
        # end gives the bytes that are there, a replicate header as its last
        # byte nothing; short only if the plane is then not full.
        while len(got) < plane and i < end:
            n = frame[i]
            i += 1
            if n < 0x80:
                got += frame[i : min(i + n + 1, end)]
                i = min(i + n + 1, end)
            elif n > 0x80 and i < end:
                got += frame[i : i + 1] * (257 - n)
                i += 1
        if len(got) < plane:
            raise ValueError(
                "short", f"segment {k}: {len(got)} of {plane}", (k, len(got), plane)
            )
        rest = frame[i:end].lstrip(b"\x80")
        extra |= len(got) > plane or len(rest) >= 2
        sample, byte = divmod(k, size)
        out[sample, :, size - 1 - byte] = np.frombuffer(bytes(got[:plane]), np.uint8)
    return out.tobytes(), extra


def verify() -> None:
    """Check every variant's verdict against ``reference_decode``."""
    for v in variants():
        try:
            data, extra = reference_decode(
                v.frame, v.rows, v.columns, v.samples, v.bits
            )
        except ValueError as exc:
            assert not v.accept and exc.args[0] == v.error, (v.id, exc.args)
            continue
        assert v.accept and data == v.planar_bytes(), v.id
        assert extra == v.extra, (v.id, extra)


@cache
def variants() -> tuple[Variant, ...]:
    """Every malformed variant of every well-formed frame."""
    return tuple(v for f in frames() for v in _make(f))


def by_name() -> dict[str, list[Variant]]:
    """The variants grouped by malformation, in the order made."""
    out: dict[str, list[Variant]] = {}
    for v in variants():
        out.setdefault(v.name, []).append(v)
    return out


def check(decode: Callable[[Variant], bytes]) -> None:  # pragma: no cover - helper
    """Assert that `decode` (the frame's planar little-endian bytes, or an
    exception) meets the policy for every variant."""
    for v in variants():
        if v.accept:
            assert decode(v) == v.planar_bytes(), v.id
        else:
            try:
                decode(v)
            except ValueError:
                continue
            raise AssertionError(f"{v.id} was accepted")
