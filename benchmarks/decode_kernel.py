"""Time the C RLE Lossless decoder against the other decoders, side by side.

On whole 16-bit CT and MR frames of the corpus (tests/support/frames.py),
encoded by dicomrle first, every decoder decodes the same encoded frames
in one run, interleaved frame by frame (best of N per frame and decoder):

- dicomrle ``_rle.decode`` (a fresh ``bytes`` per frame), with the
  instruction set chosen at run time ("auto") and with the scalar
  reference; and ``_rle.decode_into`` a buffer made once and reused;
- imagecodecs ``dicomrle_decode(src, "<u2")``;
- pylibjpeg-rle ``rle.utils.decode_frame(src, rows * columns, 16, "<")``;
- pydicom's pure-Python ``_rle_decode_frame`` (one run per frame).

All give the same bytes for these one-sample frames: little-endian 16-bit
samples, row by row (checked before timing). The peers write a fresh output
object per call, as ``_rle.decode`` does. Throughput is GB/s of decoded
output.

    python benchmarks/decode_kernel.py            # best of 15
    python benchmarks/decode_kernel.py --quick    # CI: a few frames, best of 3
    python benchmarks/decode_kernel.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # tests/support/
from support import frames as corpus  # noqa: E402

LABELS = {
    "auto": "dicomrle (auto ISA)",
    "into": "dicomrle decode_into (reused dst)",
    "scalar": "dicomrle (scalar reference)",
    "imagecodecs": "imagecodecs.dicomrle_decode",
    "pylibjpeg": "pylibjpeg-rle decode_frame",
    "pydicom": "pydicom _rle_decode_frame (Python)",
}


def ct_mr_frames(limit: int | None) -> list[corpus.Image]:
    """Whole 16-bit one-sample CT and MR frames of at least 128 x 128."""
    import pydicom

    out = []
    for image in corpus.corpus_images():
        if (
            image.bits_allocated != 16
            or image.samples != 1
            or image.rows * image.columns < 128 * 128
        ):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(image.path, stop_before_pixels=True)
        if ds.get("Modality", "") not in ("CT", "MR"):
            continue
        out.append(image)
        if limit and len(out) >= limit:
            break
    return out


def decoders(image: corpus.Image) -> dict[str, Callable[[bytes], object]]:
    from dicomrle.codec import rle as _rle

    rows, columns = image.rows, image.columns
    frame = _rle.Frame(rows, columns, 1, 16)
    dst = bytearray(image.frame_bytes)
    out: dict[str, Callable[[bytes], object]] = {
        "auto": lambda src: _rle.decode(frame, src),
        "into": lambda src: (_rle.decode_into(frame, src, dst), dst)[1],
        "scalar": lambda src: _rle.decode(frame, src, isa="scalar"),
    }
    try:
        import imagecodecs

        out["imagecodecs"] = lambda src: imagecodecs.dicomrle_decode(src, "<u2")
    except ImportError:
        pass
    try:
        from rle.utils import decode_frame

        out["pylibjpeg"] = lambda src: decode_frame(src, rows * columns, 16, "<")
    except ImportError:
        pass
    try:
        from pydicom.pixels.decoders.rle import _rle_decode_frame
    except ImportError:
        from pydicom.pixel_data_handlers.rle_handler import _rle_decode_frame
    out["pydicom"] = lambda src: _rle_decode_frame(src, rows, columns, 1, 16)
    return out


def best(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run(repeats: int, limit: int | None, pydicom_frames: int) -> dict:
    from dicomrle.codec import rle as _rle

    rows = []
    for n, image in enumerate(ct_mr_frames(limit)):
        raw = bytes(image.frame(0))
        src = _rle.encode(_rle.Frame(image.rows, image.columns, 1, 16), raw)
        fns = decoders(image)
        if n >= pydicom_frames:
            fns.pop("pydicom")
        for name, fn in fns.items():
            if bytes(fn(src)) != raw:  # type: ignore[call-overload]
                raise AssertionError(f"{name} decodes {image.name} differently")
        times = {name: float("inf") for name in fns}
        for _ in range(repeats):
            for name, fn in fns.items():
                if name == "pydicom" and times[name] < float("inf"):
                    continue
                times[name] = min(times[name], best(lambda fn=fn, src=src: fn(src)))
        rows.append(
            {
                "name": image.name,
                "rows": image.rows,
                "columns": image.columns,
                "bytes": len(raw),
                "encoded": len(src),
                "seconds": times,
            }
        )
    return summarize(rows)


def summarize(rows: list[dict]) -> dict:
    names = sorted({k for r in rows for k in r["seconds"]}, key=list(LABELS).index)
    totals = {}
    for name in names:
        done = [r for r in rows if name in r["seconds"]]
        n = sum(r["bytes"] for r in done)
        t = sum(r["seconds"][name] for r in done)
        # dicomrle auto on the same frames, for the ratio.
        ours = sum(r["seconds"]["auto"] for r in done)
        totals[name] = {
            "frames": len(done),
            "bytes": n,
            "seconds": t,
            "gb_per_s": n / t / 1e9,
            "auto_speedup": t / ours,
        }
    return {"frames": rows, "totals": totals}


def report(result: dict, repeats: int) -> str:
    from dicomrle.codec import rle as _rle

    totals = result["totals"]
    frames = result["frames"]
    lines = [
        f"{len(frames)} whole 16-bit CT/MR frames, "
        f"{sum(r['bytes'] for r in frames) / 1e6:.1f} MB decoded, "
        f"{sum(r['encoded'] for r in frames) / 1e6:.1f} MB encoded; "
        f"best of {repeats}; dicomrle auto ISA = {_rle.SIMD}; "
        f"{platform.processor() or platform.machine()}",
        "",
        "| decoder | frames | GB/s of output | dicomrle auto is faster by |",
        "|---|---:|---:|---:|",
    ]
    for name, t in totals.items():
        lines.append(
            f"| {LABELS[name]} | {t['frames']} | {t['gb_per_s']:.3g} | "
            f"{t['auto_speedup']:.2f}x |"
        )
    lines.append("")
    lines.append(
        "Every decoder writes the same output here: little-endian 16-bit "
        "samples, interleaved (one sample per pixel, so no planes to "
        "reorder)."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few frames, best of 3")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else args.repeats
    result = run(
        repeats, limit=4 if args.quick else None, pydicom_frames=1 if args.quick else 4
    )
    print(report(result, repeats))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
