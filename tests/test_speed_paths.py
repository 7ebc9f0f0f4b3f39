"""The fast and the scalar encoder paths, and how small their output is.

- The fast path (wide compares, dicomrle_encode) and the scalar reference
  (dicomrle_encode_scalar) give the same bytes on every corpus frame and on
  generated rows and frames, and so does every instruction set this build
  and CPU have (portable, SSE2, AVX2: ``_rle.ISAS``), each forced in turn.
- The encoding of every row is a minimum-size PackBits encoding: equal to
  the exact dynamic-programming minimum of ``packbits_ref``, hence never
  larger than GDCM's rule (checked directly too).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dicomrle.codec import rle as _rle
from support import frames
from support.packbits_ref import (
    decode_row,
    gdcm_row,
    gdcm_row_size,
    min_plane_sizes,
    min_row_size,
)

IMAGES = list(frames.corpus_images()) + frames.synthetic_images()
if not any(image.path is not None for image in IMAGES):  # pragma: no cover
    pytest.skip("pydicom's test files are missing", allow_module_level=True)


# Every instruction set but the scalar reference, which they are checked
# against.
FAST_ISAS = [isa for isa in _rle.ISAS if isa != "scalar"]


def encode(src: bytes, rows: int, columns: int, samples: int, bits: int,
           *, planar: int = 0, isa: str | None = None, **kw: object) -> bytes:
    frame = _rle.Frame(
        rows, columns, samples, bits,
        byteorder=">" if kw.get("big_endian", False) else "<",
        planar_configuration=int(planar),
        bytes_per_sample=kw.get("bytes_per_sample"),
        sign_extend=bool(kw.get("sign_extend", False)),
    )
    return _rle.encode(frame, src, isa=isa)


def segments(frame: bytes) -> list[bytes]:
    """The segments of an encoded frame, each with its pad byte if any."""
    header = np.frombuffer(frame[:64], "<u4")
    count = int(header[0])
    offsets = [int(o) for o in header[1 : 1 + count]] + [len(frame)]
    return [frame[offsets[k] : offsets[k + 1]] for k in range(count)]


def planes(image: frames.Image, index: int) -> list[np.ndarray]:
    """The byte planes of a little-endian frame in segment order."""
    ba = image.bits_allocated // 8
    raw = np.frombuffer(bytes(image.frame(index)), np.uint8)
    if image.planar:
        arr = raw.reshape(image.samples, image.rows, image.columns, ba)
        return [arr[s, :, :, ba - 1 - b] for s in range(image.samples) for b in range(ba)]
    arr = raw.reshape(image.rows, image.columns, image.samples, ba)
    return [arr[:, :, s, ba - 1 - b] for s in range(image.samples) for b in range(ba)]


def split_rows(segment: bytes, plane: np.ndarray) -> list[bytes]:
    """Decode a segment row by row; return each row's encoded bytes."""
    out = []
    pos = 0
    columns = plane.shape[1]
    for row in plane:
        start = pos
        produced = 0
        while produced < columns:
            h = segment[pos]
            if h < 0x80:
                produced += h + 1
                pos += h + 2
            else:
                produced += 257 - h
                pos += 2
        assert produced == columns, "a run crosses a row boundary"
        out.append(segment[start:pos])
        assert decode_row(segment[start:pos], columns) == row.tobytes()
    assert segment[pos:] in (b"", b"\x00")
    assert (pos + len(segment[pos:])) % 2 == 0
    return out


# ---------------------------------------------------------------- fast == scalar
@pytest.mark.parametrize("image", IMAGES, ids=[i.name for i in IMAGES])
def test_fast_matches_scalar_on_corpus(image: frames.Image) -> None:
    for index in range(image.frames):
        src = bytes(image.frame(index))
        args = (src, image.rows, image.columns, image.samples, image.bits_allocated)
        fast = encode(*args, planar=image.planar)
        assert fast == encode(*args, planar=image.planar, isa="scalar")
        if image.bits_allocated == 16 and image.samples == 1:
            # The same frame big-endian: the gather's other byte order.
            swapped = np.frombuffer(src, "<u2").astype(">u2").tobytes()
            big = encode(swapped, *args[1:], big_endian=True)
            assert big == fast
            assert big == encode(swapped, *args[1:], big_endian=True, isa="scalar")


def rows_strategy(max_size: int = 700) -> st.SearchStrategy[bytes]:
    """Rows made of runs whose lengths sit around the 128-byte limits."""
    run = st.tuples(
        st.integers(0, 3),
        st.one_of(
            st.integers(1, 4),
            st.sampled_from([125, 126, 127, 128, 129, 130, 131, 255, 256, 257, 258]),
        ),
    )
    noise = st.binary(min_size=1, max_size=max_size)
    runs = st.lists(run, min_size=1, max_size=60).map(
        lambda rs: b"".join(bytes([v]) * n for v, n in rs)[:max_size]
    )
    return st.one_of(noise, runs)


