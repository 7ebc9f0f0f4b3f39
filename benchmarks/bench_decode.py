"""Decoding benchmarks, side by side in one run, with ratios:

1. pydicom's ``RLELosslessDecoder.as_array(ds, decoding_plugin=...)`` over
   every RLE file of the corpus: dicomrle vs pylibjpeg(-rle) vs pydicom
   (goals: >= 2x pylibjpeg, >= 10x pydicom);
2. ``dicomrle.pixel_array`` on a multi-frame 512 x 512 16-bit dataset of
   real CT/MR frames (bench_batch's) with 2 threads vs ``ds.pixel_array``
   with pylibjpeg-rle (goal >= 10x), and its peak memory against the size
   of the array.

``--quick`` makes a small pass for CI.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tracemalloc
import warnings
from pathlib import Path

import pydicom

sys.path.insert(0, str(Path(__file__).parent))

import dicomrle
from bench_batch import best_interleaved, dataset, frame_stack
from frames import corpus_dirs


def rle_corpus() -> list[pydicom.Dataset]:
    from pydicom.uid import RLELossless

    out = []
    for folder in corpus_dirs():
        for path in sorted(folder.rglob("*")):
            if "rle" not in path.name.lower() or not path.is_file():
                continue
            try:
                ds = pydicom.dcmread(path)
            except Exception:  # noqa: BLE001 - not DICOM
                continue
            if ds.file_meta.get("TransferSyntaxUID") == RLELossless:
                out.append(ds)
    return out


def bench_corpus(repeat: int) -> dict[str, float]:
    from pydicom.pixels.decoders import RLELosslessDecoder

    dicomrle.register()
    files = rle_corpus()

    def route(plugin: str):
        def run() -> None:
            for ds in files:
                RLELosslessDecoder.as_array(ds, decoding_plugin=plugin)

        return run

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return best_interleaved(
            {p: route(p) for p in ("dicomrle", "pylibjpeg", "pydicom")}, repeat
        )


def bench_dataset(frames: int, repeat: int) -> tuple[dict[str, float], float]:
    stack = frame_stack(frames)
    ds = dicomrle.compress(dataset(stack.tobytes(), frames))
    del stack

    def pylibjpeg() -> None:
        ds.pixel_array_options(decoding_plugin="pylibjpeg")
        ds._pixel_array = None
        ds._pixel_id = {}
        _ = ds.pixel_array

    times = best_interleaved(
        {
            "dicomrle": lambda: dicomrle.pixel_array(ds, threads=2),
            "pylibjpeg": pylibjpeg,
        },
        repeat,
    )
    gc.collect()
    tracemalloc.start()
    arr = dicomrle.pixel_array(ds, threads=2)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return times, peak / arr.nbytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a small pass for CI")
    args = parser.parse_args()
    repeat = 2 if args.quick else 5
    frames = 20 if args.quick else 500

    t = bench_corpus(repeat)
    print("RLE corpus through RLELosslessDecoder.as_array (best of", repeat, "runs)")
    for name, s in t.items():
        print(f"  {name:10s} {s * 1000:9.1f} ms  {s / t['dicomrle']:6.1f}x dicomrle")
    print(
        f"  dicomrle vs pylibjpeg: {t['pylibjpeg'] / t['dicomrle']:.1f}x (goal 2x), "
        f"vs pydicom: {t['pydicom'] / t['dicomrle']:.1f}x (goal 10x)"
    )
    t, peak = bench_dataset(frames, repeat)
    print(f"{frames} frames of 512 x 512 x 16 bits (real CT/MR), 2 threads")
    for name, s in t.items():
        print(f"  {name:10s} {s * 1000:9.1f} ms")
    print(
        f"  dicomrle.pixel_array vs ds.pixel_array (pylibjpeg): "
        f"{t['pylibjpeg'] / t['dicomrle']:.1f}x (goal 10x); peak traced memory "
        f"{peak:.3f}x the output array"
    )


if __name__ == "__main__":
    main()
