"""Write a seed corpus for fuzz/fuzz_encode.c into a directory.

    python fuzz/make_seeds.py OUTDIR

Seeds follow the harness's input layout (see the comment at the top of
fuzz_encode.c): an 8-byte header, then pixel bytes. They come from the first
rows of pydicom's test files (CT_small.dcm, MR_small.dcm, color-px.dcm,
SC_rgb_16bit.dcm, rtdose.dcm), each in a few layouts, and from synthetic
rows with runs of 127 to 130 bytes around the PackBits limits. Without
pydicom (or pydicom-data) only the synthetic seeds are written.
"""

from __future__ import annotations

import hashlib
import struct
import sys
from pathlib import Path

FLAG_BIG_ENDIAN = 0x01
FLAG_PLANAR = 0x02
FLAG_SIGN_EXTEND = 0x04
FLAG_TWICE = 0x10
FLAG_RAW = 0x20
FLAG_HUGE = 0x40
FLAG_ROW = 0x80

ALLOCATED = (1, 2, 4, 8)
MAX_PIXEL_BYTES = 4096
FILES = ("CT_small.dcm", "MR_small.dcm", "color-px.dcm", "SC_rgb_16bit.dcm", "rtdose.dcm")


def frame_seed(
    pixels: bytes,
    *,
    rows: int,
    columns: int,
    spp: int,
    ba: int,
    bps: int,
    flags: int = 0,
    stretch: int = 1,
) -> bytes:
    """A frame-mode input that the harness decodes to exactly these values."""
    assert 1 <= rows <= 300 and 1 <= columns <= 1024 and 1 <= bps <= ba
    assert 1 <= spp <= 15 // ba
    b6 = ALLOCATED.index(ba) | (bps - 1) << 2
    header = struct.pack("<BHHBBB", flags, rows, columns, spp - 1, b6, stretch)
    return header + pixels


def row_seed(pixels: bytes, length: int = 0, stretch: int = 1) -> bytes:
    return struct.pack("<BHHBBB", FLAG_ROW, length, 0, 0, 0, stretch) + pixels


def huge_seed(rows: int, columns: int, spp: int, ba: int, bps: int) -> bytes:
    header = struct.pack("<BHHBBB", FLAG_HUGE, 0, 0, spp, ba | bps << 4, 1)
    return header + struct.pack("<QQ", rows, columns)


