"""Hypothesis round trips: random frames encoded with dicomrle and decoded
by pydicom's and pylibjpeg-rle's decoders (tests/support/decoders.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dicomrle import encode_frame
from dicomrle.codec import rle as _rle
from support.decoders import FRAME_DECODERS

settings.register_profile(
    "dicomrle-properties",
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
PROFILE = settings.get_profile("dicomrle-properties")

# Lengths around the 128-byte limits of literal and replicate runs.
RUN_LENGTHS = st.one_of(
    st.sampled_from([1, 2, 3, 126, 127, 128, 129, 130, 255, 256, 257, 258]),
    st.integers(1, 300),
)

# A block of samples: a run of one value, or noise of a given amplitude
# (small amplitudes leave runs in the high bytes and noise in the low).
BLOCKS = st.one_of(
    st.tuples(st.just("run"), st.integers(0, 2**64 - 1), RUN_LENGTHS),
    st.tuples(st.just("noise"), st.integers(0, 2**32 - 1), RUN_LENGTHS,
              st.sampled_from([1, 2, 8, 16, 64])),
)


@st.composite
def frames(draw, max_rows=40, max_columns=300, only_1_or_3=False):
    """(array of shape (rows, columns, samples), bits_allocated); samples up
    to the 15-segment limit, or only 1 or 3 (all pylibjpeg-rle decodes)."""
    bits = draw(st.sampled_from([8, 16, 32, 64]))
    limit = 15 // (bits // 8)
    usual = st.sampled_from([s for s in (1, 3) if s <= limit])
    samples = draw(usual if only_1_or_3 else st.one_of(usual, st.integers(1, limit)))
    rows = draw(st.integers(1, max_rows))
    columns = draw(st.one_of(st.just(1), st.integers(1, max_columns)))
    blocks = draw(st.lists(BLOCKS, min_size=1, max_size=8))

    dtype = np.dtype(f"u{bits // 8}")
    mask = (1 << bits) - 1
    total = rows * columns * samples
    parts = []
    size = 0
    while size < total:  # repeat the blocks until the frame is full
        for block in blocks:
            if block[0] == "run":
                part = np.full(block[2], block[1] & mask, dtype=dtype)
            else:
                rng = np.random.default_rng(block[1])
                high = min(block[3], bits)
                part = rng.integers(0, 1 << high, block[2], dtype=np.uint64)
                part = part.astype(dtype)
            parts.append(part)
            size += len(part)
    arr = np.concatenate(parts)[:total].reshape(rows, columns, samples)
    return arr, bits


def source(arr: np.ndarray, byteorder: str, planar: int) -> bytes:
    """The bytes of `arr` in the given byte order and planar configuration."""
    if planar:
        arr = arr.transpose(2, 0, 1)
    return arr.astype(arr.dtype.newbyteorder(byteorder)).tobytes()


def segments(frame: bytes) -> list[bytes]:
    """The segments of an RLE frame, found through its header."""
    count = int.from_bytes(frame[:4], "little")
    offsets = [int.from_bytes(frame[4 + 4 * i : 8 + 4 * i], "little")
               for i in range(15)]
    assert 1 <= count <= 15
    assert offsets[0] == 64
    assert offsets[count:] == [0] * (15 - count), "unused offsets must be zero"
    ends = offsets[1:count] + [len(frame)]
    assert all(a < b for a, b in zip(offsets[:count], ends))
    return [frame[a:b] for a, b in zip(offsets[:count], ends)]


def check_segment(segment: bytes, rows: int, columns: int) -> None:
    """PS3.5 G.3.1: valid PackBits, no -128 header, no run crossing a row,
    then at most one byte of padding."""
    i = x = produced = 0
    while produced < rows * columns:
        header = segment[i]
        assert header != 0x80
        n = header + 1 if header < 128 else 257 - header
        assert i + (n + 1 if header < 128 else 2) <= len(segment)
        i += n + 1 if header < 128 else 2
        assert x + n <= columns, "a run crosses a row boundary"
        x = (x + n) % columns
        produced += n
    assert len(segment) - i in (0, 1)


@pytest.mark.parametrize("decoder", list(FRAME_DECODERS))
@PROFILE
@given(data=st.data(), byteorder=st.sampled_from("<>"), planar=st.sampled_from([0, 1]))
def test_round_trip(decoder, data, byteorder, planar):
    arr, bits = data.draw(frames(only_1_or_3=decoder == "pylibjpeg-rle"), "frame")
    rows, columns, samples = arr.shape
    encoded = encode_frame(source(arr, byteorder, planar), rows=rows, columns=columns,
                           samples_per_pixel=samples, bits_allocated=bits,
                           byteorder=byteorder, planar_configuration=planar)
    decoded = FRAME_DECODERS[decoder](encoded, rows, columns, samples, bits)
    np.testing.assert_array_equal(decoded, arr)


def _noise(shape, bits):
    """No two neighbouring bytes equal: the worst case for the bound."""
    count = int(np.prod(shape)) * bits // 8
    arr = (np.arange(count) % 251).astype(np.uint8).view(f"u{bits // 8}")
    return arr.reshape(shape), bits


@PROFILE
@given(frame=frames())
@example(frame=_noise((40, 300, 1), 64))
@example(frame=_noise((40, 300, 15), 8))
@example(frame=_noise((3, 257, 3), 32))
def test_frame_structure(frame):
    arr, bits = frame
    rows, columns, samples = arr.shape
    encoded = encode_frame(arr.tobytes(), rows=rows, columns=columns,
                           samples_per_pixel=samples, bits_allocated=bits)
    assert len(encoded) <= _rle.Frame(rows, columns, samples, bits).encode_bound
    parts = segments(encoded)
    assert len(parts) == samples * bits // 8
    for segment in parts:
        assert len(segment) % 2 == 0
        check_segment(segment, rows, columns)


@PROFILE
@given(frame=frames(max_rows=6, max_columns=140))
def test_byteorder_and_planar_configuration_do_not_change_output(frame):
    arr, bits = frame
    rows, columns, samples = arr.shape
    outputs = {
        encode_frame(source(arr, order, planar), rows=rows, columns=columns,
                     samples_per_pixel=samples, bits_allocated=bits,
                     byteorder=order, planar_configuration=planar)
        for order in "<>"
        for planar in (0, 1)
    }
    assert len(outputs) == 1


ROW_BYTES = st.lists(
    st.tuples(st.integers(0, 255), RUN_LENGTHS), min_size=1, max_size=12
).map(lambda runs: b"".join(bytes([v]) * n for v, n in runs))


@PROFILE
@given(row=st.one_of(ROW_BYTES, st.binary(min_size=1, max_size=600)))
@example(row=bytes(range(256)) * 3)
@example(row=b"\x01\x02\x02" * 200)
@example(row=(bytes(range(1, 128)) + b"\x00\x00") * 5)
def test_encode_row_bound_and_round_trip(row):
    encoded = _rle.encode_row(row)
    n = len(row)
    assert len(encoded) <= n + math.ceil(n / 128)
    out = bytearray()
    i = 0
    while i < len(encoded):
        header = encoded[i]
        assert header != 0x80
        if header < 128:
            out += encoded[i + 1 : i + 2 + header]
            i += header + 2
        else:
            out += encoded[i + 1 : i + 2] * (257 - header)
            i += 2
    assert bytes(out) == row


WORST_CASES = [
    pytest.param(decoder, shape, bits, id=f"{decoder}-{shape}-{bits}")
    for shape, bits in [((40, 300, 1), 64), ((40, 300, 3), 32), ((40, 300, 15), 8),
                        ((1, 1, 1), 16)]
    for decoder in FRAME_DECODERS
    if decoder != "pylibjpeg-rle" or shape[2] in (1, 3)  # it decodes only those
]


@pytest.mark.parametrize(("decoder", "shape", "bits"), WORST_CASES)
def test_round_trip_worst_case(decoder, shape, bits):
    arr, bits = _noise(shape, bits)
    rows, columns, samples = shape
    encoded = encode_frame(arr, rows=rows, columns=columns, samples_per_pixel=samples,
                           bits_allocated=bits)
    assert len(encoded) <= _rle.Frame(rows, columns, samples, bits).encode_bound
    decoded = FRAME_DECODERS[decoder](encoded, rows, columns, samples, bits)
    np.testing.assert_array_equal(decoded, arr)
