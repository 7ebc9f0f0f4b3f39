"""dicomrle's round trips over pydicom's test images and the decoder's
malformed frames, for a wheel on another CPU: tools/test_wheel_aarch64.sh
runs it under qemu-aarch64 and on x86-64 and compares the two digests.

- Every uncompressed image of tests/support/corpus.py (pydicom's test files,
  and pydicom-data's when installed): its pixels (NumPy, pydicom's reader)
  through ``encode_array`` and ``encode_frame`` (the same bytes), each frame
  back through ``decode_frame``; its stored bytes (either byte order and
  planar configuration) through ``encode_frame`` and ``decode_frame``; every
  instruction set of this CPU against the scalar reference, both directions;
  ``compress`` of the dataset, decoded by ``pixel_array`` and by pydicom's
  own RLE decoder.
- Every RLE Lossless test image: ``pixel_array`` against pydicom's decoder.
- Every malformed frame of tests/support/malformed.py: accepted with the
  policy's pixels, or refused with a ValueError of the policy's kind.

The digest (--digest FILE) holds, for every case, a hash of what dicomrle
gave or the error message: the same file on every CPU.
Usage: PYTHONPATH=tests python tools/aarch64_roundtrip.py [--digest FILE]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import re
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pydicom
from pydicom.pixels import pixel_array as pydicom_pixels
from pydicom.uid import RLELossless

import dicomrle
from dicomrle.codec import rle
from support import corpus, malformed

KINDS = {
    "header": r"^the RLE frame is",
    "segment_count": r"^the RLE header says",
    "offset": r"^RLE segment \d+ (of \d+ starts at|offset)",
    "short": r"^RLE segment \d+ of \d+ decodes to",
}


def sha(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part)
    return h.hexdigest()[:16]


def read(path: Path) -> pydicom.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(path)


def pydicom_rle(ds: pydicom.Dataset) -> np.ndarray:
    return pydicom_pixels(ds, raw=True, decoding_plugin="pydicom")


def uncompressed(image: corpus.Image) -> str:
    ds = read(image.path)
    rows, columns, samples, bits = ds.Rows, ds.Columns, image.samples, image.bits_allocated
    pixels = pydicom_pixels(ds, raw=True)
    frames = pixels.reshape(image.frames, rows, columns, samples)
    size = rows * columns * samples * bits // 8
    kw = dict(rows=rows, columns=columns, samples_per_pixel=samples, bits_allocated=bits)

    encoded = dicomrle.encode_array(pixels, samples_per_pixel=samples, bits_allocated=bits)
    assert len(encoded) == image.frames
    stored = bytes(ds.PixelData)
    order = ">" if image.big_endian else "<"
    for k, (frame, rle_frame) in enumerate(zip(frames, encoded)):
        raw = np.ascontiguousarray(frame.astype(frame.dtype.newbyteorder("<"))).tobytes()
        assert dicomrle.encode_frame(raw, **kw) == rle_frame, (image.id, k)
        assert dicomrle.decode_frame(rle_frame, **kw) == raw, (image.id, k)
        # The bytes as stored: their byte order and planar configuration.
        src = stored[k * size : (k + 1) * size]
        as_stored = dict(kw, byteorder=order, planar_configuration=image.planar)
        again = dicomrle.encode_frame(src, **as_stored)
        assert dicomrle.decode_frame(again, **as_stored) == src, (image.id, k)
        # Every instruction set against the scalar reference.
        c_frame = rle.Frame(rows, columns, samples, bits, byteorder="<")
        for isa in rle.ISAS:
            assert rle.encode(c_frame, raw, isa=isa) == rle_frame, (image.id, k, isa)
            assert rle.decode(c_frame, rle_frame, isa=isa) == rle.decode(
                c_frame, rle_frame, isa="scalar"
            ), (image.id, k, isa)

    copy = read(image.path)
    dicomrle.compress(copy, threads=2)
    assert copy.file_meta.TransferSyntaxUID == RLELossless
    ours = dicomrle.pixel_array(copy, threads=2)
    np.testing.assert_array_equal(ours, pixels, err_msg=image.id)
    np.testing.assert_array_equal(pydicom_rle(copy), pixels, err_msg=image.id)
    return sha(*encoded, bytes(copy.PixelData))


def rle_image(path: Path) -> str:
    ds = read(path)
    ours = dicomrle.pixel_array(ds, threads=2)
    theirs = pydicom_rle(ds)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape, path.name
    np.testing.assert_array_equal(ours, theirs, err_msg=path.name)
    return sha(str(ours.dtype).encode(), str(ours.shape).encode(), ours.tobytes())


def rle_images() -> list[Path]:
    found = []
    for folder in corpus._folders():
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix in ("", ".dcm"):
                try:
                    ds = pydicom.dcmread(path, stop_before_pixels=True)
                    syntax = ds.file_meta.TransferSyntaxUID
                except Exception:
                    continue
                if syntax == RLELossless and "PixelData" in read(path):
                    found.append(path)
    return found


def malformed_frame(v: malformed.Variant) -> str:
    kw = dict(rows=v.rows, columns=v.columns, samples_per_pixel=v.samples, bits_allocated=v.bits)
    c_frame = rle.Frame(v.rows, v.columns, v.samples, v.bits, planar_configuration=1)
    try:
        planar = dicomrle.decode_frame(v.frame, **kw, planar_configuration=1)
    except ValueError as exc:
        assert not v.accept, (v.id, str(exc))
        assert re.match(KINDS[v.error], str(exc)), (v.id, str(exc))
        for isa in rle.ISAS:
            try:
                rle.decode(c_frame, v.frame, isa=isa)
            except ValueError as again:
                assert str(again) == str(exc), (v.id, isa)
            else:
                raise AssertionError(f"{v.id}: {isa} accepts it")
        return f"ValueError: {exc}"
    assert v.accept, v.id
    assert planar == v.planar_bytes(), v.id
    dst = bytearray(len(planar))
    assert rle.decode_into(c_frame, v.frame, dst) is v.extra, v.id
    for isa in rle.ISAS:
        assert rle.decode(c_frame, v.frame, isa=isa) == planar, (v.id, isa)
    return f"ok {sha(planar)} extra={v.extra}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--digest", type=Path, help="write the outcomes here (JSON)")
    args = parser.parse_args()
    print(f"{platform.machine()}, Python {platform.python_version()}, "
          f"NumPy {np.__version__}, pydicom {pydicom.__version__}, "
          f"dicomrle {dicomrle.__version__} from {Path(dicomrle.__file__).parent}, "
          f"instruction sets {', '.join(rle.ISAS)}", flush=True)
    digest: dict[str, str] = {}
    for title, cases, run in (
        ("uncompressed images", [(i.id, i) for i in corpus.images()], uncompressed),
        ("RLE Lossless images", [(p.name, p) for p in rle_images()], rle_image),
        ("malformed frames", [(v.id, v) for v in malformed.variants()], malformed_frame),
    ):
        start = time.perf_counter()
        for name, case in cases:
            digest[f"{title}: {name}"] = run(case)
        print(f"{title}: {len(cases)} passed in {time.perf_counter() - start:.1f} s", flush=True)
    malformed.verify()
    if args.digest:
        args.digest.write_text(json.dumps(digest, indent=1, sort_keys=True) + "\n")
    print(f"{len(digest)} passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
