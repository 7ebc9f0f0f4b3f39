"""Write a seed corpus for fuzz/fuzz_decode.c into a directory.

    python fuzz/make_decode_seeds.py OUTDIR

Seeds follow the harness's input layout (see the comment at the top of
fuzz_decode.c): an 8-byte description of the output frame, then an encoded
frame. They come from the first rows of pydicom's test files, encoded here
with a plain PackBits encoder of our own (PS3.5 G.3.1), from the RLE frames
of pydicom's *_rle test files as other encoders wrote them (when small
enough), and from a small synthetic frame with each malformation the
decoder must handle: truncations, wrong segment counts, bad offsets, odd
segments without a pad byte, trailing bytes, 0x80 no-ops, longer segments,
runs crossing rows, a replicate header as the last byte, a literal cut by
the segment end. Without pydicom only the synthetic seeds are written.
"""

from __future__ import annotations

import hashlib
import struct
import sys
from pathlib import Path

FLAG_BIG_ENDIAN = 0x01
FLAG_PLANAR = 0x02
FLAG_LSB_FIRST = 0x04
FLAG_FIX_COUNT = 0x08
ALLOCATED = (1, 2, 4, 8)
MAX_LEN = 16384  # run.sh's -max_len for this harness


def describe(rows: int, columns: int, spp: int, ba: int, flags: int = 0) -> bytes:
    return struct.pack(
        "<BHHBBB", flags, rows - 1, columns - 1, spp - 1, ALLOCATED.index(ba), 0
    )


def packbits(row: bytes) -> bytes:
    """PS3.5 G.3.1: replicate runs of 2 or more, literals of the rest."""
    out = bytearray()
    i, n = 0, len(row)
    literal = bytearray()
    while i < n:
        j = i
        while j < n and j - i < 128 and row[j] == row[i]:
            j += 1
        if j - i >= 2:
            while literal:
                out += bytes([len(literal[:128]) - 1]) + literal[:128]
                del literal[:128]
            out += bytes([257 - (j - i), row[i]])
        else:
            literal.append(row[i])
        i = j
    while literal:
        out += bytes([len(literal[:128]) - 1]) + literal[:128]
        del literal[:128]
    return bytes(out)


def frame(planes: list[bytes], columns: int, *, pad: bool = True) -> bytes:
    """An RLE frame of byte planes, each encoded row by row."""
    segments = []
    for plane in planes:
        seg = b"".join(
            packbits(plane[r : r + columns]) for r in range(0, len(plane), columns)
        )
        if pad and len(seg) % 2:
            seg += b"\x00"
        segments.append(seg)
    return header([len(s) for s in segments]) + b"".join(segments)


def header(lengths: list[int], count: int | None = None) -> bytes:
    offsets, at = [], 64
    for n in lengths:
        offsets.append(at)
        at += n
    offsets += [0] * (15 - len(offsets))
    return struct.pack("<16I", len(lengths) if count is None else count, *offsets)


def planes_of(samples: list[list[int]], ba: int) -> list[bytes]:
    """Byte planes of samples (one list per sample), most significant first."""
    out = []
    for values in samples:
        for byte in range(ba - 1, -1, -1):
            out.append(bytes((v >> (8 * byte)) & 0xFF for v in values))
    return out


def with_offsets(data: bytes, offsets: list[int], count: int | None = None) -> bytes:
    head = bytearray(data[:64])
    if count is not None:
        struct.pack_into("<I", head, 0, count)
    for k, off in enumerate(offsets):
        struct.pack_into("<I", head, 4 + 4 * k, off)
    return bytes(head) + data[64:]


