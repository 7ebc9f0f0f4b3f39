"""Decoding benchmarks, side by side in one run, with ratios:

1. pydicom's ``RLELosslessDecoder.as_array(ds, decoding_plugin=...)``:
   dicomrle vs pylibjpeg(-rle) vs pydicom (goals: >= 2x pylibjpeg, >= 10x
   pydicom), over two sets: every RLE file the corpus ships (small images
   mostly), and the issue's own set, every 16-bit image of the corpus
   (CT, MR, radiographs, ultrasound) after ``dicomrle.compress``. "floor"
   is a plugin that returns each frame decoded beforehand: what pydicom
   itself spends per frame, which every plugin pays; the ratios above it
   are the plugins' own cost.
2. ``dicomrle.pixel_array`` on a multi-frame 512 x 512 16-bit dataset of
   real CT/MR frames (bench_batch's) with 2 threads vs ``ds.pixel_array``
   with pylibjpeg-rle (goal >= 10x), and its peak memory against the size
   of the array; "floor" is a copy of the decoded array (a new array of
   that size, written once: page faults and memory bandwidth). Then the
   peak traced memory of ``dicomrle.decompress`` against its output.

``--quick`` makes a small pass for CI.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tracemalloc
import types
import warnings
from pathlib import Path

import pydicom

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # tests/support/

import dicomrle
from bench_batch import best_interleaved, dataset, frame_stack
from support.frames import corpus_dirs


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


def compressed_16_bit() -> list[pydicom.Dataset]:
    """Every 16-bit image of the corpus after ``dicomrle.compress``."""
    from support.frames import corpus_paths

    out = []
    for path in corpus_paths():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path)
            if ds.BitsAllocated != 16:
                continue
            try:
                out.append(dicomrle.compress(ds))
            except ValueError:
                continue
    return out


def bench_corpus(
    files: list[pydicom.Dataset], repeat: int
) -> dict[str, float]:
    from pydicom.pixels.decoders import RLELosslessDecoder

    from dicomrle.plugin import DECODER_DEPENDENCIES, decode_pixel_data

    dicomrle.register()
    decoded: dict[bytes, bytes] = {}

    def record(src: bytes, runner: object) -> bytes:
        decoded[bytes(src)] = frame = decode_pixel_data(src, runner)
        return frame

    def floor(src: bytes, runner: object) -> bytes:
        if runner.samples_per_pixel != 1:  # type: ignore[attr-defined]
            runner.set_option("planar_configuration", 0)  # type: ignore[attr-defined]
        return decoded[src]

    module = types.ModuleType("bench_decode_floor")
    module.DECODER_DEPENDENCIES = DECODER_DEPENDENCIES  # type: ignore[attr-defined]
    module.is_available = lambda uid: True  # type: ignore[attr-defined]
    module.record = record  # type: ignore[attr-defined]
    module.floor = floor  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    RLELosslessDecoder.add_plugin("bench-record", (module.__name__, "record"))
    RLELosslessDecoder.add_plugin("floor", (module.__name__, "floor"))

    def route(plugin: str):
        def run() -> None:
            for ds in files:
                RLELosslessDecoder.as_array(ds, decoding_plugin=plugin)

        return run

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            route("bench-record")()
            return best_interleaved(
                {p: route(p) for p in ("dicomrle", "pylibjpeg", "pydicom", "floor")},
                repeat,
            )
    finally:
        RLELosslessDecoder.remove_plugin("bench-record")
        RLELosslessDecoder.remove_plugin("floor")


def bench_dataset(frames: int, repeat: int) -> tuple[dict[str, float], float, float]:
    stack = frame_stack(frames)
    ds = dicomrle.compress(dataset(stack.tobytes(), frames))
    del stack

    def pylibjpeg() -> None:
        ds.pixel_array_options(decoding_plugin="pylibjpeg")
        ds._pixel_array = None
        ds._pixel_id = {}
        _ = ds.pixel_array

    decoded = dicomrle.pixel_array(ds, threads=2)
    times = best_interleaved(
        {
            "dicomrle": lambda: dicomrle.pixel_array(ds, threads=2),
            "pylibjpeg": pylibjpeg,
            "floor": decoded.copy,
        },
        repeat,
    )
    del decoded
    gc.collect()
    tracemalloc.start()
    arr = dicomrle.pixel_array(ds, threads=2)
    peak = tracemalloc.get_traced_memory()[1] / arr.nbytes
    tracemalloc.stop()
    del arr
    gc.collect()
    tracemalloc.start()
    dicomrle.decompress(ds, threads=2)
    decompress_peak = tracemalloc.get_traced_memory()[1] / len(ds.PixelData)
    tracemalloc.stop()
    return times, peak, decompress_peak


def report_corpus(t: dict[str, float]) -> None:
    for name, s in t.items():
        print(f"  {name:10s} {s * 1000:9.2f} ms  {s / t['dicomrle']:6.2f}x dicomrle")
    above = {n: t[n] - t["floor"] for n in ("dicomrle", "pylibjpeg", "pydicom")}
    print(
        f"  dicomrle vs pylibjpeg: {t['pylibjpeg'] / t['dicomrle']:.2f}x (goal 2x), "
        f"vs pydicom: {t['pydicom'] / t['dicomrle']:.2f}x (goal 10x); "
        f"at most, with a decoder that took no time: "
        f"{t['pylibjpeg'] / t['floor']:.2f}x and {t['pydicom'] / t['floor']:.2f}x"
    )
    print(
        f"  above the floor: dicomrle {above['dicomrle'] * 1000:.2f} ms, pylibjpeg "
        f"{above['pylibjpeg'] * 1000:.2f} ms "
        f"({above['pylibjpeg'] / above['dicomrle']:.1f}x), pydicom "
        f"{above['pydicom'] * 1000:.2f} ms "
        f"({above['pydicom'] / above['dicomrle']:.1f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a small pass for CI")
    args = parser.parse_args()
    repeat = 2 if args.quick else 5
    frames = 20 if args.quick else 500
    sets = {
        "RLE files the corpus ships": rle_corpus(),
        "16-bit corpus images after dicomrle.compress": compressed_16_bit(),
    }
    for title, files in sets.items():
        size = sum(len(ds.PixelData) for ds in files)
        print(
            f"{title} ({len(files)} files, {size / 1e6:.1f} MB of RLE) through "
            f"RLELosslessDecoder.as_array (best of {repeat} runs)"
        )
        report_corpus(bench_corpus(files, repeat))
    t, peak, decompress_peak = bench_dataset(frames, repeat)
    print(f"{frames} frames of 512 x 512 x 16 bits (real CT/MR), 2 threads")
    for name, s in t.items():
        print(f"  {name:10s} {s * 1000:9.1f} ms")
    print(
        f"  dicomrle.pixel_array vs ds.pixel_array (pylibjpeg): "
        f"{t['pylibjpeg'] / t['dicomrle']:.1f}x (goal 10x; a copy of the array "
        f"is {t['pylibjpeg'] / t['floor']:.1f}x); peak traced memory "
        f"{peak:.3f}x the output array; dicomrle.decompress {decompress_peak:.3f}x "
        "its output"
    )


if __name__ == "__main__":
    main()
