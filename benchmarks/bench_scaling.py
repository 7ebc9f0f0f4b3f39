"""Batch conversion scaling with cores: ``dicomrle compress`` of a tree of
files on one thread and on ``--jobs`` threads, against two processes on half
the tree each, ``cp -r`` and DCMTK's dcmcrle run one process a file; and the
share of the work done holding the GIL, which bounds what threads can give.

The tree is the corpus's Explicit VR Little Endian images
(frames.corpus_paths()) copied ``--copies`` times into copyNN/ folders, the
names unique; the two halves (copies 0..n/2-1 and n/2..n-1, or the files
split at half the bytes when n is odd) are hard links to it in two other
folders. Each command runs in turns with the others (a b c d e a b c d e
...), its output folder removed before its run, outside the timing; the
inputs are in the page cache for all of them. Each run's user and system CPU
seconds are those of the child and of the descendants it waited for
(os.wait4), summed over the two processes of the halves. A dicomrle run
that converts some files and fails others (exit code 1) is timed all the
same, and the report says how many failed; any other failure stops the run.

py-spy then records the -j1 and the -j N command ``--repeat`` times each, in
turns, with ``--gil`` (only samples of a thread holding the GIL) and without
(every sample of a thread on a CPU; no ``--idle``), samples summed; with
``--subprocesses`` for -j N, should it run files on worker processes. If
py-spy is missing or fails, the report says so. The ratio s is the share of
one core's work that holds the GIL, and 1 / (s + (1 - s) / N) is the most
threads on N cores can give (Amdahl).

    python benchmarks/bench_scaling.py            # full run, SCALING_RESULTS.md
    python benchmarks/bench_scaling.py --quick    # 1 copy, 1 turn, no file
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.resolve().parent / "tests"))  # tests/support/

from support.frames import corpus_paths  # noqa: E402

DICOMRLE = [sys.executable, "-m", "dicomrle", "compress"]
EXPLICIT_LE = "1.2.840.10008.1.2.1"
# Corpus files no encoder can convert (tests/support/corpus.py EXCLUDED).
BROKEN = {"MR_truncated.dcm", "SC_ybr_full_422_uncompressed.dcm"}
PY_SPY_RATE = 250
AMDAHL_CORES = (16, 64)


def explicit_paths() -> list[Path]:
    """The corpus files whose file meta says Explicit VR Little Endian."""
    from pydicom.filereader import read_file_meta_info

    out = []
    for path in corpus_paths():
        if path.name in BROKEN:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            syntax = read_file_meta_info(path).get("TransferSyntaxUID")
        if syntax == EXPLICIT_LE:
            out.append(path)
    return out


def make_tree(root: Path, copies: int) -> list[Path]:
    """`copies` copies of the files under root/copyNN/, names unique; the
    files made, copy by copy."""
    made = []
    paths = explicit_paths()
    for k in range(copies):
        for i, path in enumerate(paths):
            dst = root / f"copy{k:02d}" / f"{k:02d}-{i:03d}-{path.name}"
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dst)
            made.append(dst)
    return made


def make_halves(tree: Path, files: list[Path], halves: list[Path]) -> list[int]:
    """Hard links to `files` (of `tree`) in the two folders `halves`: the first
    half of the bytes in the first, the rest in the second. With an even
    number of copies the cut falls between copy n/2-1 and copy n/2. The bytes
    in each half."""
    sizes = [f.stat().st_size for f in files]
    total, done, cut = sum(sizes), 0, len(files)
    for n, size in enumerate(sizes):
        if 2 * done >= total:
            cut = n
            break
        done += size
    parts = [files[:cut], files[cut:]]
    for half, part in zip(halves, parts, strict=True):
        half.mkdir(parents=True)
        for src in part:
            dst = half / src.relative_to(tree)
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.link(src, dst)
    return [sum(f.stat().st_size for f in part) for part in parts]


@dataclass
class Bench:
    """Processes started together (their wall time until all are done), the
    output folders they write, and whether these must exist beforehand."""

    commands: list[list[str]]
    outs: list[Path]
    mkdir: bool = True
    may_fail: bool = False  # xargs: a file dcmcrle cannot convert
    seconds: list[float] = field(default_factory=list)
    user: list[float] = field(default_factory=list)
    system: list[float] = field(default_factory=list)
    written: int = 0  # files in `outs` after the last run
    failed: int = 0  # files dicomrle said failed, in the last run
    failure: str = ""  # the first of its lines about them


# dicomrle's last line but one: exit code 1 with it means some files failed.
SUMMARY = re.compile(r"^files: .*failed: (\d+)$", re.M)


def count_files(folders: list[Path]) -> int:
    return sum(len(names) for out in folders for _, _, names in os.walk(out))


def timed(bench: Bench) -> None:
    """One run of `bench`'s processes, started together, fresh outputs."""
    for out in bench.outs:
        shutil.rmtree(out, ignore_errors=True)
        if bench.mkdir:
            out.mkdir(parents=True)
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
    outputs = [tempfile.TemporaryFile() for _ in bench.commands]
    start = time.perf_counter()
    children = [
        subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        for command, output in zip(bench.commands, outputs, strict=True)
    ]
    user = system = 0.0
    codes = []
    for child in children:
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        codes.append(child.returncode)
        user += usage.ru_utime
        system += usage.ru_stime
    seconds = time.perf_counter() - start
    bench.failed, bench.failure = 0, ""
    for command, output, code in zip(bench.commands, outputs, codes, strict=True):
        output.seek(0)
        text = output.read().decode(errors="replace")
        output.close()
        if not code or bench.may_fail:
            continue
        summary = SUMMARY.search(text)
        if code != 1 or not summary or not int(summary[1]):
            raise RuntimeError(f"{command[:4]} exited {code}: {text[-500:]}")
        # Some files failed: time it all the same, and say so in the report.
        bench.failed += int(summary[1])
        lines = [line for line in text.splitlines() if ": failed: " in line]
        bench.failure = bench.failure or (lines[0] if lines else "")
    bench.seconds.append(seconds)
    bench.user.append(user)
    bench.system.append(system)
    bench.written = count_files(bench.outs)


