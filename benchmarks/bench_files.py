"""Files at disk speed: ``dicomrle compress`` against cp, DCMTK's dcmcrle
and GDCM's gdcmconv --rle, side by side in one run, whole processes timed.

Two inputs: a tree of the corpus's uncompressed little-endian 8/16-bit
files (frames.corpus_paths()) copied five times, and one multi-frame CT of
2048 frames of 512 x 512 x 16 bits (1 GiB) made of real CT frames. Each
command runs in turns with the others (a b c d a b c d ...), its output
folder emptied between runs, and the median is taken; the inputs are in the
page cache for all of them. While dicomrle converts the big file, a thread
samples RssAnon (anonymous resident memory: heap and stacks, not the pages
of files) of the process every 2 ms.

    python benchmarks/bench_files.py            # full run, writes FILES_RESULTS.md
    python benchmarks/bench_files.py --quick    # small inputs, 1 run, no file
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from frames import corpus_paths  # noqa: E402

DICOMRLE = [sys.executable, "-m", "dicomrle", "compress"]
# Corpus files no encoder can convert (tests/corpus.py EXCLUDED).
BROKEN = {"MR_truncated.dcm", "SC_ybr_full_422_uncompressed.dcm"}


def make_tree(root: Path, copies: int) -> tuple[int, int]:
    """`copies` copies of the corpus files under root, names unique."""
    count = size = 0
    paths = [p for p in corpus_paths() if p.name not in BROKEN]
    for k in range(copies):
        for i, path in enumerate(paths):
            dst = root / f"copy{k}" / f"{k}-{i:03d}-{path.name}"
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dst)
            count += 1
            size += dst.stat().st_size
    return count, size


def ct_frames() -> list[bytes]:
    """Every 512 x 512 16-bit monochrome frame of the corpus."""
    import pydicom

    out = []
    for path in corpus_paths():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path)
        if (ds.Rows, ds.Columns, ds.BitsAllocated, ds.get("SamplesPerPixel", 1)) != (
            512,
            512,
            16,
            1,
        ):
            continue
        n = 512 * 512 * 2
        data = bytes(ds.PixelData)
        out += [data[i * n : (i + 1) * n] for i in range(len(data) // n)]
    return out


def make_multiframe(path: Path, frames: int) -> int:
    """A multi-frame CT of `frames` real 512 x 512 x 16 frames; its size."""
    import io

    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    from dicomrle._dataset import write_dataset

    sources = ct_frames()
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2.1"
    ds.file_meta.MediaStorageSOPInstanceUID = uid = generate_uid()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2.1"
    ds.SOPInstanceUID = uid
    ds.Modality = "CT"
    ds.Rows = ds.Columns = 512
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
    ds.PixelRepresentation = 0
    ds.NumberOfFrames = frames
    ds.PixelData = b"\0\0"
    ds["PixelData"].VR = "OW"
    buf = io.BytesIO()
    write_dataset(buf, ds)
    header = bytearray(buf.getvalue()[:-2])
    header[-4:] = (frames * 512 * 512 * 2).to_bytes(4, "little")
    with open(path, "wb") as f:
        f.write(header)
        for i in range(frames):
            f.write(sources[i % len(sources)])
    return path.stat().st_size


def anon_peak(pid: int, stop: threading.Event, out: list[int]) -> None:
    """Sample RssAnon of `pid` every 2 ms until `stop`; keep the largest."""
    peak = 0
    status = Path(f"/proc/{pid}/status")
    while not stop.is_set():
        try:
            for line in status.read_text().splitlines():
                if line.startswith("RssAnon:"):
                    peak = max(peak, int(line.split()[1]) * 1024)
        except (FileNotFoundError, ProcessLookupError):
            break
        time.sleep(0.002)
    out.append(peak)


def timed(command: list[str], out: Path, memory: bool = False) -> tuple[float, int]:
    """Seconds of one run of `command` (a fresh `out`), and its RssAnon peak."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peaks: list[int] = []
    stop = threading.Event()
    sampler = threading.Thread(target=anon_peak, args=(child.pid, stop, peaks))
    if memory:
        sampler.start()
    _, err = child.communicate()
    seconds = time.perf_counter() - start
    stop.set()
    if memory:
        sampler.join()
    if child.returncode and command[0] != "sh":  # xargs: some files fail
        raise RuntimeError(f"{command[:3]} failed: {err.decode()[-500:]}")
    return seconds, (peaks[0] if peaks else 0)


def per_file(tool: str, src: Path, out: Path) -> list[str]:
    """`find src -type f | xargs -P2` running `tool` once per file."""
    return [
        "sh",
        "-c",
        f'find "{src}" -type f -print0 | xargs -0 -P2 -n1 sh -c '
        f'\'{tool} "$0" "{out}/${{0##*/}}"\'',
    ]


