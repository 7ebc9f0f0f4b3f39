"""What ``dicomrle compress --verify`` costs: ``dicomrle compress -r SRC -o
OUT -j 2`` with and without ``--verify``, whole processes, in turns (a b a
b ...), the output folder emptied between runs, median of N.

Two inputs, made by bench_files.py's helpers: a tree of the corpus's
uncompressed files copied five times, and one multi-frame CT of real
512 x 512 x 16 frames (512 by default).

    python benchmarks/bench_verify.py [--repeat 5] [--frames 512] [--work DIR]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_files import make_multiframe, make_tree


def run(args: list[str], out: Path) -> float:
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "dicomrle", "compress", "-r", *args]
    command += ["-o", str(out), "-j", "2"]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--frames", type=int, default=512)
    parser.add_argument("--work", type=Path, help="keep the inputs here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.work or Path(tmp)
        tree, big = root / "tree", root / "big"
        if not tree.exists():
            make_tree(tree, 5)
        if not big.exists():
            big.mkdir(parents=True)
            make_multiframe(big / "ct.dcm", args.frames)
        for name, src in (("tree of the corpus x 5", tree), ("multi-frame CT", big)):
            times: dict[str, list[float]] = {"plain": [], "verify": []}
            for _ in range(args.repeat):
                times["plain"].append(run([str(src)], root / "out"))
                times["verify"].append(run([str(src), "--verify"], root / "out"))
            plain, verify = (statistics.median(times[k]) for k in ("plain", "verify"))
            print(
                f"{name}: {plain * 1000:.0f} ms, with --verify {verify * 1000:.0f} ms: "
                f"+{100 * (verify - plain) / plain:.0f}% (median of {args.repeat})"
            )
        shutil.rmtree(root / "out", ignore_errors=True)


if __name__ == "__main__":
    main()