def synthetic() -> list[bytes]:
    seeds = []
    rows, columns = 4, 10
    n = rows * columns
    grey = [(i * 2654435761 >> 7) & 0xFFFF if i % 7 else 1000 for i in range(n)]
    rgb = [[(i * 37 + s * 11) & 0xFF for i in range(n)] for s in range(3)]
    # Valid frames in every layout the harness can ask for.
    for ba in ALLOCATED:
        spp = min(3, 15 // ba)
        samples = [[(v * (s + 1)) % (1 << (8 * ba)) for v in grey] for s in range(spp)]
        data = frame(planes_of(samples, ba), columns)
        for flags in range(8):
            seeds.append(describe(rows, columns, spp, ba, flags) + data)
    seeds.append(describe(rows, columns, 3, 1) + frame(rgb, columns))
    seeds.append(describe(rows, columns, 3, 1, FLAG_PLANAR) + frame(rgb, columns))

    d = describe(rows, columns, 1, 2)
    good = frame(planes_of([grey], 2), columns)
    hdr = struct.unpack("<16I", good[:64])
    first, second = hdr[1], hdr[2]
    bad = {
        "truncated": [
            good[:k]
            for k in (0, 1, 63, 64, 65, first + 3, second, second + 1, len(good) - 1)
        ],
        "count": [with_offsets(good, [], c) for c in (0, 1, 3, 15, 16, 0xFFFFFFFF)],
        "offset": [
            with_offsets(good, [first, 10]),
            with_offsets(good, [first, len(good) + 1]),
            with_offsets(good, [first, len(good)]),
            with_offsets(good, [first, len(good) - 1]),
            with_offsets(good, [second, first]),
            with_offsets(good, [first, first]),
            with_offsets(good, [0xFFFFFFFF, second]),
        ],
        "odd": [frame(planes_of([grey], 2), columns, pad=False)],
        "trailing": [good + b"\x01\x02\x03", good + b"\x00" * 64],
        "noop": [
            header([len(good) - second + 2, len(good) - second])
            + b"\x80\x80"
            + good[first:second]
            + good[second:]
        ],
        # One run for the whole plane, crossing every row.
        "rows": [header([2, 2]) + bytes([257 - 40, 7]) + bytes([257 - 40, 9])],
        "longer": [
            header([6, 2]) + bytes([257 - 40, 7, 1, 1, 2, 0]) + bytes([257 - 40, 9])
        ],
        "run-last": [
            header([2, 3]) + bytes([257 - 39, 7]) + bytes([257 - 40, 9, 0x81])
        ],
        "literal-cut": [
            header([2, 6]) + bytes([257 - 40, 7]) + bytes([257 - 38, 9, 0x05, 1, 2, 3])
        ],
    }
    for datas in bad.values():
        for data in datas:
            seeds.append(d + data)
            seeds.append(describe(rows, columns, 1, 2, FLAG_FIX_COUNT) + data)
    seeds.append(describe(rows, columns, 1, 2, FLAG_LSB_FIRST) + good)
    return seeds


FILES = (
    "CT_small.dcm",
    "MR_small.dcm",
    "SC_rgb.dcm",
    "SC_rgb_16bit.dcm",
    "rtdose_1frame.dcm",
)
RLE_FILES = (
    "MR_small_RLE.dcm",
    "SC_rgb_rle.dcm",
    "SC_rgb_rle_16bit.dcm",
    "SC_rgb_rle_32bit.dcm",
    "rtdose_rle_1frame.dcm",
    "OBXXXX1A_rle.dcm",
    "emri_small_RLE.dcm",
)


def from_files() -> list[bytes]:
    try:
        import numpy as np
        import pydicom
        from pydicom.data import get_testdata_file
        from pydicom.encaps import generate_frames
    except ImportError as exc:
        print(
            f"make_decode_seeds: {exc}; writing synthetic seeds only", file=sys.stderr
        )
        return []

    seeds = []
    for name in FILES:
        path = get_testdata_file(name)
        if path is None:
            continue
        ds = pydicom.dcmread(path)
        arr = ds.pixel_array
        if int(getattr(ds, "NumberOfFrames", 1) or 1) > 1:
            arr = arr[0]
        spp = int(ds.SamplesPerPixel)
        ba = int(ds.BitsAllocated) // 8
        arr = arr.reshape(arr.shape[0], arr.shape[1], spp)[:12, :64]
        rows, columns = arr.shape[:2]
        unsigned = arr.astype(f"u{ba}")
        samples = [unsigned[:, :, s].ravel().tolist() for s in range(spp)]
        data = frame(planes_of(samples, ba), columns)
        for flags in (0, FLAG_BIG_ENDIAN, FLAG_PLANAR):
            seeds.append(describe(rows, columns, spp, ba, flags) + data)
    for name in RLE_FILES:
        path = get_testdata_file(name)
        if path is None:
            continue
        ds = pydicom.dcmread(path)
        if ds.file_meta.TransferSyntaxUID != "1.2.840.10008.1.2.5":
            continue
        nframes = int(getattr(ds, "NumberOfFrames", 1) or 1)
        data = next(generate_frames(ds.PixelData, number_of_frames=nframes))
        if len(data) + 8 > MAX_LEN:
            continue
        ba = int(ds.BitsAllocated) // 8
        spp = int(ds.SamplesPerPixel)
        seeds.append(describe(int(ds.Rows), int(ds.Columns), spp, ba) + data)
    del np
    return seeds


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python fuzz/make_decode_seeds.py OUTDIR", file=sys.stderr)
        return 2
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    seeds = from_files() + synthetic()
    for seed in seeds:
        name = "seed-" + hashlib.sha1(seed).hexdigest()[:16]
        (out / name).write_bytes(seed)
    print(f"make_decode_seeds: {len(seeds)} seeds in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
