"""The C decoder kernel through its Cython binding (_rle.decode*).

- Every instruction set gives the scalar reference's bytes, or its error,
  on generated frames of every layout (rows, columns, samples, bytes
  allocated, output byte order and planar configuration, segment order)
  and on generated malformed frames.
- Frames of the corpus encoded by dicomrle, by pylibjpeg-rle and by
  pydicom decode to their source.
- Each malformation of the decoder's table: accepted ones decode as
  pydicom's decoder does, refused ones raise ValueError naming what is
  wrong; a frame truncated at every length raises, never crashes.
"""

from __future__ import annotations

import struct
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dicomrle
from dicomrle.codec import rle as _rle
from support.corpus import images
from support.decoders import require

ISAS = _rle.decode_isas()
FAST_ISAS = [isa for isa in ISAS if isa != "scalar"]
RLE_RELAXED = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def describe(
    rows: int,
    columns: int,
    spp: int,
    ba: int,
    *,
    big_endian: bool = False,
    planar: bool = False,
    lsb_first: bool = False,
) -> _rle.Frame:
    """The binding's description of a frame of `ba` bytes a sample."""
    return _rle.Frame(
        rows,
        columns,
        spp,
        8 * ba,
        byteorder=">" if big_endian else "<",
        planar_configuration=int(planar),
        lsb_first=lsb_first,
    )


def by_plane(kw: _rle.Frame) -> _rle.Frame:
    """`kw` decoded a plane per sample."""
    return _rle.Frame(
        kw.rows,
        kw.columns,
        kw.samples_per_pixel,
        kw.bits_allocated,
        byteorder=kw.byteorder,
        planar_configuration=1,
        lsb_first=kw.lsb_first,
    )


def outcome(src: bytes, isa: str, kw: _rle.Frame) -> bytes | str:
    """The decoded bytes, or the error message."""
    try:
        return _rle.decode(kw, src, isa=isa)
    except ValueError as exc:
        return f"ValueError: {exc}"


def decode_all(src: bytes, kw: _rle.Frame) -> bytes | str:
    """The scalar reference's outcome, checked to be every ISA's and
    decode()'s and decode_into()'s."""
    expected = outcome(src, "scalar", kw)
    for isa in [*FAST_ISAS, "auto"]:
        assert outcome(src, isa, kw) == expected, isa
    dst = bytearray(
        b"\xa5" * (kw.rows * kw.columns * kw.samples_per_pixel * kw.bytes_allocated + 3)
    )
    try:
        _rle.decode_into(kw, src, dst)
    except ValueError as exc:
        assert f"ValueError: {exc}" == expected
    else:
        assert isinstance(expected, bytes)
        assert dst[: len(expected)] == expected and dst[len(expected) :] == b"\xa5" * 3
    return expected


def split(frame: bytes) -> list[bytes]:
    count = struct.unpack_from("<I", frame)[0]
    offsets = [*struct.unpack_from(f"<{count}I", frame, 4), len(frame)]
    return [frame[offsets[k] : offsets[k + 1]] for k in range(count)]


def join(
    segments: list[bytes], count: int | None = None, offsets: list[int] | None = None
) -> bytes:
    if offsets is None:
        offsets, at = [], 64
        for s in segments:
            offsets.append(at)
            at += len(s)
    head = [len(segments) if count is None else count, *offsets]
    head += [0] * (16 - len(head))
    return struct.pack("<16I", *head[:16]) + b"".join(segments)


