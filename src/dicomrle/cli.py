"""Command line: ``dicomrle compress [PATH ...] [-o DIR]``."""

from __future__ import annotations

import argparse
import os
import sys
import secrets
import time
from collections.abc import Sequence
from pathlib import Path

# pydicom's bundled example images, used when no PATH is given.
EXAMPLES = (
    "CT_small.dcm",
    "MR_small.dcm",
    "examples_overlay.dcm",
    "examples_palette.dcm",
    "examples_rgb_color.dcm",
    "rtdose.dcm",
)


def example_paths() -> list[Path]:
    """Return the paths of pydicom's bundled example images."""
    from pydicom.data import get_testdata_file

    return [Path(p) for name in EXAMPLES if (p := get_testdata_file(name))]


def compress_file(src: Path, dst: Path) -> tuple[int, int]:
    """Write an RLE Lossless copy of the DICOM file `src` to `dst`.

    The copy is written to a temporary file beside `dst` and renamed, so
    `dst` is either complete or absent. `src` is only read.

    Returns
    -------
    tuple[int, int]
        The sizes of `src` and `dst` in bytes.
    """
    import pydicom

    from dicomrle._dataset import compress_dataset, write_dataset

    ds = pydicom.dcmread(src)
    compress_dataset(ds)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.parent / f".{dst.name}.{secrets.token_hex(4)}.part"
    try:
        with open(tmp, "xb") as f:
            write_dataset(f, ds)
        os.replace(tmp, dst)
    except BaseException:
        os.unlink(tmp)
        raise
    return src.stat().st_size, dst.stat().st_size


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def _line(name: str, before: int, after: int, seconds: float) -> str:
    ratio = before / after if after else 0.0
    return (
        f"{name:<32} {_size(before):>9} -> {_size(after):>9}  "
        f"{ratio:5.2f}x  {seconds * 1000:8.1f} ms"
    )


def _compress(paths: Sequence[Path], outdir: Path) -> int:
    from pydicom.errors import InvalidDicomError

    from dicomrle._dataset import NotEncodable

    total_before = total_after = 0
    failed = skipped = done = 0
    used: set[str] = set()
    start = time.perf_counter()
    for src in paths:
        name = src.name
        stem, n = name, 1
        while name in used:  # two inputs with one name: keep both
            name = f"{Path(stem).stem}_{n}{Path(stem).suffix}"
            n += 1
        used.add(name)
        t0 = time.perf_counter()
        try:
            before, after = compress_file(src, outdir / name)
        except (NotEncodable, InvalidDicomError) as exc:
            skipped += 1
            print(f"{src.name:<32} skipped: {exc}")
            continue
        except Exception as exc:  # one bad file must not stop the others
            failed += 1
            print(f"{src.name:<32} FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
            continue
        done += 1
        total_before += before
        total_after += after
        print(_line(name, before, after, time.perf_counter() - t0))
    print(
        _line(f"total: {done} written", total_before, total_after,
              time.perf_counter() - start)
        + f"  ({skipped} skipped, {failed} failed) -> {outdir}"
    )
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``dicomrle`` command; return its exit code."""
    parser = argparse.ArgumentParser(
        prog="dicomrle", description="DICOM RLE Lossless encoder"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    compress = commands.add_parser(
        "compress",
        help="write an RLE Lossless copy of DICOM files",
        description="Write an RLE Lossless copy of each DICOM file; inputs are "
        "never modified. With no PATH, compress pydicom's bundled example images.",
    )
    compress.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    compress.add_argument(
        "-o", "--output", type=Path, default=Path("dicomrle-output"), metavar="DIR",
        help="folder for the copies (default: ./dicomrle-output)",
    )
    args = parser.parse_args(argv)
    paths = args.paths or example_paths()
    return _compress(paths, args.output)
