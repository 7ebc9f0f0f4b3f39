"""Files at disk speed: ``dicomrle compress`` and ``dicomrle decompress``
against cp, DCMTK (dcmcrle, dcmdrle) and GDCM (gdcmconv --rle, --raw), side
by side in one run, whole processes timed.

Two inputs: a tree of the corpus's uncompressed little-endian 8/16-bit
files (frames.corpus_paths()) copied five times, and one multi-frame CT of
2048 frames of 512 x 512 x 16 bits (1 GiB) made of real CT frames. Each
command runs in turns with the others (a b c d a b c d ...), its output
folder emptied between runs, and the median is taken; the inputs are in the
page cache for all of them. While dicomrle runs, a thread samples RssAnon
(anonymous resident memory: heap and stacks, not the pages of files) of its
process every 2 ms (of the main process: not of worker processes).

Then the decompress side: dicomrle itself makes the RLE inputs (the tree
with ``compress -r``, and the 1 GiB file), untimed, and ``dicomrle
decompress`` runs in turns with the floor (cp of the uncompressed input:
what writing the decoded files costs at least), dcmdrle and gdcmconv --raw;
for the tree also with two ``-j1`` processes started together on half the
RLE tree each (hard links in two folders: copies 0..n/2-1 and n/2..n-1, or
the files split at half the decoded bytes when n is odd).

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
sys.path.insert(0, str(HERE.resolve().parent / "tests"))  # tests/support/

from support.frames import corpus_paths  # noqa: E402

DICOMRLE = [sys.executable, "-m", "dicomrle"]
# Corpus files no encoder can convert (tests/support/corpus.py EXCLUDED).
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

    from dicomrle.dicom.compress import write_dataset

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


def timed(
    commands: list[list[str]], out: Path, memory: bool = False
) -> tuple[float, int, int]:
    """Seconds of one run of `commands`, started together (a fresh `out`),
    the largest RssAnon peak of their processes, and the files in `out`."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    errors = [tempfile.TemporaryFile() for _ in commands]
    start = time.perf_counter()
    children = [
        subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=error)
        for command, error in zip(commands, errors, strict=True)
    ]
    peaks: list[int] = []
    stop = threading.Event()
    samplers = [
        threading.Thread(target=anon_peak, args=(child.pid, stop, peaks))
        for child in children
    ]
    if memory:
        for sampler in samplers:
            sampler.start()
    for child in children:
        child.wait()
    seconds = time.perf_counter() - start
    stop.set()
    if memory:
        for sampler in samplers:
            sampler.join()
    for command, child, error in zip(commands, children, errors, strict=True):
        error.seek(0)
        err = error.read()
        error.close()
        if child.returncode and command[0] != "sh":  # xargs: some files fail
            raise RuntimeError(f"{command[:4]} failed: {err.decode()[-500:]}")
    written = sum(len(names) for _, _, names in os.walk(out))
    return seconds, max(peaks, default=0), written


def per_file(tool: str, src: Path, out: Path) -> list[str]:
    """`find src -type f | xargs -P2` running `tool` once per file."""
    return [
        "sh",
        "-c",
        f'find "{src}" -type f -print0 | xargs -0 -P2 -n1 sh -c '
        f'\'{tool} "$0" "{out}/${{0##*/}}"\'',
    ]


Commands = dict[str, tuple[list[list[str]], Path]]