def run(benches: dict[str, Bench], repeat: int) -> None:
    """`repeat` turns of every bench, one after the other in each turn."""
    for _ in range(repeat):
        for bench in benches.values():
            timed(bench)


def per_file(tool: str, src: Path, out: Path, jobs: int) -> list[str]:
    """`find src -type f | xargs -P jobs` running `tool` once per file."""
    return [
        "sh",
        "-c",
        f'find "{src}" -type f -print0 | xargs -0 -P{jobs} -n1 sh -c '
        f'\'{tool} "$0" "{out}/${{0##*/}}"\'',
    ]


def py_spy_path() -> str | None:
    found = shutil.which("py-spy")
    if found:
        return found
    beside = Path(sys.executable).parent / "py-spy"  # a venv not on PATH
    return str(beside) if beside.exists() else None


def raw_samples(path: Path) -> int:
    """The samples of a py-spy raw file: each line is `stack count`."""
    total = 0
    for line in path.read_text().splitlines():
        if line.strip():
            total += int(line.rpartition(" ")[2])
    return total


@dataclass
class Share:
    gil: int = 0  # samples of a thread holding the GIL
    cpu: int = 0  # samples of a thread on a CPU
    gil_seconds: float = 0.0  # wall time of the --gil runs, summed
    cpu_seconds: float = 0.0  # and of the runs without it
    error: str = ""

    @property
    def s(self) -> float:
        return self.gil / self.cpu if self.cpu else float("nan")


