"""Benchmark of the batch layer: a large multi-frame dataset and a folder of
files, dicomrle against pydicom's ``Dataset.compress`` with pylibjpeg-rle
and with GDCM (and pydicom's own encoder), and dicomrle's scaling from 1 to
N threads.

Usage::

    python benchmarks/bench_batch.py            # 500 frames, 200 files
    python benchmarks/bench_batch.py --quick    # under a minute
    python benchmarks/bench_batch.py --json results.json

Every time is the best of ``--repeat`` runs unless the table says "once".
The slow pydicom routes run on all frames once, or on a subset of the
frames scaled up to all of them: the table says which. The goals of issue 4
(2 threads >= 1.8x one thread; the dataset path >= 20x pydicom with
pylibjpeg-rle) are reported, not asserted. Thread scaling is shown next to
the same machine's ceilings, timed in turns with the dicomrle rows so that
they see the machine as it was: the speed-up of N *processes* each running
``dicomrle.compress`` on one thread on its share of the frames, which no
thread pool can beat, and that of N processes doing pure arithmetic, which
tells what the cores themselves give; on a shared or noisy machine, or one
whose virtual cores share physical ones, both are below N.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import multiprocessing
import multiprocessing.pool
import os
import platform
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, RLELossless

import dicomrle
from dicomrle.codec.jobs import usable_cores
from dicomrle.dicom.compress import write_dataset

# The corpus helpers live with the tests, in tests/support/.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.frames import corpus_dirs  # noqa: E402

MB = 1e6
PYDICOM_3 = int(pydicom.__version__.split(".")[0]) >= 3


def find(name: str) -> Path:
    """A file of pydicom's test files or of pydicom-data."""
    for folder in corpus_dirs():
        if (folder / name).exists():
            return folder / name
    sys.exit(f"{name} not found: pip install pydicom-data (the bench extra)")


def read(path: Path) -> Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(path)


# --------------------------------------------------------------- the data


def real_frames() -> list[np.ndarray]:
    """512 x 512 16-bit frames of real images: the CT 693_UNCR and the four
    quarters of the 1024 x 1024 MR MR2_UNCR, as unsigned 16-bit."""
    ct = read(find("693_UNCR.dcm")).pixel_array.astype(np.int32)
    ct = (ct - ct.min()).astype("<u2")
    mr = read(find("MR2_UNCR.dcm")).pixel_array.astype("<u2")
    assert ct.shape == (512, 512) and mr.shape == (1024, 1024)
    quarters = [mr[r : r + 512, c : c + 512] for r in (0, 512) for c in (0, 512)]
    return [ct, *quarters]


def frame_stack(count: int) -> np.ndarray:
    """`count` frames, each a real frame shifted by its own amount, so that
    no two are equal and each compresses as real images do."""
    sources = real_frames()
    out = np.empty((count, 512, 512), dtype="<u2")
    for i in range(count):
        source = sources[i % len(sources)]
        out[i] = np.roll(source, (3 * i % 512, 7 * i % 512), axis=(0, 1))
    return out


