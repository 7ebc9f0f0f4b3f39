"""Byte-for-byte checks of the RLE Lossless format (PS3.5 Annex G).

Every expected byte string below was worked out by hand from PS3.5 G.3.1:
a header byte n in 0..127 is followed by n + 1 literal bytes, a header byte
257 - k (-k + 1 as a signed byte, k in 2..128) by one byte repeated k
times, and -128 (0x80) is never written. The encoder's policy on top of
that (``dicomrle_encode_row`` in csrc/rle.c), which gives the smallest
encoding the rules allow: repeats of 3 or more bytes are replicate runs
split at 128; a 2-byte repeat joins the open literal when the literal's
current 128-byte packet has room for both bytes, and is a 2-byte replicate
run otherwise; a run of 128q + 1 bytes gives its odd byte to the open
literal if it has room, else starts the next literal with it. Literals
split at 128 bytes.

Regenerate the golden files in tests/data with ``python tests/test_format.py``
(only after checking by hand that a change of output is intended).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dicomrle import encode_frame
from dicomrle.codec import rle as _rle
from support import decoders

DATA = Path(__file__).parent / "data"

# 127 and 128 distinct bytes, no two neighbours equal.
D127 = bytes(range(1, 128))
D128 = bytes(range(128))
D129 = bytes(range(129))
D256 = bytes(range(256))

ROWS = [
    # (id, row, expected encoding)
    ("one byte", b"\x07", b"\x00\x07"),
    ("0x80 as data", b"\x80", b"\x00\x80"),
    ("run 2 alone", b"\x07\x07", b"\xff\x07"),
    ("run 3", b"\x07" * 3, b"\xfe\x07"),
    ("run 3 of 0x80", b"\x80" * 3, b"\xfe\x80"),
    ("run 127", b"\x07" * 127, b"\x82\x07"),
    ("run 128", b"\x07" * 128, b"\x81\x07"),
    ("run 129", b"\x07" * 129, b"\x81\x07\x00\x07"),
    ("run 130", b"\x07" * 130, b"\x81\x07\xff\x07"),
    ("run 131", b"\x07" * 131, b"\x81\x07\xfe\x07"),
    ("run 256", b"\x07" * 256, b"\x81\x07\x81\x07"),
    ("run 257", b"\x07" * 257, b"\x81\x07\x81\x07\x00\x07"),
    ("run 258", b"\x07" * 258, b"\x81\x07\x81\x07\xff\x07"),
    ("run 129 then other", b"\x07" * 129 + b"\x08", b"\x81\x07\x01\x07\x08"),
    ("run 130 then other", b"\x07" * 130 + b"\x08", b"\x81\x07\xff\x07\x00\x08"),
    ("literal then run 128", b"\x01" + b"\x07" * 128, b"\x00\x01\x81\x07"),
    ("literal 127", D127, b"\x7e" + D127),
    ("literal 128", D128, b"\x7f" + D128),
    ("literal 129", D129, b"\x7f" + D128 + b"\x00\x80"),
    ("literal 256", D256, b"\x7f" + D256[:128] + b"\x7f" + D256[128:]),
    ("odd length 3", b"\x01\x02\x03", b"\x02\x01\x02\x03"),
    ("odd length 5", b"\x01\x02\x02\x02\x03", b"\x00\x01\xfe\x02\x00\x03"),
    # A 2-byte repeat joins the open literal when it has room for both bytes...
    ("pair between literals", b"\x01\x02\x02\x03", b"\x03\x01\x02\x02\x03"),
    (
        "pairs between literals",
        b"\x01\x02\x02\x03\x03\x04",
        b"\x05\x01\x02\x02\x03\x03\x04",
    ),
    # ... whatever follows: a run of 3 or the end of the row.
    ("pair before run 3", b"\x01\x02\x02\x03\x03\x03", b"\x02\x01\x02\x02\xfe\x03"),
    ("pair ends the row", b"\x01\x02\x02", b"\x02\x01\x02\x02"),
    # No literal open: the pair is a replicate run, whatever follows.
    ("pair then single", b"\x02\x02\x03", b"\xff\x02\x00\x03"),
    ("pair then pair", b"\x02\x02\x03\x03", b"\xff\x02\xff\x03"),
    ("pair pair single", b"\x02\x02\x03\x03\x04", b"\xff\x02\xff\x03\x00\x04"),
    ("pair then run 3", b"\x02\x02\x03\x03\x03", b"\xff\x02\xfe\x03"),
    ("run 3 then pair", b"\x01\x01\x01\x02\x02", b"\xfe\x01\xff\x02"),
    # A pair that does not fit in the open 128-byte literal is a replicate run.
    (
        "pair crosses 128",
        D127 + b"\xa0\xa0\xa1",
        b"\x7e" + D127 + b"\xff\xa0" + b"\x00\xa1",
    ),
]


def walk(encoded: bytes, length: int | None = None) -> list[tuple[int, bytes]]:
    """Split a PackBits stream into (header, bytes produced) pairs, stopping
    once `length` bytes are produced (the rest is segment padding)."""
    out = []
    i = produced = 0
    while i < len(encoded) and (length is None or produced < length):
        header = encoded[i]
        if header < 128:
            data = encoded[i + 1 : i + 2 + header]
            assert len(data) == header + 1, "literal runs past the end"
            i += 2 + header
        else:
            assert header != 0x80, "header -128 written"
            assert i + 1 < len(encoded), "replicate run without its byte"
            data = encoded[i + 1 : i + 2] * (257 - header)
            i += 2
        produced += len(data)
        out.append((header, data))
    if length is not None:
        assert produced == length
        assert encoded[i:] in (b"", b"\x00"), "more than one byte of padding"
    return out


ROW_PARAMS = [pytest.param(row, expected, id=name) for name, row, expected in ROWS]


@pytest.mark.parametrize(("row", "expected"), ROW_PARAMS)
def test_encode_row(row, expected):
    assert _rle.encode_row(row) == expected


@pytest.mark.parametrize(("row", "expected"), ROW_PARAMS)
def test_expected_rows_decode_to_the_row(row, expected):
    """The hand-written table itself obeys G.3.1 (guards against typos)."""
    assert b"".join(d for _, d in walk(expected)) == row


@pytest.mark.parametrize("value", [0x00, 0x7F, 0x80, 0xFF])
def test_header_0x80_never_written(value):
    """Runs of every length 1..300 and literals split at every length."""
    for n in range(1, 301):
        for row in (bytes([value]) * n, bytes((value + i) % 256 for i in range(n))):
            encoded = _rle.encode_row(row)
            pieces = walk(encoded)
            assert b"".join(d for _, d in pieces) == row
            assert all(len(d) <= 128 for _, d in pieces)


FRAMES = [
    # (id, src, encode_frame kwargs, expected frame)
    (
        "8-bit 1x1",
        b"\x05",
        dict(rows=1, columns=1, samples_per_pixel=1, bits_allocated=8),
        b"\x01\x00\x00\x00\x40\x00\x00\x00" + bytes(56) + b"\x00\x05",
    ),
    (
        "8-bit 1x2, segment padded to even length",
        b"\x01\x02",
        dict(rows=1, columns=2, samples_per_pixel=1, bits_allocated=8),
        b"\x01\x00\x00\x00\x40\x00\x00\x00" + bytes(56) + b"\x01\x01\x02\x00",
    ),
    (
        "8-bit 2x3, rows encoded separately",
        b"\x07" * 6,
        dict(rows=2, columns=3, samples_per_pixel=1, bits_allocated=8),
        b"\x01\x00\x00\x00\x40\x00\x00\x00" + bytes(56) + b"\xfe\x07\xfe\x07",
    ),
    (
        "8-bit 3x1, odd rows, even segment",
        b"\x01\x02\x03",
        dict(rows=3, columns=1, samples_per_pixel=1, bits_allocated=8),
        b"\x01\x00\x00\x00\x40\x00\x00\x00" + bytes(56) + b"\x00\x01\x00\x02\x00\x03",
    ),
    (
        "16-bit 1x1 little-endian",
        b"\x02\x01",
        dict(rows=1, columns=1, samples_per_pixel=1, bits_allocated=16),
        b"\x02\x00\x00\x00\x40\x00\x00\x00\x42\x00\x00\x00" + bytes(52)
        + b"\x00\x01" + b"\x00\x02",
    ),
    (
        "16-bit 1x1 big-endian",
        b"\x01\x02",
        dict(rows=1, columns=1, samples_per_pixel=1, bits_allocated=16, byteorder=">"),
        b"\x02\x00\x00\x00\x40\x00\x00\x00\x42\x00\x00\x00" + bytes(52)
        + b"\x00\x01" + b"\x00\x02",
    ),
    (
        "16-bit 1x3, MSB segment then padded LSB segment",
        b"\x01\x01\x02\x01\x03\x01",
        dict(rows=1, columns=3, samples_per_pixel=1, bits_allocated=16),
        b"\x02\x00\x00\x00\x40\x00\x00\x00\x42\x00\x00\x00" + bytes(52)
        + b"\xfe\x01" + b"\x02\x01\x02\x03",
    ),
    (
        "32-bit 1x1",
        b"\x04\x03\x02\x01",
        dict(rows=1, columns=1, samples_per_pixel=1, bits_allocated=32),
        b"\x04\x00\x00\x00"
        b"\x40\x00\x00\x00\x42\x00\x00\x00\x44\x00\x00\x00\x46\x00\x00\x00"
        + bytes(44)
        + b"\x00\x01\x00\x02\x00\x03\x00\x04",
    ),
    (
        "32-bit 1x1 big-endian",
        b"\x01\x02\x03\x04",
        dict(rows=1, columns=1, samples_per_pixel=1, bits_allocated=32, byteorder=">"),
        b"\x04\x00\x00\x00"
        b"\x40\x00\x00\x00\x42\x00\x00\x00\x44\x00\x00\x00\x46\x00\x00\x00"
        + bytes(44)
        + b"\x00\x01\x00\x02\x00\x03\x00\x04",
    ),
    (
        "64-bit 1x1",
        b"\x08\x07\x06\x05\x04\x03\x02\x01",
        dict(rows=1, columns=1, samples_per_pixel=1, bits_allocated=64),
        b"\x08\x00\x00\x00"
        b"\x40\x00\x00\x00\x42\x00\x00\x00\x44\x00\x00\x00\x46\x00\x00\x00"
        b"\x48\x00\x00\x00\x4a\x00\x00\x00\x4c\x00\x00\x00\x4e\x00\x00\x00"
        + bytes(28)
        + b"\x00\x01\x00\x02\x00\x03\x00\x04\x00\x05\x00\x06\x00\x07\x00\x08",
    ),
    (
        "64-bit 1x1 big-endian",
        b"\x01\x02\x03\x04\x05\x06\x07\x08",
        dict(rows=1, columns=1, samples_per_pixel=1, bits_allocated=64, byteorder=">"),
        b"\x08\x00\x00\x00"
        b"\x40\x00\x00\x00\x42\x00\x00\x00\x44\x00\x00\x00\x46\x00\x00\x00"
        b"\x48\x00\x00\x00\x4a\x00\x00\x00\x4c\x00\x00\x00\x4e\x00\x00\x00"
        + bytes(28)
        + b"\x00\x01\x00\x02\x00\x03\x00\x04\x00\x05\x00\x06\x00\x07\x00\x08",
    ),
    (
        "RGB 8-bit 1x2, three padded segments",
        b"\x01\x02\x03\x04\x05\x06",
        dict(rows=1, columns=2, samples_per_pixel=3, bits_allocated=8),
        b"\x03\x00\x00\x00\x40\x00\x00\x00\x44\x00\x00\x00\x48\x00\x00\x00"
        + bytes(48)
        + b"\x01\x01\x04\x00" + b"\x01\x02\x05\x00" + b"\x01\x03\x06\x00",
    ),
    (
        "RGB 8-bit 1x2 planar",
        b"\x01\x04\x02\x05\x03\x06",
        dict(rows=1, columns=2, samples_per_pixel=3, bits_allocated=8,
             planar_configuration=1),
        b"\x03\x00\x00\x00\x40\x00\x00\x00\x44\x00\x00\x00\x48\x00\x00\x00"
        + bytes(48)
        + b"\x01\x01\x04\x00" + b"\x01\x02\x05\x00" + b"\x01\x03\x06\x00",
    ),
    (
        "15 samples 8-bit 1x1, header full",
        bytes(range(1, 16)),
        dict(rows=1, columns=1, samples_per_pixel=15, bits_allocated=8),
        b"\x0f\x00\x00\x00"
        b"\x40\x00\x00\x00\x42\x00\x00\x00\x44\x00\x00\x00\x46\x00\x00\x00"
        b"\x48\x00\x00\x00\x4a\x00\x00\x00\x4c\x00\x00\x00\x4e\x00\x00\x00"
        b"\x50\x00\x00\x00\x52\x00\x00\x00\x54\x00\x00\x00\x56\x00\x00\x00"
        b"\x58\x00\x00\x00\x5a\x00\x00\x00\x5c\x00\x00\x00"
        b"\x00\x01\x00\x02\x00\x03\x00\x04\x00\x05\x00\x06\x00\x07\x00\x08"
        b"\x00\x09\x00\x0a\x00\x0b\x00\x0c\x00\x0d\x00\x0e\x00\x0f",
    ),
    (
        "7 samples 16-bit 1x1",
        b"\x01\x00\x02\x00\x03\x00\x04\x00\x05\x00\x06\x00\x07\x01",
        dict(rows=1, columns=1, samples_per_pixel=7, bits_allocated=16),
        b"\x0e\x00\x00\x00"
        b"\x40\x00\x00\x00\x42\x00\x00\x00\x44\x00\x00\x00\x46\x00\x00\x00"
        b"\x48\x00\x00\x00\x4a\x00\x00\x00\x4c\x00\x00\x00\x4e\x00\x00\x00"
        b"\x50\x00\x00\x00\x52\x00\x00\x00\x54\x00\x00\x00\x56\x00\x00\x00"
        b"\x58\x00\x00\x00\x5a\x00\x00\x00" + bytes(4)
        + b"\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00\x04"
        b"\x00\x00\x00\x05\x00\x00\x00\x06\x00\x01\x00\x07",
    ),
    (
        # Offsets above 255 show the little-endian header: 322 = 0x142.
        "RGB 8-bit 1x256 planar, long first segment",
        D256 + bytes(256) + b"\xff" * 256,
        dict(rows=1, columns=256, samples_per_pixel=3, bits_allocated=8,
             planar_configuration=1),
        b"\x03\x00\x00\x00\x40\x00\x00\x00\x42\x01\x00\x00\x46\x01\x00\x00"
        + bytes(48)
        + b"\x7f" + D256[:128] + b"\x7f" + D256[128:]
        + b"\x81\x00\x81\x00" + b"\x81\xff\x81\xff",
    ),
]

# The same 1x2 RGB 16-bit image, pixels (0x0102, 0x0304, 0x0506) and
# (0x0708, 0x090A, 0x0B0C), in each byte order and planar configuration.
RGB16 = {
    ("<", 0): b"\x02\x01\x04\x03\x06\x05\x08\x07\x0a\x09\x0c\x0b",
    (">", 0): b"\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c",
    ("<", 1): b"\x02\x01\x08\x07\x04\x03\x0a\x09\x06\x05\x0c\x0b",
    (">", 1): b"\x01\x02\x07\x08\x03\x04\x09\x0a\x05\x06\x0b\x0c",
}
RGB16_EXPECTED = (
    b"\x06\x00\x00\x00"
    b"\x40\x00\x00\x00\x44\x00\x00\x00\x48\x00\x00\x00"
    b"\x4c\x00\x00\x00\x50\x00\x00\x00\x54\x00\x00\x00"
    + bytes(36)
    # R MSB, R LSB, G MSB, G LSB, B MSB, B LSB; each 3 bytes plus padding.
    + b"\x01\x01\x07\x00" + b"\x01\x02\x08\x00"
    + b"\x01\x03\x09\x00" + b"\x01\x04\x0a\x00"
    + b"\x01\x05\x0b\x00" + b"\x01\x06\x0c\x00"
)


FRAME_PARAMS = [pytest.param(*frame[1:], id=frame[0]) for frame in FRAMES]


@pytest.mark.parametrize(("src", "kwargs", "expected"), FRAME_PARAMS)
def test_encode_frame(src, kwargs, expected):
    assert encode_frame(src, **kwargs) == expected


@pytest.mark.parametrize(("byteorder", "planar"), list(RGB16), ids=str)
def test_rgb16_segment_order(byteorder, planar):
    src = RGB16[(byteorder, planar)]
    frame = encode_frame(src, rows=1, columns=2, samples_per_pixel=3,
                         bits_allocated=16, byteorder=byteorder,
                         planar_configuration=planar)
    assert frame == RGB16_EXPECTED


@pytest.mark.parametrize(("src", "kwargs", "expected"), FRAME_PARAMS)
def test_expected_frames_are_consistent(src, kwargs, expected):
    """The hand-written frames obey G.4/G.5 (guards against typos)."""
    count = int.from_bytes(expected[:4], "little")
    offsets = [int.from_bytes(expected[4 + 4 * i : 8 + 4 * i], "little")
               for i in range(15)]
    assert count == kwargs["samples_per_pixel"] * kwargs["bits_allocated"] // 8
    assert offsets[0] == 64
    assert offsets[count:] == [0] * (15 - count)
    ends = offsets[1:count] + [len(expected)]
    for start, end in zip(offsets[:count], ends):
        assert (end - start) % 2 == 0
        walk(expected[start:end], kwargs["rows"] * kwargs["columns"])


def test_planar_configurations_give_identical_output():
    rng = np.random.default_rng(1)
    arr = rng.integers(0, 4, size=(9, 70, 3), dtype=np.uint16) * 0x0101
    interleaved = encode_frame(arr, rows=9, columns=70, samples_per_pixel=3,
                               bits_allocated=16)
    planar = encode_frame(np.ascontiguousarray(arr.transpose(2, 0, 1)), rows=9,
                          columns=70, samples_per_pixel=3, bits_allocated=16,
                          planar_configuration=1)
    assert interleaved == planar


# Golden encodings: synthetic frames built from integer arithmetic only, so
# they are the same on every platform and numpy version.


def _golden_u16() -> np.ndarray:
    y, x = np.mgrid[0:24, 0:37].astype(np.uint32)
    arr = (y * 97 + x * 13) % 4096  # gradient: literals in the low byte
    arr[5:12] = 1000  # flat rows: runs in both bytes
    arr[14:18, 3:33] = (x[14:18, 3:33] * x[14:18, 3:33] * 7919 + y[14:18, 3:33]) % 65536
    arr[20:, :] = np.where((x[20:] // 3) % 2, 0x0102, 0x0101)  # runs of 3
    return arr.astype("<u2")


def _golden_rgb8() -> np.ndarray:
    y, x = np.mgrid[0:16, 0:29].astype(np.uint32)
    red = (x * 9) % 256
    green = np.where(y < 8, 200, (y * 31) % 256)
    blue = (x * 73 + y * 151) % 256
    return np.stack([red, green, blue], axis=-1).astype(np.uint8)


def _golden_rgb16_planar_be() -> np.ndarray:
    y, x = np.mgrid[0:10, 0:13].astype(np.uint32)
    planes = [x * 5000, np.full_like(x, 0xABAB), (x * y * 257) % 65536]
    return np.stack(planes).astype(">u2")  # (samples, rows, columns)


GOLDEN = {
    # name: (array builder, encode_frame kwargs)
    "u16_grey": (_golden_u16, dict(rows=24, columns=37, samples_per_pixel=1,
                                   bits_allocated=16)),
    "rgb8": (_golden_rgb8, dict(rows=16, columns=29, samples_per_pixel=3,
                                bits_allocated=8)),
    "rgb16_planar_be": (_golden_rgb16_planar_be, dict(
        rows=10, columns=13, samples_per_pixel=3, bits_allocated=16,
        byteorder=">", planar_configuration=1)),
}


def _decoded_as_source(name: str) -> np.ndarray:
    """The golden source as decoders return it: (rows, columns, samples) of
    native unsigned integers."""
    arr = GOLDEN[name][0]()
    kwargs = GOLDEN[name][1]
    if kwargs.get("planar_configuration"):
        arr = arr.transpose(1, 2, 0)
    arr = arr.reshape(kwargs["rows"], kwargs["columns"], kwargs["samples_per_pixel"])
    return arr.astype(arr.dtype.newbyteorder("="))


@pytest.mark.parametrize("name", list(GOLDEN))
def test_golden_source_unchanged(name):
    """The committed source is what the builder makes."""
    src = (DATA / f"golden_{name}.raw").read_bytes()
    assert src == GOLDEN[name][0]().tobytes()


@pytest.mark.parametrize("name", list(GOLDEN))
def test_golden_encoding_unchanged(name):
    src = (DATA / f"golden_{name}.raw").read_bytes()
    expected = (DATA / f"golden_{name}.rle").read_bytes()
    assert encode_frame(src, **GOLDEN[name][1]) == expected


@pytest.mark.parametrize("decoder", list(decoders.FRAME_DECODERS))
@pytest.mark.parametrize("name", list(GOLDEN))
def test_golden_encoding_decodes(name, decoder):
    """The committed encodings are right, independently of our encoder."""
    kwargs = GOLDEN[name][1]
    frame = (DATA / f"golden_{name}.rle").read_bytes()
    out = decoders.FRAME_DECODERS[decoder](frame, kwargs["rows"], kwargs["columns"],
                                     kwargs["samples_per_pixel"],
                                     kwargs["bits_allocated"])
    np.testing.assert_array_equal(out, _decoded_as_source(name))


def write_golden() -> None:  # pragma: no cover - run by hand
    DATA.mkdir(exist_ok=True)
    for name, (build, kwargs) in GOLDEN.items():
        src = build().tobytes()
        (DATA / f"golden_{name}.raw").write_bytes(src)
        (DATA / f"golden_{name}.rle").write_bytes(encode_frame(src, **kwargs))


if __name__ == "__main__":  # pragma: no cover
    write_golden()