# ------------------------------------------------------- every instruction set
def test_isas_available() -> None:
    assert "scalar" in _rle.ISAS and "portable" in _rle.ISAS
    assert _rle.SIMD in ("avx2", "sse2", "swar64", "bytewise")
    if _rle.SIMD in ("avx2", "sse2"):
        assert "sse2" in _rle.ISAS
    assert (_rle.SIMD == "avx2") == ("avx2" in _rle.ISAS)
    with pytest.raises(ValueError, match="'isa' must be one of"):
        _rle.encode_row(b"abc", isa="neon")


@pytest.mark.parametrize("image", IMAGES, ids=[i.name for i in IMAGES])
def test_every_isa_matches_scalar_on_corpus(image: frames.Image) -> None:
    for index in range(image.frames):
        src = bytes(image.frame(index))
        args = (src, image.rows, image.columns, image.samples, image.bits_allocated)
        expected = encode(*args, planar=image.planar, isa="scalar")
        for isa in FAST_ISAS:
            assert encode(*args, planar=image.planar, isa=isa) == expected, isa
        if image.bits_allocated == 16 and image.samples == 1:
            swapped = np.frombuffer(src, "<u2").astype(">u2").tobytes()
            for isa in FAST_ISAS:
                assert encode(swapped, *args[1:], big_endian=True, isa=isa) == expected, isa


def test_every_isa_on_row_lengths() -> None:
    """Every length up to 300 (the word and 16/32/64-byte block edges, and
    the row end inside a word) with dense short runs, long runs and noise."""
    rng = np.random.default_rng(3)
    for n in range(1, 301):
        for kind in range(4):
            if kind == 0:
                row = rng.integers(0, 256, n, dtype=np.uint8)
            elif kind == 1:
                row = np.repeat(rng.integers(0, 3, n, dtype=np.uint8), rng.integers(1, 5, n))[:n]
            elif kind == 2:
                row = np.repeat(rng.integers(0, 2, n, dtype=np.uint8), rng.integers(1, 200, n))[:n]
            else:
                row = rng.integers(0, 2, n, dtype=np.uint8)
            data = row.tobytes()
            expected = _rle.encode_row(data, isa="scalar")
            for isa in FAST_ISAS:
                assert _rle.encode_row(data, isa=isa) == expected, (isa, n, kind)


@settings(max_examples=250, deadline=None)
@given(rows_strategy())
def test_row_fast_matches_scalar_and_is_minimal(row: bytes) -> None:
    fast = _rle.encode_row(row)
    assert fast == _rle.encode_row(row, isa="scalar")
    for isa in FAST_ISAS:
        assert _rle.encode_row(row, isa=isa) == fast, isa
    assert decode_row(fast, len(row)) == row
    assert len(fast) == min_row_size(row)
    assert len(fast) <= gdcm_row_size(row)
    assert len(fast) <= len(row) + (len(row) + 127) // 128


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 9),
    st.integers(1, 300),
    st.sampled_from([(1, 8), (1, 16), (3, 8), (3, 16), (1, 32), (2, 32), (1, 64)]),
    st.integers(0, 1),
    st.booleans(),
    st.integers(0, 3),
    st.booleans(),
    st.data(),
)
def test_frame_fast_matches_scalar(
    rows: int, columns: int, layout: tuple[int, int], planar: int,
    big_endian: bool, narrow: int, sign_extend: bool, data: st.DataObject,
) -> None:
    samples, bits = layout
    ba = bits // 8
    bps = max(1, ba >> narrow)
    n = rows * columns * samples * bps
    # Low-entropy bytes, so that runs and two-byte repeats are common.
    alphabet = data.draw(st.integers(1, 256))
    raw = data.draw(st.binary(min_size=n, max_size=n))
    src = (np.frombuffer(raw, np.uint8).astype(np.int64) % alphabet).astype(np.uint8).tobytes()
    kw = dict(bytes_per_sample=bps, big_endian=big_endian, sign_extend=sign_extend)
    fast = encode(src, rows, columns, samples, bits, planar=planar, **kw)
    assert fast == encode(src, rows, columns, samples, bits, planar=planar, isa="scalar", **kw)
    for isa in FAST_ISAS:
        assert encode(src, rows, columns, samples, bits, planar=planar, isa=isa, **kw) == fast, isa
    assert len(fast) <= _rle.Frame(rows, columns, samples, 8 * ba).encode_bound