def dataset(pixel_data: bytes, frames: int) -> Dataset:
    """A new multi-frame dataset around `pixel_data`, shared, not copied."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7.3"
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3.4"
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7.3"
    ds.SOPInstanceUID = "1.2.3.4"
    ds.Rows = ds.Columns = 512
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
    ds.PixelRepresentation = 0
    ds.NumberOfFrames = frames
    ds.PixelData = pixel_data
    ds["PixelData"].VR = "OW"
    if not PYDICOM_3:  # pragma: no cover
        ds.is_little_endian, ds.is_implicit_VR = True, False
    return ds


# Files every route encodes right (little-endian, 8 or 16 bits, Planar
# Configuration 0): the folder benchmark compares like with like.
FOLDER_FILES = [
    "693_UNCR.dcm",  # CT 512 x 512
    "MR2_UNCR.dcm",  # MR 1024 x 1024
    "CT_small.dcm",
    "MR_small.dcm",
    "US1_UNCR.dcm",  # RGB 640 x 480
    "emri_small.dcm",  # 10 frames
    "color-px.dcm",
    "SC_rgb_16bit.dcm",
]


def make_folder(root: Path, count: int) -> list[Path]:
    """`count` copies of the corpus files, in sub-folders of 50."""
    sources = [find(name) for name in FOLDER_FILES]
    paths = []
    for i in range(count):
        src = sources[i % len(sources)]
        dst = root / f"part{i // 50}" / f"{i:04d}-{src.name}"
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        paths.append(dst)
    return paths


# ---------------------------------------------------------------- timing


def best(func: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def best_interleaved(
    funcs: dict[str, Callable[[], object]], repeat: int
) -> dict[str, float]:
    """The best time of each of `funcs`, run in turns (a, b, a, b, ...), so
    that a change in the machine's load hits all of them alike."""
    times: dict[str, list[float]] = {name: [] for name in funcs}
    for _ in range(repeat):
        for name, func in funcs.items():
            start = time.perf_counter()
            func()
            times[name].append(time.perf_counter() - start)
    return {name: min(values) for name, values in times.items()}


def pydicom_compress(ds: Dataset, plugin: str) -> Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds.compress(RLELossless, encoding_plugin=plugin)
    return ds


def available(plugin: str) -> bool:
    if PYDICOM_3:
        from pydicom.pixels.encoders import RLELosslessEncoder
    else:  # pragma: no cover
        from pydicom.encoders import RLELosslessEncoder
    return (
        RLELosslessEncoder.is_available
        and plugin in RLELosslessEncoder.available_plugins
    )


_SHARED: dict[str, bytes] = {}
FRAME_BYTES = 512 * 512 * 2


def _compress_part(bounds: tuple[int, int]) -> None:
    """dicomrle.compress on one thread, on frames lo..hi of the shared data."""
    lo, hi = bounds
    # A view: slicing the bytes would copy them, which the serial run,
    # given all of them, does not.
    data = memoryview(_SHARED["data"])[lo * FRAME_BYTES : hi * FRAME_BYTES]
    dicomrle.compress(dataset(data, hi - lo), threads=1)


def _arithmetic(_: object = None) -> int:
    """About 0.1 s of arithmetic on a few registers: no memory traffic."""
    x = 0
    for i in range(2_000_000):
        x ^= i * 7
    return x


SPLIT = "ceiling: the same work, {n} processes of 1 thread"
ARITHMETIC_ONE = "ceiling: arithmetic, 1 process"
ARITHMETIC_ALL = "ceiling: arithmetic, {n} processes"


