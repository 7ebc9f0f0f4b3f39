"""Write the vectors file that tools/cross/check.c reads on every target.

Records (every integer a little-endian uint32):
  kind            1: a raw frame to encode, 2: an RLE frame to decode
  name            length, then the bytes
  frame           rows, columns, samples, bytes_allocated, bytes_per_sample,
                  big_endian, planar, sign_extend
  kind 1: src (length, bytes), its expected encoding (length, bytes)
  kind 2: src (length, bytes), outcome (0 ok, 1 header, 2 segment_count,
          3 offset, 4 short), three numbers of the error (see
          support.malformed.reference_decode), extra, expected pixels
          (length, bytes: one plane per sample, little-endian samples)

The expectations come from Python only, never from our C code: encodings
from a port of the scalar reference encoder (csrc/rle_scalar.c), checked
against the golden encodings of tests/data; decodings from the policy's
reference decoder of tests/support/malformed.py, checked against pydicom's
own RLE decoder on the corpus.

    python tools/cross/make_vectors.py OUT
"""

from __future__ import annotations

import struct
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import pydicom
from pydicom.encaps import generate_frames
from pydicom.uid import RLELossless, UncompressedTransferSyntaxes

ROOT = Path(__file__).resolve().parents[2]
MAX_RUN = 128
OUTCOMES = {None: 0, "header": 1, "segment_count": 2, "offset": 3, "short": 4}
# Corpus files left out: what the suite leaves out (tests/support/corpus.py).
SKIP = {"MR_truncated.dcm", "badVR.dcm", "SC_ybr_full_422_uncompressed.dcm"}


# --- the encoder: csrc/rle_scalar.c and csrc/rle_encode.c in Python --------


def put_literal(out: bytearray, data: bytes) -> None:
    for k in range(0, len(data), MAX_RUN):
        chunk = data[k : k + MAX_RUN]
        out.append(len(chunk) - 1)
        out += chunk


def put_replicate(out: bytearray, value: int, length: int) -> None:
    while length >= MAX_RUN:
        out += bytes((257 - MAX_RUN, value))
        length -= MAX_RUN
    if length:
        out += bytes((257 - length, value))


def encode_row(src: bytes) -> bytes:
    """The policy of dicomrle_row_scalar(), run by run."""
    out = bytearray()
    n, i, lit_start, lit_len = len(src), 0, 0, 0
    while i < n:
        run = 1
        room = MAX_RUN - lit_len % MAX_RUN if lit_len % MAX_RUN else 0
        tail = False
        while i + run < n and src[i + run] == src[i]:
            run += 1
        if run == 1 or (run == 2 and room >= 2):
            if lit_len == 0:
                lit_start = i
            lit_len += run
            i += run
            continue
        if run > MAX_RUN and run % MAX_RUN == 1:
            if room:
                lit_len += 1
                i += 1
            else:
                tail = True
            run -= 1
        if lit_len:
            put_literal(out, src[lit_start : lit_start + lit_len])
            lit_len = 0
        put_replicate(out, src[i], run)
        i += run
        if tail:
            lit_start, lit_len = i, 1
            i += 1
    if lit_len:
        put_literal(out, src[lit_start : lit_start + lit_len])
    return bytes(out)


def encode(
    src: bytes,
    rows: int,
    columns: int,
    samples: int,
    ba: int,
    big_endian: bool = False,
    planar: int = 0,
) -> bytes:
    """One frame, bytes_per_sample == bytes_allocated (PS3.5 G.2, G.5)."""
    a = np.frombuffer(src, np.uint8, rows * columns * samples * ba)
    a = (
        a.reshape(samples, rows, columns, ba)
        if planar
        else a.reshape(rows, columns, samples, ba).transpose(2, 0, 1, 3)
    )
    segments = []
    for s in range(samples):
        for b in range(ba):  # most significant first
            plane = a[s, :, :, b if big_endian else ba - 1 - b]
            seg = b"".join(encode_row(row.tobytes()) for row in plane)
            segments.append(seg + b"\x00" * (len(seg) % 2))
    offsets, at = [], 64
    for seg in segments:
        offsets.append(at)
        at += len(seg)
    head = struct.pack("<16I", len(segments), *(offsets + [0] * 15)[:15])
    return head + b"".join(segments)


def encode_frame(
    src,
    *,
    rows,
    columns,
    samples_per_pixel,
    bits_allocated,
    byteorder="<",
    planar_configuration=0,
) -> bytes:
    """dicomrle.encode_frame for tests/support/malformed.py."""
    return encode(
        bytes(src),
        rows,
        columns,
        samples_per_pixel,
        bits_allocated // 8,
        byteorder == ">",
        planar_configuration,
    )


# --- the records -------------------------------------------------------------


def u32(*values: int) -> bytes:
    return struct.pack(f"<{len(values)}I", *values)