def synthetic() -> list[bytes]:
    seeds = []
    for n in (1, 2, 3, 126, 127, 128, 129, 130, 131, 255, 256, 257, 258):
        run = bytes([7]) * n
        literal = bytes(i % 251 for i in range(n))
        pairs = bytes(i // 2 % 256 for i in range(n))
        for row in (run, literal, pairs, run + literal, literal + run + literal):
            seeds.append(row_seed(row))
        # One byte stretched into runs of n, cycling over a few values.
        seeds.append(row_seed(bytes([1, 2, 3]), length=4 * n, stretch=min(n, 255)))
        columns = min(n, 1024)
        seeds.append(frame_seed(run + literal, rows=2, columns=columns, spp=1, ba=1, bps=1))
        seeds.append(
            frame_seed(bytes([0, 0x80]), rows=3, columns=columns, spp=3, ba=2, bps=1,
                       flags=FLAG_SIGN_EXTEND, stretch=min(n, 255))
        )
    # Every byte layout once, with samples that use the sign bit.
    values = bytes((i * 37) % 256 for i in range(600))
    for ba in ALLOCATED:
        for bps in range(1, ba + 1):
            for flags in range(8):
                spp = min(3, 15 // ba)
                # Half of them encoded twice, with other dst and scratch contents.
                twice = FLAG_TWICE if flags & 1 else 0
                seeds.append(
                    frame_seed(values, rows=5, columns=9, spp=spp, ba=ba, bps=bps,
                               flags=flags | twice)
                )
    # Invalid parameters, to be refused.
    for spp, ba, bps in ((0, 1, 1), (1, 0, 0), (1, 3, 1), (1, 2, 3), (2, 8, 8), (15, 2, 2)):
        seeds.append(struct.pack("<BHHBBB", FLAG_RAW, 4, 4, spp, ba | bps << 4, 1) + values[:64])
    seeds.append(struct.pack("<BHHBBB", 0, 0, 4, 0, 0, 1) + values[:16])
    # Sizes near the 32-bit and size_t limits.
    for rows, columns in ((1 << 32, 1), (1 << 20, 1 << 12), (2**64 - 1, 2), (1, 2**64 - 100)):
        seeds.append(huge_seed(rows, columns, 1, 1, 1))
        seeds.append(huge_seed(rows, columns, 3, 4, 2))
    # Worst cases right at 0xFFFFFFFE, and a rows x row worst case of exactly
    # 2**64 - 1, where adding the pad byte overflows.
    for segments, spp, ba in ((1, 1, 1), (15, 15, 1), (8, 1, 8)):
        for target in range(0xFFFFFFFE - 2, 0xFFFFFFFE + 3):
            columns = columns_for((target - 64) // segments - 1)
            if columns:
                seeds.append(huge_seed(1, columns, spp, ba, 1))
    for rows in (3, 5, 17):
        columns = columns_for((2**64 - 1) // rows)
        if columns:
            seeds.append(huge_seed(rows, columns, 1, 1, 1))
    return seeds


def columns_for(row_worst: int) -> int:
    """Columns whose PackBits worst case, c + ceil(c / 128), is `row_worst`,
    or 0 if there are none."""
    guess = row_worst * 128 // 129
    for c in range(max(1, guess - 2), guess + 3):
        if c + (c + 127) // 128 == row_worst:
            return c
    return 0


def from_files() -> list[bytes]:
    try:
        import numpy as np
        import pydicom
        from pydicom.data import get_testdata_file
    except ImportError as exc:
        print(f"make_seeds: {exc}; writing synthetic seeds only", file=sys.stderr)
        return []

    seeds = []
    for name in FILES:
        path = get_testdata_file(name)
        if path is None:
            print(f"make_seeds: {name} not found; skipped", file=sys.stderr)
            continue
        ds = pydicom.dcmread(path)
        arr = ds.pixel_array
        if int(getattr(ds, "NumberOfFrames", 1) or 1) > 1:
            arr = arr[0]
        spp = int(ds.SamplesPerPixel)
        arr = arr.reshape(int(ds.Rows), int(ds.Columns), spp)
        ba = int(ds.BitsAllocated) // 8
        signed = int(ds.PixelRepresentation) == 1
        columns = int(ds.Columns)
        rows = max(1, min(int(ds.Rows), 300, MAX_PIXEL_BYTES // (columns * spp * ba)))
        part = arr[:rows]
        unsigned = part.view(f"u{ba}")
        sign = FLAG_SIGN_EXTEND if signed else 0

        def add(data: np.ndarray, flags: int, *, ba: int, bps: int, planar: bool) -> None:
            if planar:
                data = data.transpose(2, 0, 1)
            seeds.append(
                frame_seed(np.ascontiguousarray(data).tobytes(), rows=rows, columns=columns,
                           spp=spp, ba=ba, bps=bps,
                           flags=flags | (FLAG_PLANAR if planar else 0))
            )

        for planar in ((False, True) if spp > 1 else (False,)):
            add(unsigned.astype(f"<u{ba}"), sign, ba=ba, bps=ba, planar=planar)
            add(unsigned.astype(f">u{ba}"), sign | FLAG_BIG_ENDIAN, ba=ba, bps=ba, planar=planar)
        # The same samples widened: bytes_per_sample below bytes_allocated.
        wide = ba * 2
        if wide <= 8 and spp * wide <= 15:
            add(unsigned.astype(f"<u{ba}"), sign, ba=wide, bps=ba, planar=False)
        # A row of it as a row-mode seed.
        seeds.append(row_seed(unsigned[0].astype(f"<u{ba}").tobytes()))
    return seeds


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python fuzz/make_seeds.py OUTDIR", file=sys.stderr)
        return 2
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    seeds = from_files() + synthetic()
    for seed in seeds:
        name = "seed-" + hashlib.sha1(seed).hexdigest()[:16]
        (out / name).write_bytes(seed)
    print(f"make_seeds: {len(seeds)} seeds in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
