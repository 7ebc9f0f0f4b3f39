"""Run ``dicomrle.compress`` on the 500-frame dataset of ``bench_batch.py``
again and again, for a profiler to watch; setup first, then a pause, so
that a delayed profiler sees only the runs::

    perf record -F 4000 -g -D 5500 -o t1.data -- \
        python benchmarks/probes/loop_compress.py --threads 1 --runs 40
    perf report -i t1.data --no-children --sort sym

Prints the mean time of a run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import dicomrle

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench_batch import dataset, frame_stack  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--frames", type=int, default=500)
    parser.add_argument(
        "--setup-seconds", type=float, default=5.0, help="when the runs start"
    )
    args = parser.parse_args()
    start = time.perf_counter()
    data = frame_stack(args.frames).tobytes()
    dicomrle.compress(dataset(data, args.frames), threads=args.threads)
    time.sleep(max(0.0, args.setup_seconds - (time.perf_counter() - start)))
    start = time.perf_counter()
    for _ in range(args.runs):
        dicomrle.compress(dataset(data, args.frames), threads=args.threads)
    mean = (time.perf_counter() - start) / args.runs
    print(f"threads={args.threads}: {mean * 1e3:.1f} ms a run, mean of {args.runs}")


if __name__ == "__main__":
    main()