def blob(data: bytes) -> bytes:
    return u32(len(data)) + data


def raw_record(
    name: str,
    src: bytes,
    rows,
    columns,
    samples,
    ba,
    big_endian=0,
    planar=0,
    expected: bytes | None = None,
) -> bytes:
    enc = encode(src, rows, columns, samples, ba, big_endian, planar)
    if expected is not None:
        assert enc == expected, f"{name}: the Python encoder is not the golden one"
    return (
        u32(1)
        + blob(name.encode())
        + u32(rows, columns, samples, ba, ba, big_endian, planar, 0)
        + blob(src)
        + blob(enc)
    )


def rle_record(name: str, frame: bytes, rows, columns, samples, bits) -> bytes:
    from support import malformed

    outcome, numbers, extra, pixels = None, (0, 0, 0), False, b""
    try:
        pixels, extra = malformed.reference_decode(frame, rows, columns, samples, bits)
    except ValueError as exc:
        outcome, numbers = exc.args[0], exc.args[2]
    numbers = (*numbers, 0, 0, 0)[:3]
    return (
        u32(2)
        + blob(name.encode())
        + u32(rows, columns, samples, bits // 8, bits // 8, 0, 1, 0)
        + blob(frame)
        + u32(OUTCOMES[outcome], *numbers, int(extra))
        + blob(pixels)
    )


def corpus_files() -> list[Path]:
    folder = Path(pydicom.__file__).parent / "data" / "test_files"
    return [p for p in sorted(folder.rglob("*")) if p.is_file() and p.name not in SKIP]


def corpus_records() -> tuple[list[bytes], int, int]:
    out, raw, rle = [], 0, 0
    for path in corpus_files():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = pydicom.dcmread(path)
            syntax = ds.file_meta.TransferSyntaxUID
            rows, columns, bits = ds.Rows, ds.Columns, ds.BitsAllocated
        except Exception:  # noqa: BLE001 - not a readable image: not corpus
            continue
        if "PixelData" not in ds or bits % 8:
            continue
        samples = ds.get("SamplesPerPixel", 1)
        frames = int(ds.get("NumberOfFrames") or 1)
        name = str(path.relative_to(path.parents[1]))
        if syntax in UncompressedTransferSyntaxes:
            size = rows * columns * samples * bits // 8
            data = ds.PixelData
            if len(data) < size * frames:
                continue
            for k in range(frames):
                out.append(
                    raw_record(
                        f"{name}#{k}",
                        data[k * size : (k + 1) * size],
                        rows,
                        columns,
                        samples,
                        bits // 8,
                        int(not syntax.is_little_endian),
                        int(ds.get("PlanarConfiguration", 0) or 0),
                    )
                )
                raw += 1
        elif syntax == RLELossless:
            arr = ds.pixel_array.reshape(frames, rows, columns, samples)
            for k, frame in enumerate(
                generate_frames(ds.PixelData, number_of_frames=frames)
            ):
                record = rle_record(f"{name}#{k}", frame, rows, columns, samples, bits)
                pixels = record[-rows * columns * samples * bits // 8 :]
                theirs = arr[k].transpose(2, 0, 1).astype(f"<u{bits // 8}").tobytes()
                assert pixels == theirs, f"{name}: the policy is not pydicom's decoder"
                out.append(record)
                rle += 1
    return out, raw, rle


def golden_records() -> list[bytes]:
    shapes = {  # tests/test_format.py GOLDEN
        "u16_grey": (24, 37, 1, 2, 0, 0),
        "rgb8": (16, 29, 3, 1, 0, 0),
        "rgb16_planar_be": (10, 13, 3, 2, 1, 1),
    }
    data = ROOT / "tests" / "data"
    return [
        raw_record(
            f"golden_{name}",
            (data / f"golden_{name}.raw").read_bytes(),
            *shape,
            expected=(data / f"golden_{name}.rle").read_bytes(),
        )
        for name, shape in shapes.items()
    ]


def malformed_records() -> list[bytes]:
    # tests/support/malformed.py makes its frames with dicomrle.encode_frame:
    # the Python port stands in for the package, which is not built here.
    sys.modules["dicomrle"] = types.SimpleNamespace(encode_frame=encode_frame)
    from support import malformed

    malformed.verify()
    return [
        rle_record(f"malformed {v.id}", v.frame, v.rows, v.columns, v.samples, v.bits)
        for v in malformed.variants()
    ]


def main() -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    golden = golden_records()
    corpus, raw, rle = corpus_records()
    bad = malformed_records()
    Path(sys.argv[1]).write_bytes(b"DRLEVEC1" + b"".join(golden + corpus + bad))
    print(
        f"{sys.argv[1]}: {len(golden)} golden, {raw} raw and {rle} RLE corpus "
        f"frames, {len(bad)} malformed frames"
    )


if __name__ == "__main__":
    main()