def record(py_spy: str, command: list[str], out: Path, raw: Path, gil: bool,
           subprocesses: bool) -> tuple[int, float]:  # fmt: skip
    """Samples and seconds of one `py-spy record` of `command`."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    raw.unlink(missing_ok=True)
    spy = [py_spy, "record", "--rate", str(PY_SPY_RATE), "--format", "raw"]
    spy += ["-o", str(raw)]
    if gil:
        spy.append("--gil")
    if subprocesses:
        spy.append("--subprocesses")
    start = time.perf_counter()
    done = subprocess.run(
        [*spy, "--", *command], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    seconds = time.perf_counter() - start
    text = done.stdout.decode(errors="replace").strip()
    if not raw.exists():  # py-spy exits as the command did: files may fail
        said = text[-400:] or "no output"
        raise RuntimeError(f"py-spy exited {done.returncode}: {said}")
    return raw_samples(raw), seconds


def gil_shares(
    py_spy: str | None, commands: dict[str, tuple[list[str], bool]], out: Path,
    raw: Path, repeat: int,
) -> dict[str, Share]:  # fmt: skip
    """py-spy with and without --gil over each of `commands` (the command,
    and whether to follow subprocesses), in `repeat` turns, samples summed."""
    shares = {name: Share() for name in commands}
    if py_spy is None:
        for share in shares.values():
            share.error = "py-spy not found (pip install py-spy)"
        return shares
    for _ in range(repeat):
        for name, (command, subprocesses) in commands.items():
            share = shares[name]
            if share.error:
                continue
            try:
                n, seconds = record(py_spy, command, out, raw, True, subprocesses)
                share.gil += n
                share.gil_seconds += seconds
                n, seconds = record(py_spy, command, out, raw, False, subprocesses)
                share.cpu += n
                share.cpu_seconds += seconds
            except (OSError, RuntimeError) as exc:
                share.error = f"py-spy failed: {' '.join(str(exc).split())}"
    for share in shares.values():
        if not share.error and not share.cpu:
            share.error = "py-spy recorded no samples"
    shutil.rmtree(out, ignore_errors=True)
    return shares


# Runs the command in this process and prints the CPU seconds of the main
# process (after its imports) and of its worker processes.
RUSAGE = """
import json, resource, sys
from dicomrle.cli import main
before = resource.getrusage(resource.RUSAGE_SELF)
main(sys.argv[1:])
me = resource.getrusage(resource.RUSAGE_SELF)
them = resource.getrusage(resource.RUSAGE_CHILDREN)
print("RUSAGE", json.dumps([
    me.ru_utime + me.ru_stime - before.ru_utime - before.ru_stime,
    them.ru_utime + them.ru_stime,
]), file=sys.stderr)
"""


def main_share(command: list[str], out: Path, repeat: int) -> tuple[float, float]:
    """Median CPU seconds of the main process and of its workers over
    `repeat` runs of `command` (``python -m dicomrle ...``)."""
    import json

    python = command[: command.index("-m")]
    mains, workers = [], []
    for _ in range(repeat):
        shutil.rmtree(out, ignore_errors=True)
        done = subprocess.run(
            [*python, "-c", RUSAGE, *command[command.index("-m") + 2 :]],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = [x for x in done.stderr.splitlines() if x.startswith("RUSAGE ")][-1]
        main_cpu, worker_cpu = json.loads(line.removeprefix("RUSAGE "))
        mains.append(main_cpu)
        workers.append(worker_cpu)
    shutil.rmtree(out, ignore_errors=True)
    return statistics.median(mains), statistics.median(workers)


def amdahl(s: float, cores: int) -> float:
    """The most threads on `cores` cores give when a share s holds the GIL."""
    return 1 / (s + (1 - s) / cores)


def pipelined(m: float, cores: int) -> float:
    """Speed-up on `cores` cores when a share m of the work is the main
    process's and runs alongside the workers'."""
    return min(cores * (1 - m), 1 / m)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="1 copy, 1 turn, no dcmcrle, no file"
    )
    parser.add_argument("--repeat", type=int, default=5, help="turns (default 5)")
    parser.add_argument(
        "--copies", type=int, default=20, help="copies of the corpus (default 20)"
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=2,
        help="-j of the threaded dicomrle run and -P of xargs (default 2)",
    )
    parser.add_argument("--out", type=Path, default=HERE / "SCALING_RESULTS.md")
    parser.add_argument(
        "--site",
        type=Path,
        help="run dicomrle from this folder (pip install --target DIR a wheel) "
        "with python -S: an editable install rebuilds on every start",
    )
    args = parser.parse_args()
    if args.site:
        os.environ["PYTHONPATH"] = str(args.site.resolve())
        DICOMRLE[1:1] = ["-S"]
    if args.quick:
        args.repeat, args.copies = 1, 1
    if args.copies < 1 or args.repeat < 1 or args.jobs < 1:
        parser.error("--copies, --repeat and --jobs must be at least 1")
    dcmcrle = None if args.quick else shutil.which("dcmcrle")
    py_spy = py_spy_path()
    j = args.jobs
    jn, halves_name = f"dicomrle -j{j}", "2 halves, -j1 each"
    xargs_name = f"xargs -P{j} dcmcrle"

    with tempfile.TemporaryDirectory(prefix="bench_scaling.") as tmp:
        root = Path(tmp)
        tree, out = root / "tree", root / "out"
        halves = [root / "half0", root / "half1"]
        files = make_tree(tree, args.copies)
        tree_size = sum(f.stat().st_size for f in files)
        half_sizes = make_halves(tree, files, halves)

        def compress(src: Path, dst: Path, jobs: int) -> list[str]:
            return [*DICOMRLE, str(src), "-r", "-o", str(dst), f"-j{jobs}"]

        halves_outs = [out / "half0", out / "half1"]
        benches = {
            "dicomrle -j1": Bench([compress(tree, out / "j1", 1)], [out / "j1"]),
            jn: Bench([compress(tree, out / "jn", j)], [out / "jn"]),
            halves_name: Bench(
                [compress(h, o, 1) for h, o in zip(halves, halves_outs, strict=True)],
                halves_outs,
            ),
            "cp -r": Bench(
                [["cp", "-r", str(tree), str(out / "cp")]], [out / "cp"], mkdir=False
            ),
        }
        if dcmcrle:
            benches[xargs_name] = Bench(
                [per_file("dcmcrle", tree, out / "dcmcrle", j)],
                [out / "dcmcrle"],
                may_fail=True,
            )
        # Warm the interpreter's files (and an editable build) once, untimed.
        timed(Bench([compress(tree, out / "warm", 1)], [out / "warm"]))
        shutil.rmtree(out / "warm")
        run(benches, args.repeat)
        for bench in benches.values():
            for folder in bench.outs:
                shutil.rmtree(folder, ignore_errors=True)

        main_cpu, worker_cpu = main_share(
            compress(tree, out / "share", j), out / "share", args.repeat
        )
        shares = gil_shares(
            py_spy,
            {
                "dicomrle -j1": (compress(tree, out / "spy", 1), False),
                jn: (compress(tree, out / "spy", j), True),
            },
            out / "spy",
            root / "py-spy.txt",
            args.repeat,
        )

    median = {name: statistics.median(b.seconds) for name, b in benches.items()}
    invocation = " ".join(["python benchmarks/bench_scaling.py", *sys.argv[1:]])
    lines = [
        "# Batch conversion scaling with cores",
        "",
        f"`{invocation}`, "
        f"{platform.machine()}, {os.cpu_count()} CPUs, "
        f"{len(os.sched_getaffinity(0))} usable, load average "
        f"{os.getloadavg()[0]:.2f} at the end, Python {platform.python_version()}"
        f"{'; dicomrle installed from a wheel, python -S' if args.site else ''}.",
        "",
        f"{len(files)} files, {tree_size / 1e6:.0f} MB: {args.copies} "
        f"{'copy' if args.copies == 1 else 'copies'} of "
        f"the corpus's {len(files) // args.copies} Explicit VR Little Endian "
        f"images. The halves: {half_sizes[0] / 1e6:.0f} MB and "
        f"{half_sizes[1] / 1e6:.0f} MB, hard links to the tree. Whole processes, "
        f"{args.repeat} turn{'' if args.repeat == 1 else 's'} (a b c d e, "
        "a b c d e, ...), median, min and max of "
        "the wall time; CPU seconds (the child and the descendants it waited "
        "for, median) and CPU / wall, the cores kept busy; files out: what the "
        "last run wrote.",
        "",
        "| command | median s | min s | max s | user s | system s | CPU / wall "
        "| files out |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, b in benches.items():
        user, system = statistics.median(b.user), statistics.median(b.system)
        lines.append(
            f"| {name} | {median[name]:.3f} | {min(b.seconds):.3f} | "
            f"{max(b.seconds):.3f} | {user:.2f} | {system:.2f} | "
            f"{(user + system) / median[name]:.2f} | {b.written} |"
        )
    for name, b in benches.items():
        if b.failed:
            lines += [
                "",
                f"**{name}: {b.failed} of {len(files)} files failed** (exit code 1; "
                f"timed all the same), the first: `{b.failure}`",
            ]
    lines += ["", "| ratio of medians | value |", "|---|---:|"]
    ratios = [
        (f"{jn} / two halves (1 = as good as two processes)", jn, halves_name),
        (f"{jn} / cp -r", jn, "cp -r"),
        (f"{xargs_name} / {jn} (dicomrle is x faster)", xargs_name, jn),
        (f"speed-up of {jn} over -j1", "dicomrle -j1", jn),
        ("speed-up of two halves over -j1", "dicomrle -j1", halves_name),
    ]
    for text, a, b in ratios:
        if a in median and b in median:
            lines.append(f"| {text} | {median[a] / median[b]:.2f} |")
    if not dcmcrle:
        why = "--quick" if args.quick else "dcmcrle not found"
        lines.append(f"| {xargs_name} | not run ({why}) |")

    lines += [
        "",
        "## The GIL-held share",
        "",
        f"`py-spy record --rate {PY_SPY_RATE} --format raw` of the whole command "
        f"(start-up included; `--subprocesses` for -j{j}, so that worker "
        "processes are sampled too), with `--gil` (samples of a thread holding "
        "the GIL) and without (samples of a thread on a CPU, no `--idle`), "
        f"{args.repeat} of each in turns, samples summed. s = GIL-held / on-CPU "
        "samples, the share of one core's work that holds the GIL; threads on N "
        "cores give at most 1 / (s + (1 - s) / N). The two counts come from "
        "different runs, each slowed by py-spy's pauses to read the stacks.",
        "",
        "| command | GIL-held samples | on-CPU samples | wall s (gil / cpu runs) "
        f"| s | at most x on {j} " + " ".join(f"| on {n}" for n in AMDAHL_CORES) + " |",
        "|---|---:|---:|---:|---:|---:" + "|---:" * len(AMDAHL_CORES) + "|",
    ]
    notes = []
    for name, share in shares.items():
        if share.error:
            empty = " |" * (4 + len(AMDAHL_CORES))
            lines.append(f"| {name} | {share.error} |{empty}")
            notes.append(f"{name}: {share.error}")
            continue
        s = share.s
        if s <= 1:
            cells = [f"{amdahl(s, j):.2f}"]
            cells += [f"{amdahl(s, n):.1f}" for n in AMDAHL_CORES]
        else:  # the two counts come from different runs
            cells = ["n/a"] * (1 + len(AMDAHL_CORES))
            notes.append(f"{name}: s > 1, too few samples: more copies")
        lines.append(
            f"| {name} | {share.gil} | {share.cpu} | {share.gil_seconds:.2f} / "
            f"{share.cpu_seconds:.2f} | {s:.3f} | {' | '.join(cells)} |"
        )
    if notes:
        lines += ["", "No bound: " + "; ".join(notes) + "."]
    n = len(files)
    share = main_cpu / (main_cpu + worker_cpu) if worker_cpu else float("nan")
    lines += [
        "",
        f"## The main process's share (-j{j}: files on worker processes)",
        "",
        f"With -j{j} each file runs in a worker process of its own interpreter "
        "and GIL: no lock is shared per file. What all files share is the main "
        "process, which plans the pairs, hands out runs of files and takes one "
        "result a file. CPU seconds (user + system, median of "
        f"{args.repeat} runs, through `resource.getrusage`; the main process "
        "after its imports):",
        "",
        "| main process s | workers s | main per file us | worker per file us "
        "| main share m | Amdahl, main serial: on 16 | on 64 "
        "| pipelined: on 16 | on 64 |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {main_cpu:.3f} | {worker_cpu:.3f} | {main_cpu / n * 1e6:.0f} | "
        f"{worker_cpu / n * 1e6:.0f} | {share:.3f} | {amdahl(share, 16):.1f} | "
        f"{amdahl(share, 64):.1f} | {pipelined(share, 16):.1f} | "
        f"{pipelined(share, 64):.1f} |",
        "",
        "Amdahl, main serial: 1 / (m + (1 - m) / N), as if nothing overlapped "
        "the main process's work (a floor). Pipelined: the main process works "
        "while the workers do, so N cores give N x (1 - m) until the main "
        "process is busy all the time, at 1 / m x one core (a ceiling).",
    ]
    lines.append("")
    text = "\n".join(lines)
    print(text)
    if not args.quick:
        args.out.write_text(text)
        print(f"written to {args.out}")


if __name__ == "__main__":
    main()