def ceiling_routes(
    pool: multiprocessing.pool.Pool, frames: int, workers: int
) -> dict[str, Callable[[], object]]:
    """Timings that show what the machine gives `workers` cores at that
    moment, run in turns with the dicomrle rows: the same compress work
    split over `workers` processes of one thread each, where threads share
    nothing (against the threads=1 row, the most a pool of threads can
    reach), and arithmetic on 1 and on `workers` processes, which shares
    not even memory (below `workers` when the virtual cores share physical
    ones or the host is busy)."""
    parts = [(i * frames // workers, (i + 1) * frames // workers) for i in range(workers)]
    return {
        SPLIT.format(n=workers): lambda: pool.map(_compress_part, parts, chunksize=1),
        ARITHMETIC_ONE: lambda: pool.map(_arithmetic, range(1), chunksize=1),
        ARITHMETIC_ALL.format(n=workers): lambda: pool.map(
            _arithmetic, range(workers), chunksize=1
        ),
    }


# ------------------------------------------------------------ benchmarks


def bench_dataset(args: argparse.Namespace, threads: int) -> dict:
    frames = args.frames
    print(
        f"building {frames} frames of 512 x 512 x 16 bits from 693_UNCR, MR2_UNCR",
        file=sys.stderr,
    )
    stack = frame_stack(frames)
    data = stack.tobytes()
    size_in = len(data)
    rows: list[dict] = []

    def add(route: str, seconds: float, note: str) -> None:
        rows.append({"route": route, "seconds": seconds, "note": note})
        print(f"  {route}: {seconds:.3f} s ({note})", file=sys.stderr)

    # dicomrle: every frame, best of `repeat`.
    one = dicomrle.compress(dataset(data, frames), threads=1).PixelData
    many = dicomrle.compress(dataset(data, frames), threads=threads).PixelData
    assert one == many, "threads=1 and threads=N differ"
    size_out = len(one)
    del one, many
    note = f"{frames} frames, best of {args.repeat}, in turns"
    funcs: dict[str, Callable[[], object]] = {}
    for t in sorted({1, threads}):
        funcs[f"dicomrle.compress threads={t}"] = lambda t=t: dicomrle.compress(
            dataset(data, frames), threads=t
        )
    for t in sorted({1, threads}):
        funcs[f"dicomrle.encode_array threads={t}"] = lambda t=t: dicomrle.encode_array(
            stack, threads=t
        )
    _SHARED["data"] = data
    with contextlib.ExitStack() as resources:
        if threads > 1 and "fork" in multiprocessing.get_all_start_methods():
            pool = resources.enter_context(multiprocessing.get_context("fork").Pool(threads))
            funcs.update(ceiling_routes(pool, frames, threads))
            pool.map(_arithmetic, range(threads), chunksize=1)  # start the workers
        timed = best_interleaved(funcs, args.repeat)
    split = timed.pop(SPLIT.format(n=threads), math.nan)
    arithmetic_one = timed.pop(ARITHMETIC_ONE, math.nan)
    arithmetic_all = timed.pop(ARITHMETIC_ALL.format(n=threads), math.nan)
    for route, seconds in timed.items():
        add(route, seconds, note)

    # pydicom's Dataset.compress: slow, so once, and on a subset if asked.
    for plugin, label, subset in (
        ("pylibjpeg", "pylibjpeg-rle", args.pydicom_frames),
        ("gdcm", "GDCM", args.pydicom_frames),
        ("pydicom", "pydicom native", args.native_frames),
    ):
        route = f"pydicom ds.compress {label}"
        if not available(plugin):
            print(f"  {route}: not available", file=sys.stderr)
            continue
        count = min(subset or frames, frames)
        part = data[: count * 512 * 512 * 2]
        start = time.perf_counter()
        out = pydicom_compress(dataset(part, count), plugin)
        seconds = (time.perf_counter() - start) * frames / count
        if count == frames:
            note = f"{frames} frames, once"
        else:
            note = f"{count} frames once, x{frames / count:g} to {frames}"
        # Check it did the job: the same pixels back.
        if out.file_meta.TransferSyntaxUID != RLELossless:
            raise AssertionError(f"{route} did not compress")
        add(route, seconds, note)

    ceiling = timed["dicomrle.compress threads=1"] / split
    arithmetic = threads * arithmetic_one / arithmetic_all
    return {
        "frames": frames,
        "rows": 512,
        "columns": 512,
        "bits_allocated": 16,
        "bytes_in": size_in,
        "bytes_out": size_out,
        "threads": threads,
        "process_ceiling": ceiling,
        "compute_ceiling": arithmetic,
        "results": rows,
    }


def bench_small_frames(args: argparse.Namespace, threads: int) -> dict:
    """Many small frames (64 x 64 x 16 bits, cut from the real frames):
    where handing frames between threads costs most."""
    count = 1200 if args.quick else 4800
    tiles = frame_stack(8)[:, :64, :64]
    stack = np.ascontiguousarray(
        np.concatenate([np.roll(tiles, i, axis=1) for i in range(count // 8)])
    )
    data = stack.tobytes()

    def small_dataset() -> Dataset:
        ds = dataset(data, count)
        ds.Rows = ds.Columns = 64
        return ds

    funcs: dict[str, Callable[[], object]] = {}
    for t in sorted({1, threads}):
        funcs[f"dicomrle.compress threads={t}"] = lambda t=t: dicomrle.compress(
            small_dataset(), threads=t
        )
        funcs[f"dicomrle.encode_array threads={t}"] = lambda t=t: dicomrle.encode_array(
            stack, threads=t
        )
    note = f"{count} frames, best of {args.repeat}, in turns"
    rows = []
    for route, seconds in best_interleaved(funcs, args.repeat).items():
        rows.append({"route": route, "seconds": seconds, "note": note})
        print(f"  {route}: {seconds:.3f} s ({note}, 64 x 64)", file=sys.stderr)
    return {"frames": count, "bytes_in": len(data), "threads": threads, "results": rows}


def _compress_folder(
    paths: list[Path], src_root: Path, out: Path, route: str, threads: int
) -> None:
    """Read, compress and write every file in this process."""
    for path in paths:
        ds = read(path)
        if route == "dicomrle":
            dicomrle.compress(ds, threads=threads)
        else:
            pydicom_compress(ds, route)
        dst = out / path.relative_to(src_root)
        dst.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        write_dataset(buffer, ds)
        dst.write_bytes(buffer.getvalue())


def bench_folder(args: argparse.Namespace, threads: int, work: Path) -> dict:
    src = work / "in"
    print(f"copying {args.files} corpus files...", file=sys.stderr)
    paths = make_folder(src, args.files)
    size_in = sum(p.stat().st_size for p in paths)
    rows: list[dict] = []
    # The command of this interpreter's installation, not one on PATH.
    cli = str(Path(sysconfig.get_path("scripts")) / "dicomrle")

    def add(route: str, seconds: float, note: str) -> None:
        rows.append({"route": route, "seconds": seconds, "note": note})
        print(f"  {route}: {seconds:.3f} s ({note})", file=sys.stderr)

    out = work / "out"

    def run_cli(jobs: int) -> None:
        shutil.rmtree(out, ignore_errors=True)
        result = subprocess.run(
            [cli, "compress", str(src), "-o", str(out), "-r", "-j", str(jobs)],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode:
            raise RuntimeError(result.stderr)

    def loop(route: str, t: int) -> None:
        shutil.rmtree(out, ignore_errors=True)
        _compress_folder(paths, src, out, route, t)

    # dicomrle: best of `repeat`, in turns.
    funcs: dict[str, Callable[[], object]] = {}
    for jobs in sorted({1, threads}):
        funcs[f"dicomrle compress -j {jobs} (CLI)"] = lambda j=jobs: run_cli(j)
    for t in sorted({1, threads}):
        funcs[f"dicomrle.compress threads={t} (loop)"] = lambda t=t: loop("dicomrle", t)
    timed = best_interleaved(funcs, args.repeat)
    for route, seconds in timed.items():
        note = f"{args.files} files, best of {args.repeat}, in turns"
        add(
            route,
            seconds,
            note + (", process start included" if "CLI" in route else ""),
        )
    run_cli(1)
    size_out = sum(p.stat().st_size for p in out.rglob("*.dcm"))

    # pydicom: once.
    for plugin, label in (("pylibjpeg", "pylibjpeg-rle"), ("gdcm", "GDCM")):
        if available(plugin):
            seconds = best(lambda plugin=plugin: loop(plugin, 1), 1)
            add(
                f"pydicom ds.compress {label} (loop)",
                seconds,
                f"{args.files} files, once",
            )
    return {
        "files": args.files,
        "bytes_in": size_in,
        "bytes_out": size_out,
        "threads": threads,
        "results": rows,
    }


# ----------------------------------------------------------------- report


def seconds_of(section: dict, route: str) -> float | None:
    for row in section["results"]:
        if row["route"] == route:
            return row["seconds"]
    return None


def table(title: str, section: dict, reference: list[tuple[str, str]]) -> list[str]:
    """A Markdown table of `section`, with ratios against `reference`."""
    size_in = section["bytes_in"]
    lines = [
        f"### {title}",
        "",
        "| route | time (s) | MB/s in | "
        + " | ".join(f"x vs {name}" for name, _ in reference)
        + " | how |",
        "|---|---:|---:|" + "---:|" * len(reference) + "---|",
    ]
    for row in section["results"]:
        ratios = []
        for _, route in reference:
            ref = seconds_of(section, route)
            ratios.append(f"{ref / row['seconds']:.1f}" if ref else "-")
        speed = size_in / MB / row["seconds"]
        cells = [row["route"], f"{row['seconds']:.3f}", f"{speed:.0f}", *ratios]
        lines.append("| " + " | ".join([*cells, row["note"]]) + " |")
    return lines


def verdict(value: float | None, goal: float) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    return f"{value:.2f}x (goal >= {goal:g}x: {'met' if value >= goal else 'NOT met'})"


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


def times(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.{digits}f}x"


def report(results: dict) -> str:
    d, f = results["dataset"], results["folder"]
    n = d["threads"]
    busy = results["load_before"] > 0.5
    machine = (
        f"Machine: {results['machine']}; usable cores: {n}; "
        f"Python {results['python']}; pydicom {results['pydicom']}; "
        f"dicomrle {results['dicomrle']}"
    )
    load = (
        f"Load average (1 min) before: {results['load_before']:.2f}, "
        f"after: {results['load_after']:.2f}"
        + (" -- the machine was busy: times and scaling are noisy" if busy else "")
    )
    data = (
        f"Dataset: {d['frames']} frames of 512 x 512 x 16 bits (real CT and MR "
        f"frames, shifted), {d['bytes_in'] / MB:.1f} MB -> "
        f"{d['bytes_out'] / MB:.1f} MB ({d['bytes_in'] / d['bytes_out']:.2f}x)"
    )
    lines = [machine, load, "", data, ""]
    lines += table(
        "Multi-frame dataset",
        d,
        [
            ("pylibjpeg-rle", "pydicom ds.compress pylibjpeg-rle"),
            ("GDCM", "pydicom ds.compress GDCM"),
            ("1 thread", "dicomrle.compress threads=1"),
        ],
    )
    t1 = seconds_of(d, "dicomrle.compress threads=1")
    tn = seconds_of(d, f"dicomrle.compress threads={n}")
    e1 = seconds_of(d, "dicomrle.encode_array threads=1")
    en = seconds_of(d, f"dicomrle.encode_array threads={n}")
    lib = seconds_of(d, "pydicom ds.compress pylibjpeg-rle")
    gdcm = seconds_of(d, "pydicom ds.compress GDCM")
    goal = 1.8 if n == 2 else 0.9 * n
    lines += [
        "",
        f"- scaling of dicomrle.compress, 1 -> {n} threads: "
        + verdict(ratio(t1, tn), goal),
        f"- scaling of dicomrle.encode_array, 1 -> {n} threads: "
        + times(ratio(e1, en), 2),
        f"- this machine's ceiling, {n} processes over 1 (the same compress "
        "work split): " + times(d["process_ceiling"], 2),
        f"- dicomrle.compress with {n} threads reaches "
        + (
            f"{ratio(t1, tn) / d['process_ceiling']:.0%} of that ceiling"
            if ratio(t1, tn) and d["process_ceiling"] == d["process_ceiling"]
            else "-"
        ),
        f"- the ceiling for pure arithmetic, {n} processes over 1 (no memory "
        "traffic, nothing shared): " + times(d.get("compute_ceiling"), 2),
        f"- dicomrle.compress ({n} threads) vs pydicom + pylibjpeg-rle: "
        + verdict(ratio(lib, tn), 20),
        "- dicomrle.compress (1 thread) vs pydicom + pylibjpeg-rle: "
        + times(ratio(lib, t1)),
        f"- dicomrle.compress ({n} threads) vs pydicom + GDCM: "
        + times(ratio(gdcm, tn)),
        "",
    ]
    folder = (
        f"Folder: {f['files']} files (copies of {len(FOLDER_FILES)} corpus images, "
        f"1 to 10 frames), {f['bytes_in'] / MB:.1f} MB -> "
        f"{f['bytes_out'] / MB:.1f} MB ({f['bytes_in'] / f['bytes_out']:.2f}x); "
        "each route reads, compresses and writes every file"
    )
    small = results["small"]
    s1 = seconds_of(small, "dicomrle.compress threads=1")
    sn = seconds_of(small, f"dicomrle.compress threads={n}")
    a1 = seconds_of(small, "dicomrle.encode_array threads=1")
    an = seconds_of(small, f"dicomrle.encode_array threads={n}")

    def rate(seconds: float | None) -> str:
        return "n/a" if not seconds else f"{small['bytes_in'] / seconds / MB:,.0f} MB/s"

    lines += [
        (
            f"Small frames: {small['frames']} frames of 64 x 64 x 16 bits "
            f"({small['bytes_in'] / MB:.1f} MB), best of the runs, in turns:"
        ),
        "",
        (
            f"- dicomrle.compress: {rate(s1)} with 1 thread, {rate(sn)} with {n} "
            f"({times(ratio(s1, sn), 2)})"
        ),
        (
            f"- dicomrle.encode_array: {rate(a1)} with 1 thread, {rate(an)} with {n} "
            f"({times(ratio(a1, an), 2)})"
        ),
        "",
    ]
    lines += [folder, ""]
    lines += table(
        "Folder of files",
        f,
        [
            ("pylibjpeg-rle", "pydicom ds.compress pylibjpeg-rle (loop)"),
            ("GDCM", "pydicom ds.compress GDCM (loop)"),
            ("-j 1", "dicomrle compress -j 1 (CLI)"),
        ],
    )
    c1 = seconds_of(f, "dicomrle compress -j 1 (CLI)")
    cn = seconds_of(f, f"dicomrle compress -j {n} (CLI)")
    lines += ["", f"- scaling of the CLI, -j 1 -> -j {n}: " + times(ratio(c1, cn), 2)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a pass in under a minute")
    parser.add_argument(
        "--json", type=Path, metavar="PATH", help="write the results here"
    )
    parser.add_argument("--frames", type=int, help="frames of the dataset (500)")
    parser.add_argument("--files", type=int, help="files of the folder (200)")
    parser.add_argument("--repeat", type=int, help="runs per dicomrle timing (9)")
    parser.add_argument(
        "--threads",
        type=int,
        default=usable_cores(),
        help="N, the threads (and CLI jobs) to scale to",
    )
    parser.add_argument(
        "--pydicom-frames",
        type=int,
        help="frames pydicom + pylibjpeg-rle/GDCM encode, scaled up "
        "(default: all; 50 with --quick)",
    )
    parser.add_argument(
        "--native-frames",
        type=int,
        help="frames pydicom's own encoder encodes, scaled up (25; 10)",
    )
    args = parser.parse_args(argv)
    quick = args.quick
    args.frames = args.frames or (100 if quick else 500)
    args.files = args.files or (40 if quick else 200)
    args.repeat = args.repeat or (2 if quick else 9)
    if args.pydicom_frames is None:
        args.pydicom_frames = 50 if quick else 0
    if args.native_frames is None:
        args.native_frames = 10 if quick else 25

    results = {
        "command": " ".join([Path(sys.argv[0]).as_posix(), *(argv or sys.argv[1:])]),
        "machine": f"{platform.machine()} {platform.processor() or platform.system()}",
        "python": platform.python_version(),
        "pydicom": pydicom.__version__,
        "dicomrle": dicomrle.__version__,
        "quick": quick,
    }
    results["load_before"] = os.getloadavg()[0]
    start = time.perf_counter()
    results["dataset"] = bench_dataset(args, args.threads)
    results["small"] = bench_small_frames(args, args.threads)
    with tempfile.TemporaryDirectory(prefix="dicomrle-bench-") as work:
        results["folder"] = bench_folder(args, args.threads, Path(work))
    results["seconds"] = time.perf_counter() - start
    results["load_after"] = os.getloadavg()[0]
    print(report(results))
    print(f"\n(benchmark ran in {results['seconds']:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