def run(commands: dict[str, tuple[list[str], Path]], repeat: int) -> dict:
    times: dict[str, list[float]] = {name: [] for name in commands}
    peaks: dict[str, int] = {name: 0 for name in commands}
    for _ in range(repeat):
        for name, (command, out) in commands.items():
            seconds, peak = timed(command, out, memory=name.startswith("dicomrle"))
            times[name].append(seconds)
            peaks[name] = max(peaks[name], peak)
    return {
        name: {
            "median": statistics.median(t),
            "min": min(t),
            "max": max(t),
            "anon_peak": peaks[name],
        }
        for name, t in times.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small inputs, 1 run")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--copies", type=int, default=5)
    parser.add_argument("--frames", type=int, default=2048)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=HERE / "FILES_RESULTS.md")
    parser.add_argument(
        "--site",
        type=Path,
        help="run dicomrle from this folder (pip install --target DIR a wheel) "
        "with python -S: an editable install rebuilds on every start",
    )
    args = parser.parse_args()
    if args.site:
        os.environ["PYTHONPATH"] = str(args.site)
        DICOMRLE[1:1] = ["-S"]
    if args.quick:
        args.repeat, args.copies, args.frames = 1, 1, 64
    tools = {t: shutil.which(t) for t in ("dcmcrle", "gdcmconv")}

    with tempfile.TemporaryDirectory(prefix="bench_files.") as tmp:
        root = Path(tmp)
        tree, big = root / "tree", root / "big" / "multiframe.dcm"
        count, tree_size = make_tree(tree, args.copies)
        big.parent.mkdir()
        big_size = make_multiframe(big, args.frames)
        out = root / "out"
        j = str(args.jobs)
        tree_commands = {
            "cp -r": (["cp", "-r", str(tree), str(out / "t")], out),
            "dicomrle": ([*DICOMRLE, str(tree), "-o", str(out), "-r", "-j", j], out),
        }
        big_commands = {
            "cp": (["cp", str(big), str(out)], out),
            "dicomrle": ([*DICOMRLE, str(big), "-o", str(out), "-j", j], out),
        }
        if tools["dcmcrle"]:
            tree_commands["xargs -P2 dcmcrle"] = (per_file("dcmcrle", tree, out), out)
            big_commands["dcmcrle"] = (["dcmcrle", str(big), str(out / "b.dcm")], out)
        if tools["gdcmconv"]:
            tree_commands["xargs -P2 gdcmconv --rle"] = (
                per_file("gdcmconv --rle", tree, out),
                out,
            )
            big_commands["gdcmconv --rle"] = (
                ["gdcmconv", "--rle", str(big), str(out / "b.dcm")],
                out,
            )
        # Warm the page cache and the interpreter's files once, untimed.
        run({"dicomrle": tree_commands["dicomrle"]}, 1)
        tree_result = run(tree_commands, args.repeat)
        big_result = run(big_commands, args.repeat)

    lines = [
        "# Files at disk speed: dicomrle compress against cp, dcmcrle, gdcmconv",
        "",
        f"`python benchmarks/bench_files.py{' --quick' if args.quick else ''}`, "
        f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores, "
        f"Python {platform.python_version()}; whole processes, median of "
        f"{args.repeat} runs in turns; `-j {args.jobs}` for dicomrle"
        f"{' (installed from a wheel, python -S)' if args.site else ''}, "
        "`xargs -P2` (one process a file) for the others.",
        "",
    ]

    def table(title: str, result: dict, base: str, note: str) -> None:
        lines.extend([f"## {title}", "", note, "",
                      "| command | median s | min s | max s | / " + base
                      + " | dicomrle is x faster | RssAnon peak MiB |",
                      "|---|---:|---:|---:|---:|---:|---:|"])  # fmt: skip
        ours = result["dicomrle"]["median"]
        for name, r in result.items():
            peak = f"{r['anon_peak'] / 2**20:.0f}" if r["anon_peak"] else ""
            lines.append(
                f"| {name} | {r['median']:.3f} | {r['min']:.3f} | {r['max']:.3f} | "
                f"{r['median'] / result[base]['median']:.2f} | "
                f"{r['median'] / ours:.1f} | {peak} |"
            )
        lines.append("")

    table(
        "A tree of files",
        tree_result,
        "cp -r",
        f"{count} files, {tree_size / 1e6:.0f} MB ({args.copies} copies of the "
        "corpus's little-endian 8/16-bit files).",
    )
    table(
        "One multi-frame file",
        big_result,
        "cp",
        f"{args.frames} real CT frames of 512 x 512 x 16 bits, "
        f"{big_size / 2**20:.0f} MiB.",
    )
    text = "\n".join(lines)
    print(text)
    if not args.quick:
        args.out.write_text(text)
        print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
