"""Drive the C extension through every frame layout, for tools/sanitize.sh.

The test suite is the main load of the sanitizer run; this script makes
sure that run always reaches every code path of the kernel, whatever the
suite holds at the time: every bytes_allocated, bytes_per_sample, byte
order, planar configuration and sign extension, odd and even sizes, runs
around the 128-byte PackBits limits, and buffers of the exact size (bytes,
bytearray, numpy arrays), so that AddressSanitizer sees any read past
them. Each frame is checked against a small PackBits decoder of its own.

Run it with the sanitizer build installed: ``python tools/sanitize_smoke.py``.
"""

from __future__ import annotations

import itertools
import sys

import numpy as np

from dicomrle import encode_frame
from dicomrle.codec import rle as _rle


def unpack(data: bytes, length: int) -> tuple[bytes, int]:
    """Decode `length` bytes of PS3.5 G.3.1 PackBits from the start of
    `data`; return them and the number of bytes of `data` read."""
    out = bytearray()
    i = 0
    while len(out) < length:
        n = data[i]
        i += 1
        if n < 128:
            out += data[i : i + n + 1]
            i += n + 1
        elif n > 128:
            out += data[i : i + 1] * (257 - n)
            i += 1
        else:
            raise AssertionError("PackBits header -128 is never written")
    if len(out) != length:
        raise AssertionError(f"a run crosses the end: {len(out)} bytes, not {length}")
    return bytes(out), i


def decode_frame(frame: bytes, rows: int, columns: int) -> list[bytes]:
    """Return the byte planes of an RLE Lossless frame (PS3.5 G.5), decoding
    row by row, so that a run across two rows fails."""
    header = np.frombuffer(frame[:64], dtype="<u4")
    count = int(header[0])
    offsets = [int(x) for x in header[1 : count + 1]] + [len(frame)]
    if offsets[0] != 64 or any(int(x) for x in header[count + 1 :]):
        raise AssertionError(f"bad header {header.tolist()}")
    planes = []
    for k in range(count):
        segment = frame[offsets[k] : offsets[k + 1]]
        if len(segment) % 2:
            raise AssertionError(f"segment {k} has odd length {len(segment)}")
        plane = bytearray()
        i = 0
        for _ in range(rows):
            row, used = unpack(segment[i:], columns)
            plane += row
            i += used
        if len(segment) - i > 1:
            raise AssertionError(f"segment {k} has {len(segment) - i} bytes left over")
        planes.append(bytes(plane))
    return planes


def expected_planes(
    values: np.ndarray, bytes_allocated: int, bytes_per_sample: int, sign_extend: bool
) -> list[bytes]:
    """Byte planes, most significant first, of `values` (rows, columns,
    samples) of unsigned `bytes_per_sample`-byte integers."""
    bits = 8 * bytes_per_sample
    wide = values.astype(np.uint64)
    if sign_extend and bytes_per_sample < bytes_allocated:
        negative = (wide >> np.uint64(bits - 1)) & np.uint64(1)
        high = np.uint64((1 << (8 * bytes_allocated)) - (1 << bits))
        wide = np.where(negative == 1, wide | high, wide)
    planes = []
    for s in range(values.shape[2]):
        for b in range(bytes_allocated):
            shift = np.uint64(8 * (bytes_allocated - 1 - b))
            plane = (wide[:, :, s] >> shift) & np.uint64(0xFF)
            planes.append(plane.astype(np.uint8).tobytes())
    return planes


def source(values: np.ndarray, bytes_per_sample: int, big: bool, planar: bool) -> bytes:
    dtype = np.dtype(f"{'>' if big else '<'}u{bytes_per_sample}")
    data = values.astype(dtype)
    if planar:
        data = data.transpose(2, 0, 1)
    return np.ascontiguousarray(data).tobytes()


def sample_values(rng: np.random.Generator, shape: tuple[int, ...], bps: int) -> np.ndarray:
    """Random values with long runs and short runs mixed."""
    top = (1 << (8 * bps)) - 1
    values = rng.integers(0, top, size=shape, dtype=np.uint64, endpoint=True)
    flat = values.reshape(-1)
    for _ in range(max(1, flat.size // 50)):
        start = int(rng.integers(0, flat.size))
        flat[start : start + int(rng.integers(1, 300))] = flat[start]
    return values


def check_layouts(rng: np.random.Generator) -> int:
    count = 0
    shapes = [(1, 1), (1, 2), (2, 3), (3, 127), (2, 128), (2, 129), (5, 130), (7, 300)]
    for ba in (1, 2, 4, 8):
        for bps in (b for b in (1, 2, 4, 8) if b <= ba):
            for spp in (s for s in (1, 2, 3) if s * ba <= 15):
                for (rows, columns), big, planar, sign in itertools.product(
                    shapes, (False, True), (False, True), (False, True)
                ):
                    values = sample_values(rng, (rows, columns, spp), bps)
                    data = source(values, bps, big, planar)
                    # Hand the kernel a buffer of exactly the frame's size.
                    desc = _rle.Frame(
                        rows,
                        columns,
                        spp,
                        8 * ba,
                        byteorder=">" if big else "<",
                        planar_configuration=int(planar),
                        bytes_per_sample=bps,
                        sign_extend=sign,
                    )
                    frame = _rle.encode(desc, bytearray(data))
                    got = decode_frame(frame, rows, columns)
                    if got != expected_planes(values, ba, bps, sign):
                        raise AssertionError(
                            f"mismatch: rows={rows} columns={columns} spp={spp} "
                            f"ba={ba} bps={bps} big={big} planar={planar} sign={sign}"
                        )
                    count += 1
    return count


def check_rows(rng: np.random.Generator) -> int:
    count = 0
    for length in (1, 2, 3, 4, 126, 127, 128, 129, 130, 255, 256, 257, 1000):
        rows = [
            bytes(length),
            rng.integers(0, 256, size=length, dtype=np.uint8).tobytes(),
            bytes([i % 2 for i in range(length)]),
            bytes([i // 2 % 256 for i in range(length)]),
            bytes([i // 3 % 256 for i in range(length)]),
        ]
        for row in rows:
            encoded = _rle.encode_row(row)
            if len(encoded) > length + (length + 127) // 128:
                raise AssertionError(f"row of {length} bytes grew to {len(encoded)}")
            if unpack(encoded, length) != (row, len(encoded)):
                raise AssertionError(f"row of {length} bytes does not round-trip")
            count += 1
    return count


def check_public_api(rng: np.random.Generator) -> int:
    count = 0
    for bits, spp, planar in itertools.product((8, 16, 32, 64), (1, 3), (0, 1)):
        if spp * bits // 8 > 15:
            continue
        dtype = np.dtype(f"<u{bits // 8}")
        values = sample_values(rng, (17, 33, spp), bits // 8)
        array = values.astype(dtype)
        if planar:
            array = np.ascontiguousarray(array.transpose(2, 0, 1))
        frame = encode_frame(
            array,
            rows=17,
            columns=33,
            samples_per_pixel=spp,
            bits_allocated=bits,
            planar_configuration=planar,
        )
        if decode_frame(frame, 17, 33) != expected_planes(values, bits // 8, bits // 8, False):
            raise AssertionError(f"encode_frame mismatch: bits={bits} spp={spp}")
        count += 1
    return count


def main() -> int:
    rng = np.random.default_rng(20240505)
    frames = check_layouts(rng)
    rows = check_rows(rng)
    api = check_public_api(rng)
    print(f"sanitize smoke: {frames} frames, {rows} rows, {api} encode_frame calls: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