def lsb_order(frame: bytes, ba: int) -> bytes:
    """The frame with the segments of each sample in reverse order."""
    segs = split(frame)
    return join(
        [segs[s * ba + ba - 1 - b] for s in range(len(segs) // ba) for b in range(ba)]
    )


def pixels(seed: int, n: int, kind: str) -> bytes:
    rng = np.random.default_rng(seed)
    if kind == "noise":
        return rng.integers(0, 256, n, dtype=np.uint8).tobytes()
    lengths = rng.integers(1, 300 if kind == "runs" else 4, n // 2 + 2)
    values = rng.integers(0, 4 if kind == "runs" else 256, lengths.size, dtype=np.uint8)
    return np.repeat(values, lengths)[:n].tobytes().ljust(n, b"\x07")


def pydicom_decode(
    frame: bytes, rows: int, columns: int, spp: int, ba: int, order: str = ">"
) -> bytes | None:
    """pydicom's pure-Python decoder (planar, little-endian), or None when
    it refuses the frame; longer segments only warn there."""
    try:
        from pydicom.pixels.decoders.rle import _rle_decode_frame  # pydicom 3
    except ImportError:
        from pydicom.pixel_data_handlers.rle_handler import _rle_decode_frame
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return bytes(_rle_decode_frame(frame, rows, columns, spp, 8 * ba, order))
        except (ValueError, struct.error):
            return None


# ------------------------------------------------------------------ layouts


@st.composite
def frames(draw: st.DrawFn) -> tuple[bytes, _rle.Frame, bytes]:
    ba = draw(st.sampled_from([1, 2, 4, 8]))
    spp = draw(st.integers(1, min(4, 15 // ba)))
    rows = draw(st.integers(1, 48))
    columns = draw(st.integers(1, 400))
    big_endian, planar, lsb_first = (draw(st.booleans()) for _ in range(3))
    kind = draw(st.sampled_from(["noise", "runs", "pairs"]))
    src = pixels(draw(st.integers(0, 2**32 - 1)), rows * columns * spp * ba, kind)
    if draw(st.booleans()):
        frame = _rle.encode(
            describe(rows, columns, spp, ba, big_endian=big_endian, planar=planar), src
        )
    else:
        frame = dicomrle.encode_frame(
            src,
            rows=rows,
            columns=columns,
            samples_per_pixel=spp,
            bits_allocated=8 * ba,
            byteorder=">" if big_endian else "<",
            planar_configuration=int(planar),
        )
    if lsb_first:
        frame = lsb_order(frame, ba)
    kw = describe(
        rows,
        columns,
        spp,
        ba,
        big_endian=big_endian,
        planar=planar,
        lsb_first=lsb_first,
    )
    return frame, kw, src


def test_isas() -> None:
    assert ISAS[0] == "scalar" and "portable" in ISAS
    assert set(ISAS) == set(_rle.ISAS)
    with pytest.raises(ValueError, match="'isa' must be one of"):
        _rle.decode(describe(1, 1, 1, 1), b"", isa="neon")


@RLE_RELAXED
@given(frames())
def test_every_isa_decodes_generated_frames(
    case: tuple[bytes, _rle.Frame, bytes],
) -> None:
    frame, kw, src = case
    assert decode_all(frame, kw) == src


@pytest.mark.parametrize("isa", ISAS)
def test_chunk_boundaries(isa: str) -> None:
    """Planes longer than the fast path's chunks, with runs of 128 across
    every chunk end, for every group size the zip has a case for."""
    for spp, ba in ((1, 2), (3, 1), (1, 4), (1, 8), (2, 2), (5, 1), (3, 4), (15, 1)):
        rows, columns = 61, 523
        src = pixels(spp * ba, rows * columns * spp * ba, "runs")
        frame = _rle.encode(describe(rows, columns, spp, ba), src)
        out = _rle.decode(describe(rows, columns, spp, ba), frame, isa=isa)
        assert out == src, (spp, ba)


# ------------------------------------------------------------------ corpus


def corpus_frames() -> list:
    return [i for i in images() if i.bits_allocated in (8, 16, 32, 64)]


@pytest.mark.parametrize("image", corpus_frames(), ids=lambda i: i.id)
def test_corpus_frames(image) -> None:  # type: ignore[no-untyped-def]
    import pydicom

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(image.path)
    rows, columns, spp, ba = (
        ds.Rows,
        ds.Columns,
        image.samples,
        image.bits_allocated // 8,
    )
    n = rows * columns * spp * ba
    src = bytes(ds.PixelData)[:n]
    if len(src) < n:
        pytest.skip("Pixel Data shorter than one frame")
    kw = describe(
        rows, columns, spp, ba, big_endian=image.big_endian, planar=bool(image.planar)
    )
    frame = _rle.encode(kw, src)
    assert decode_all(frame, kw) == src


def test_frames_of_pylibjpeg_rle_and_pydicom() -> None:
    """Frames encoded by pylibjpeg-rle's encoder and by pydicom's own."""
    try:
        from rle.utils import encode_frame as rle_encode
    except ImportError:
        require(False, "pylibjpeg-rle")
    try:
        from pydicom.pixels.encoders import RLELosslessEncoder  # pydicom 3
    except ImportError:
        from pydicom.encoders import RLELosslessEncoder

    rng = np.random.default_rng(5)
    checked = 0
    for spp, bits in ((1, 8), (1, 16), (3, 8), (3, 16), (1, 32)):
        rows, columns = 37, 129
        arr = np.repeat(
            rng.integers(
                0, 1 << min(bits, 16), rows * columns * spp // 3 + 3, dtype=np.uint64
            ),
            3,
        )[: rows * columns * spp]
        arr = arr.astype(f"<u{bits // 8}").reshape(rows, columns, spp)
        src = arr.tobytes()
        kw = describe(rows, columns, spp, bits // 8)
        theirs = rle_encode(src, rows, columns, spp, bits, "<")
        assert decode_all(theirs, kw) == src
        checked += 1
        if bits == 32:
            continue  # pydicom's encoder stops at 16 bits
        pyd = RLELosslessEncoder.encode(
            arr.squeeze(),
            encoding_plugin="pydicom",
            rows=rows,
            columns=columns,
            samples_per_pixel=spp,
            bits_allocated=bits,
            bits_stored=bits,
            pixel_representation=0,
            number_of_frames=1,
            planar_configuration=0,
            photometric_interpretation="RGB" if spp == 3 else "MONOCHROME2",
        )
        assert decode_all(pyd, kw) == src
        checked += 1
    assert checked == 9


# ------------------------------------------------------------ malformations

ROWS, COLUMNS = 6, 20
KW = describe(ROWS, COLUMNS, 1, 2)
GREY = pixels(11, ROWS * COLUMNS * 2, "pairs")
GOOD = _rle.encode(KW, GREY)
PLANE = ROWS * COLUMNS


def check_against_pydicom(frame: bytes, kw: _rle.Frame = KW) -> bytes | str:
    """Our outcome; where both decoders accept, the same samples."""
    ours = decode_all(frame, kw)
    theirs = pydicom_decode(
        frame, kw.rows, kw.columns, kw.samples_per_pixel, kw.bytes_allocated
    )
    if isinstance(ours, bytes) and theirs is not None:
        mine = decode_all(frame, by_plane(kw))  # pydicom's layout
        assert mine == theirs
    return ours


def test_longer_segment_is_accepted_and_flagged() -> None:
    hi, lo = split(GOOD)
    longer = join([hi + bytes([0x02, 1, 2, 3]), lo])
    assert check_against_pydicom(longer) == GREY
    dst = bytearray(len(GREY))
    assert _rle.decode_into(KW, longer, dst) is True
    assert _rle.decode_into(KW, GOOD, dst) is False
    # A run that ends past the plane.
    run = join([bytes([257 - 128, 1]) * (PLANE // 128 + 1), lo])
    assert _rle.decode_into(KW, run, dst) is True


def test_shorter_segment_names_segment_and_lengths() -> None:
    hi, _ = split(GOOD)
    short = join([hi, bytes([257 - 100, 9])])
    with pytest.raises(
        ValueError,
        match=r"^RLE segment 2 of 2 decodes to 100 bytes, "
        rf"but its plane needs {PLANE} \(rows x columns\)$",
    ):
        _rle.decode(KW, short)
    assert check_against_pydicom(short).startswith("ValueError")


def test_runs_crossing_rows_and_noops() -> None:
    # One run for each whole plane, crossing every row end, and no-ops
    # (0x80) everywhere an operation may start.
    assert PLANE == 120
    frame = join(
        [
            bytes([0x80, 257 - 119, 3, 0x80, 0x80, 0x00, 3]),
            bytes([257 - 60, 4, 0x80, 257 - 60, 4, 0x80]),
        ]
    )
    out = check_against_pydicom(frame)
    assert out == bytes([4, 3]) * PLANE


def test_odd_segments_and_trailing_bytes() -> None:
    planes = [bytes(GREY[1::2]), bytes(GREY[0::2])]  # MSB plane first
    odd = [b"".join(bytes([0]) + bytes([v]) for v in p) + b"\x00\x05" for p in planes]
    assert all(len(s) % 2 == 0 for s in odd)
    odd = [s[:-1] for s in odd]  # odd lengths, no pad
    assert check_against_pydicom(join(odd)) == GREY
    assert check_against_pydicom(GOOD + b"\x00\x01\x02") == GREY
    # Non-zero unused offset slots.
    head = bytearray(GOOD[:64])
    struct.pack_into("<I", head, 60, 12345)
    assert check_against_pydicom(bytes(head) + GOOD[64:]) == GREY


@pytest.mark.parametrize("count", [0, 1, 3, 15, 16, 2**32 - 1])
def test_wrong_segment_count(count: int) -> None:
    frame = bytearray(GOOD)
    struct.pack_into("<I", frame, 0, count)
    with pytest.raises(
        ValueError,
        match=rf"^the RLE header says {count} segments?, "
        "but 16-bit data with 1 sample per pixel needs 2$",
    ):
        _rle.decode(KW, bytes(frame))
    decode_all(bytes(frame), KW)


def test_offsets() -> None:
    hi, lo = split(GOOD)
    n = len(GOOD)
    second = 64 + len(hi)
    cases = {
        "below 64": (
            [64, 10],
            r"RLE segment 2 of 2 starts at offset 10, inside the 64-byte header",
        ),
        "first 0": ([0, second], r"RLE segment 1 of 2 starts at offset 0, inside"),
        "past end": (
            [64, n + 1],
            rf"RLE segment 2 of 2 starts at offset {n + 1}, past the "
            rf"end of the {n}-byte frame",
        ),
        "order": (
            [second, 64],
            rf"RLE segment 2 offset 64 is not after segment 1's "
            rf"offset {second}",
        ),
        "equal": (
            [64, 64],
            r"RLE segment 2 offset 64 is not after segment 1's offset 64",
        ),
    }
    for name, (offsets, message) in cases.items():
        frame = join([hi, lo], offsets=offsets)
        with pytest.raises(ValueError, match="^" + message):
            _rle.decode(KW, frame)
        assert decode_all(frame, KW).startswith("ValueError"), name


def test_offset_at_end_and_at_last_byte() -> None:
    hi, lo = split(GOOD)
    n = len(GOOD)
    # The last segment starts at the end of the frame: empty, so short.
    with pytest.raises(ValueError, match=r"^RLE segment 2 of 2 decodes to 0 bytes"):
        _rle.decode(KW, join([hi, lo], offsets=[64, n]))
    # ... at its last byte: a lone header gives nothing (or one byte).
    with pytest.raises(ValueError, match=r"^RLE segment 2 of 2 decodes to 0 bytes"):
        _rle.decode(KW, join([hi, lo], offsets=[64, n - 1]))
    # A replicate header as the last byte of a segment gives nothing.
    frame = join([hi, bytes([257 - (PLANE - 1), 5, 0x81])])
    with pytest.raises(ValueError, match=rf"decodes to {PLANE - 1} bytes"):
        _rle.decode(KW, frame)
    # A literal whose data runs past the end of its segment: what is there.
    frame = join([hi, bytes([257 - (PLANE - 3), 5, 0x05, 1, 2])])
    with pytest.raises(ValueError, match=rf"decodes to {PLANE - 1} bytes"):
        _rle.decode(KW, frame)
    assert check_against_pydicom(frame).startswith("ValueError")
    # ... and enough of it to fill the plane: accepted.
    frame = join([hi, bytes([257 - (PLANE - 3), 5, 0x05, 1, 2, 3])])
    assert check_against_pydicom(frame) == bytes(
        b
        for pair in zip(bytes([5] * (PLANE - 3) + [1, 2, 3]), GREY[1::2], strict=True)
        for b in pair
    )


def test_segments_bounded_by_next_offset() -> None:
    """A literal at the end of segment 1 must not read segment 2's bytes."""
    lo = bytes([257 - PLANE // 2, 1]) * 2
    hi = bytes([257 - (PLANE - 2), 7, 0x03, 8])  # literal of 4, 1 byte left
    with pytest.raises(
        ValueError, match=rf"^RLE segment 1 of 2 decodes to {PLANE - 1} bytes"
    ):
        _rle.decode(KW, join([hi, lo]))


@pytest.mark.parametrize("isa", ISAS)
def test_truncated_at_every_length(isa: str) -> None:
    for kw, src in (
        (KW, GREY),
        (describe(3, 5, 3, 1, planar=True), pixels(3, 45, "noise")),
        (describe(2, 3, 1, 8, big_endian=True), pixels(4, 48, "runs")),
    ):
        frame = _rle.encode(kw, src)
        assert _rle.decode(kw, frame, isa=isa) == src
        for n in range(len(frame)):
            # Odd lengths may only lose a pad byte: those still decode.
            try:
                out = _rle.decode(kw, frame[:n], isa=isa)
            except ValueError:
                continue
            assert out == src and n == len(frame) - 1


@RLE_RELAXED
@given(
    st.binary(min_size=0, max_size=600),
    st.integers(0, 2**32 - 1),
    st.sampled_from([(1, 1), (1, 2), (3, 1), (2, 2)]),
    st.booleans(),
)
def test_every_isa_agrees_on_hostile_frames(
    body: bytes, seed: int, layout: tuple[int, int], fix: bool
) -> None:
    spp, ba = layout
    rng = np.random.default_rng(seed)
    count = spp * ba if fix else int(rng.integers(0, 17))
    offsets = sorted(int(o) for o in rng.integers(0, 64 + len(body) + 2, count))
    frame = join([body], count=count, offsets=offsets) if count else body
    kw = describe(
        int(rng.integers(1, 9)),
        int(rng.integers(1, 40)),
        spp,
        ba,
        planar=bool(seed & 1),
        big_endian=bool(seed & 2),
    )
    check_against_pydicom(frame, kw)


def test_dst_too_small_or_read_only() -> None:
    with pytest.raises(
        ValueError,
        match=r"^the destination buffer is 239 bytes, shorter "
        r"than the 240-byte frame$",
    ):
        _rle.decode_into(KW, GOOD, bytearray(239))
    with pytest.raises((BufferError, ValueError)):
        _rle.decode_into(KW, GOOD, bytes(240))
    arr = np.zeros(240, np.uint8)
    assert _rle.decode_into(KW, GOOD, arr) is False
    assert arr.tobytes() == GREY
    with pytest.raises(
        ValueError, match=r"^'bits_allocated' must be 8, 16, 32 or 64, not 24$"
    ):
        describe(ROWS, COLUMNS, 1, 3)
    with pytest.raises(
        ValueError, match=r"^'rows' must be between 1 and 65535, not 0$"
    ):
        describe(0, COLUMNS, 1, 2)
    with pytest.raises(
        ValueError,
        match=r"^the RLE frame is 0 bytes, shorter than its "
        "64-byte header$",
    ):
        _rle.decode(KW, b"")


def test_buffer_types() -> None:
    for src in (GOOD, bytearray(GOOD), memoryview(GOOD), np.frombuffer(GOOD, np.uint8)):
        assert _rle.decode(KW, src) == GREY