# The 128-byte limits of the policy, as encodings. A literal packet is full
# after 128 bytes; a two-byte repeat joins it only if both bytes fit.
def lit(data: bytes) -> bytes:
    return bytes([len(data) - 1]) + data


def rep(value: int, count: int) -> bytes:
    return bytes([257 - count, value])


DISTINCT = bytes(range(1, 200))


@pytest.mark.parametrize(
    "row, expected",
    [
        (b"\x07\x07", rep(7, 2)),
        (b"\x07\x07\x01", rep(7, 2) + lit(b"\x01")),
        (b"\x01\x07\x07", lit(b"\x01\x07\x07")),
        (b"\x01\x07\x07\x02", lit(b"\x01\x07\x07\x02")),
        (b"\x01\x07\x07\x07\x02", lit(b"\x01") + rep(7, 3) + lit(b"\x02")),
        # 126 literal bytes: room for the repeat.
        (DISTINCT[:126] + b"\x00\x00" + b"\xff",
         lit(DISTINCT[:126] + b"\x00\x00") + lit(b"\xff")),
        # 127: one byte of room, the repeat is a replicate run.
        (DISTINCT[:127] + b"\x00\x00" + b"\xff",
         lit(DISTINCT[:127]) + rep(0, 2) + lit(b"\xff")),
        # 128: the packet is full.
        (DISTINCT[:128] + b"\x00\x00" + b"\xff",
         lit(DISTINCT[:128]) + rep(0, 2) + lit(b"\xff")),
        (bytes(128), rep(0, 128)),
        (bytes(129), rep(0, 128) + lit(b"\x00")),
        (bytes(130), rep(0, 128) + rep(0, 2)),
        (bytes(131), rep(0, 128) + rep(0, 3)),
        (bytes(257), rep(0, 128) * 2 + lit(b"\x00")),
        # 129 after a literal: its first byte joins the literal.
        (b"\x01" + bytes(129), lit(b"\x01\x00") + rep(0, 128)),
        (b"\x01" + bytes(129) + b"\x02", lit(b"\x01\x00") + rep(0, 128) + lit(b"\x02")),
        # ...unless the literal's packet is full: its last byte starts one.
        (DISTINCT[:128] + bytes(129) + b"\x02",
         lit(DISTINCT[:128]) + rep(0, 128) + lit(b"\x00\x02")),
    ],
)
def test_policy_at_the_limits(row: bytes, expected: bytes) -> None:
    assert _rle.encode_row(row) == expected
    assert _rle.encode_row(row, isa="scalar") == expected
    for isa in FAST_ISAS:
        assert _rle.encode_row(row, isa=isa) == expected, isa
    assert len(expected) == min_row_size(row)


# ------------------------------------------------------------- the references
@settings(max_examples=100, deadline=None)
@given(st.lists(rows_strategy(300), min_size=1, max_size=4), st.integers(1, 300))
def test_plane_dp_matches_row_dp(rows: list[bytes], columns: int) -> None:
    plane = np.array(
        [np.resize(np.frombuffer(r, np.uint8), columns) for r in rows], dtype=np.uint8
    )
    expected = [min_row_size(r.tobytes()) for r in plane]
    assert min_plane_sizes(plane).tolist() == expected


def test_gdcm_rule_reference() -> None:
    # GDCM merges a two-byte repeat into a literal that a different byte
    # follows, and leaves every other repeat of two a replicate run.
    assert gdcm_row(b"\x00\x01\x01\x00") == b"\x03\x00\x01\x01\x00"
    assert gdcm_row(b"\x01\x01\x00") == rep(1, 2) + lit(b"\x00")
    assert gdcm_row(b"\x00\x01\x01") == lit(b"\x00") + rep(1, 2)
    assert gdcm_row(bytes(129)) == rep(0, 128) + lit(b"\x00")


# ------------------------------------------------------------ size on corpus
@pytest.mark.parametrize("image", IMAGES, ids=[i.name for i in IMAGES])
def test_corpus_size_is_the_minimum(image: frames.Image) -> None:
    """Each segment is the sum of the per-row minima plus the pad byte, and
    sampled rows are never larger than GDCM's rule makes them."""
    frame = encode(
        bytes(image.frame(0)), image.rows, image.columns, image.samples,
        image.bits_allocated, planar=image.planar,
    )
    step = max(1, image.rows // 24)
    for segment, plane in zip(segments(frame), planes(image, 0)):
        minima = min_plane_sizes(plane)
        total = int(minima.sum())
        assert len(segment) == total + total % 2
        encoded = split_rows(segment, plane)
        assert [len(r) for r in encoded] == minima.tolist()
        for r in range(0, image.rows, step):
            assert len(encoded[r]) <= gdcm_row_size(plane[r].tobytes())