def run(commands: Commands, repeat: int) -> dict:
    """`repeat` turns of each entry's processes (started together), in turns."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    peaks: dict[str, int] = {name: 0 for name in commands}
    written: dict[str, int] = {}
    for _ in range(repeat):
        for name, (command, out) in commands.items():
            seconds, peak, written[name] = timed(
                command, out, memory=name.startswith("dicomrle")
            )
            times[name].append(seconds)
            peaks[name] = max(peaks[name], peak)
    return {
        name: {
            "median": statistics.median(t),
            "min": min(t),
            "max": max(t),
            "anon_peak": peaks[name],
            "written": written[name],
        }
        for name, t in times.items()
    }


def make_halves(files: list[Path], sizes: list[int], halves: list[Path]) -> list[int]:
    """Hard links to `files` (copy by copy, each under its copyN/ folder) in
    the two folders `halves`: the files before half of the bytes `sizes` (the
    decoded files') in the first, the rest in the second, so that with an even
    number of copies the cut falls between copy n/2-1 and copy n/2. The files
    in each half."""
    total, done, cut = sum(sizes), 0, len(files)
    for n, size in enumerate(sizes):
        if 2 * done >= total:
            cut = n
            break
        done += size
    parts = [files[:cut], files[cut:]]
    for half, part in zip(halves, parts, strict=True):
        for src in part:
            dst = half / src.parent.name / src.name
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.link(src, dst)
    return [len(part) for part in parts]


def make_rle(command: list[str]) -> None:
    """Run `command` (dicomrle compress), untimed; it must convert all."""
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if done.returncode:
        raise RuntimeError(f"{command[3:5]} failed: {done.stderr.decode()[-500:]}")


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
    tools = {t: shutil.which(t) for t in ("dcmcrle", "dcmdrle", "gdcmconv")}
    compress = [*DICOMRLE, "compress"]
    decompress = [*DICOMRLE, "decompress"]
    j = str(args.jobs)
    halves_name = "dicomrle, two halves -j1"

    with tempfile.TemporaryDirectory(prefix="bench_files.") as tmp:
        root = Path(tmp)
        tree, big = root / "tree", root / "big" / "multiframe.dcm"
        count, tree_size = make_tree(tree, args.copies)
        big.parent.mkdir()
        big_size = make_multiframe(big, args.frames)
        out = root / "out"
        tree_commands: Commands = {
            "cp -r": ([["cp", "-r", str(tree), str(out / "t")]], out),
            "dicomrle": ([[*compress, str(tree), "-o", str(out), "-r", "-j", j]], out),
        }
        big_commands: Commands = {
            "cp": ([["cp", str(big), str(out)]], out),
            "dicomrle": ([[*compress, str(big), "-o", str(out), "-j", j]], out),
        }
        if tools["dcmcrle"]:
            tree_commands["xargs -P2 dcmcrle"] = ([per_file("dcmcrle", tree, out)], out)
            big_commands["dcmcrle"] = ([["dcmcrle", str(big), str(out / "b.dcm")]], out)
        if tools["gdcmconv"]:
            tree_commands["xargs -P2 gdcmconv --rle"] = (
                [per_file("gdcmconv --rle", tree, out)],
                out,
            )
            big_commands["gdcmconv --rle"] = (
                [["gdcmconv", "--rle", str(big), str(out / "b.dcm")]],
                out,
            )
        # Warm the page cache and the interpreter's files once, untimed.
        run({"dicomrle": tree_commands["dicomrle"]}, 1)
        tree_result = run(tree_commands, args.repeat)
        big_result = run(big_commands, args.repeat)
        shutil.rmtree(out)

        # The RLE inputs, made by dicomrle itself, untimed.
        rle_tree, rle_big = root / "rle-tree", root / "rle-big" / big.name
        make_rle([*compress, str(tree), "-r", "-o", str(rle_tree), "-j", j])
        make_rle([*compress, str(big), "-o", str(rle_big.parent), "-j", j])
        rle_files = [
            path
            for k in range(args.copies)
            for path in sorted((rle_tree / f"copy{k}").iterdir())
        ]
        if len(rle_files) != count:
            raise RuntimeError(f"{len(rle_files)} RLE files made of {count}")
        rle_tree_size = sum(f.stat().st_size for f in rle_files)
        rle_big_size = rle_big.stat().st_size
        halves = [root / "half0", root / "half1"]
        half_counts = make_halves(
            rle_files,
            [(tree / f.parent.name / f.name).stat().st_size for f in rle_files],
            halves,
        )
        dtree_commands: Commands = {
            "cp -r": ([["cp", "-r", str(tree), str(out / "t")]], out),
            "dicomrle": (
                [[*decompress, str(rle_tree), "-o", str(out), "-r", "-j", j]],
                out,
            ),
            halves_name: (
                [
                    [*decompress, str(half), "-o", str(out / half.name), "-r", "-j1"]
                    for half in halves
                ],
                out,
            ),
        }
        dbig_commands: Commands = {
            "cp": ([["cp", str(big), str(out)]], out),
            "dicomrle": ([[*decompress, str(rle_big), "-o", str(out), "-j", j]], out),
        }
        if tools["dcmdrle"]:
            dtree_commands["xargs -P2 dcmdrle"] = (
                [per_file("dcmdrle", rle_tree, out)],
                out,
            )
            dbig_commands["dcmdrle"] = (
                [["dcmdrle", str(rle_big), str(out / "b.dcm")]],
                out,
            )
        if tools["gdcmconv"]:
            dtree_commands["xargs -P2 gdcmconv --raw"] = (
                [per_file("gdcmconv --raw", rle_tree, out)],
                out,
            )
            dbig_commands["gdcmconv --raw"] = (
                [["gdcmconv", "--raw", str(rle_big), str(out / "b.dcm")]],
                out,
            )
        run({"dicomrle": dtree_commands["dicomrle"]}, 1)
        dtree_result = run(dtree_commands, args.repeat)
        dbig_result = run(dbig_commands, args.repeat)

    missing = [t for t, found in tools.items() if not found]
    lines = [
        "# Files at disk speed: dicomrle compress and decompress against cp, "
        "DCMTK, GDCM",
        "",
        f"`{' '.join(['python benchmarks/bench_files.py', *sys.argv[1:]])}`, "
        f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores, "
        f"Python {platform.python_version()}; whole processes, median of "
        f"{args.repeat} run{'' if args.repeat == 1 else 's'} in turns; "
        f"`-j {args.jobs}` for dicomrle"
        f"{' (installed from a wheel, python -S)' if args.site else ''}, "
        "`xargs -P2` (one process a file) for the others. RssAnon peak: of "
        "dicomrle's main process (of the larger of the two halves), not of its "
        "worker processes."
        + (f" Not found, not run: {', '.join(missing)}." if missing else ""),
        "",
    ]

    def table(
        title: str, result: dict, base: str, note: str, files: int, extra: str = ""
    ) -> None:
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
        if extra:
            lines.extend([extra, ""])
        short = [
            f"{name} wrote {r['written']} of {files} files"
            for name, r in result.items()
            if r["written"] < files
        ]
        if short:
            lines.extend(
                [f"**Files missing in the last run: {'; '.join(short)}.**", ""]
            )

    tree_note = (
        f"{count} files, {tree_size / 1e6:.0f} MB ({args.copies} "
        f"{'copy' if args.copies == 1 else 'copies'} of the corpus's "
        "little-endian 8/16-bit files)"
    )
    big_note = (
        f"{args.frames} real CT frames of 512 x 512 x 16 bits, "
        f"{big_size / 2**20:.0f} MiB"
    )
    table("Compress: a tree of files", tree_result, "cp -r", f"{tree_note}.", count)
    table("Compress: one multi-frame file", big_result, "cp", f"{big_note}.", 1)
    halves_ratio = (
        dtree_result["dicomrle"]["median"] / dtree_result[halves_name]["median"]
    )
    table(
        "Decompress: a tree of files",
        dtree_result,
        "cp -r",
        f"The tree above made RLE Lossless by `dicomrle compress -r`: {count} "
        f"files, {rle_tree_size / 1e6:.0f} MB, decoded to Explicit VR Little "
        f"Endian. `cp -r` copies the uncompressed tree ({tree_size / 1e6:.0f} "
        "MB): the floor, what writing the decoded tree costs. The two halves: "
        f"{half_counts[0]} and {half_counts[1]} files (hard links to the RLE "
        "tree, cut at half the uncompressed bytes), one `dicomrle decompress "
        "-j1` process on each, started together.",
        count,
        f"`-j {args.jobs}` / two halves: {halves_ratio:.2f} (1 = as good as two "
        "processes on half the tree each).",
    )
    table(
        "Decompress: one multi-frame file",
        dbig_result,
        "cp",
        f"The file above made RLE Lossless by `dicomrle compress`: "
        f"{rle_big_size / 2**20:.0f} MiB, decoded to {big_note}. `cp` copies the "
        "uncompressed file: the floor.",
        1,
    )
    text = "\n".join(lines)
    print(text)
    if not args.quick:
        args.out.write_text(text)
        print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
