"""Write a seed corpus for fuzz/fuzz_walk.c into a directory.

    python fuzz/make_walk_seeds.py OUTDIR

Seeds are real files of pydicom's test files and pydicom-data with their
Pixel Data cut to a few bytes (its length patched to match), so that their
headers, sequences and trailing elements fit in the fuzzer's input size,
and a few synthetic files: nested sequences and items of defined and
undefined length, and elements after the Pixel Data. Without pydicom only
the synthetic seeds are written.
"""

from __future__ import annotations

import hashlib
import struct
import sys
from pathlib import Path

MAX_SEED = 8192
PIXEL_BYTES = 16


def element(tag: int, vr: bytes, value: bytes) -> bytes:
    head = struct.pack("<HH", tag >> 16, tag & 0xFFFF) + vr
    if vr in (b"OB", b"OW", b"SQ", b"UN", b"UT", b"UC", b"UR", b"OD", b"OF", b"OL"):
        return head + struct.pack("<HI", 0, len(value)) + value
    return head + struct.pack("<H", len(value)) + value


def undefined_sequence(tag: int, items: list[bytes]) -> bytes:
    body = b"".join(
        struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)
        + item
        + struct.pack("<HHI", 0xFFFE, 0xE00D, 0)
        for item in items
    )
    head = struct.pack("<HH", tag >> 16, tag & 0xFFFF) + b"SQ"
    return (
        head
        + struct.pack("<HI", 0, 0xFFFFFFFF)
        + body
        + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    )


def defined_sequence(tag: int, items: list[bytes]) -> bytes:
    body = b"".join(
        struct.pack("<HHI", 0xFFFE, 0xE000, len(item)) + item for item in items
    )
    return element(tag, b"SQ", body)


def synthetic() -> list[bytes]:
    meta = element(0x00020001, b"OB", b"\x00\x01") + element(
        0x00020010, b"UI", b"1.2.840.10008.1.2.1\x00"
    )
    meta = element(0x00020000, b"UL", struct.pack("<I", len(meta))) + meta
    head = bytes(128) + b"DICM" + meta
    inner = element(0x00100010, b"PN", b"A^B ")
    deeper = defined_sequence(0x00081150, [inner])
    nested = undefined_sequence(0x00081140, [inner, deeper])
    image = (
        element(0x00280002, b"US", struct.pack("<H", 1))
        + element(0x00280004, b"CS", b"MONOCHROME2 ")
        + element(0x00280010, b"US", struct.pack("<H", 2))
        + element(0x00280011, b"US", struct.pack("<H", 4))
        + element(0x00280100, b"US", struct.pack("<H", 8))
    )
    pixels = element(0x7FE00010, b"OB", bytes(range(8)))
    tail = element(0xFFFCFFFC, b"OB", bytes(4))
    return [
        head + nested + image + pixels,
        head + image + pixels + tail,
        head + defined_sequence(0x00081140, [nested]) + image + pixels,
        head + image,
    ]


def shrunk(data: bytes) -> bytes | None:
    """`data` with its Pixel Data cut to PIXEL_BYTES, or None."""
    from dicomrle.dicom import walk as _walk

    status, info = _walk.walk_file(data, len(data))
    if status != _walk.OK:
        return data[:MAX_SEED] if len(data) > 132 else None
    _, offset, length, _ = info["PixelData"]
    keep = min(length, PIXEL_BYTES)
    head = bytearray(data[:offset])
    struct.pack_into("<I", head, offset - 4, keep)
    out = bytes(head) + data[offset : offset + keep] + data[offset + length :]
    return out if len(out) <= MAX_SEED else None


def main(outdir: str) -> None:
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    seeds = synthetic()
    try:
        import pydicom
    except ImportError:
        pydicom = None
    if pydicom is not None:
        folders = [Path(pydicom.__file__).parent / "data" / "test_files"]
        try:
            import data_store

            folders.append(Path(data_store.__file__).parent / "data")
        except ImportError:
            pass
        for folder in folders:
            for path in sorted(folder.rglob("*.dcm")):
                seed = shrunk(path.read_bytes())
                if seed is not None:
                    seeds.append(seed)
    for seed in seeds:
        (out / hashlib.sha1(seed).hexdigest()).write_bytes(seed)
    print(f"{len(seeds)} seeds in {out}")


if __name__ == "__main__":
    main(sys.argv[1])
