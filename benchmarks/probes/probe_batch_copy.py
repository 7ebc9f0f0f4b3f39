"""Where ``dicomrle.compress`` loses thread scaling: the encoding alone, or
the copies into the new encapsulated value?

Runs ``encode_in_order`` (the engine of ``dicomrle.compress``) on the 500
real 512 x 512 frames of ``bench_batch.py`` with 1 and 2 threads, in turns,
best of ``--repeat``: once into a writer that drops every frame (encoding
only), once into a real ``Encapsulator`` with the time spent in its
``write_frames`` (copies and page faults of the new value) summed over the
threads.

    python benchmarks/probes/probe_batch_copy.py
"""

from __future__ import annotations

import argparse
import functools
import sys
import threading
import time
from pathlib import Path

from dicomrle.codec import rle as _rle
from dicomrle.codec.arrays import encode_in_order, frames_per_job
from dicomrle.codec.frame import workspace
from dicomrle.dicom.encaps import Encapsulator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench_batch import frame_stack  # noqa: E402

FRAMES = 500
FRAME_BYTES = 512 * 512 * 2


class Dropping:
    """A writer that gives every frame a place and copies nothing."""

    def __init__(self) -> None:
        self.jobs = 0

    def reserve_frames(self, space: object) -> int:
        self.jobs += 1
        return self.jobs

    def write_frames(self, first: int, space: object) -> None:
        pass


class Timing:
    """An Encapsulator whose write_frames time is summed over threads."""

    def __init__(self, writer: Encapsulator) -> None:
        self.writer = writer
        self.seconds = 0.0
        self.lock = threading.Lock()

    def reserve_frames(self, space: object) -> int:
        return self.writer.reserve_frames(space)

    def write_frames(self, first: int, space: object) -> None:
        start = time.perf_counter()
        self.writer.write_frames(first, space)
        with self.lock:
            self.seconds += time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    view = memoryview(frame_stack(FRAMES).tobytes())
    bound = _rle.encode_bound(512, 512, 1, 2)
    make = functools.partial(
        workspace, rows=512, columns=512, samples_per_pixel=1, bits_allocated=16
    )

    def source(first: int, count: int) -> memoryview:
        return view[first * FRAME_BYTES : (first + count) * FRAME_BYTES]

    best: dict[tuple[str, int], tuple[float, float]] = {}
    for _ in range(args.repeat):
        for kind in ("encode only", "with copies"):
            for threads in (1, 2):
                writer = Dropping() if kind == "encode only" else Timing(
                    Encapsulator(FRAMES, bound)
                )
                per_job = frames_per_job(FRAME_BYTES, FRAMES, threads)
                start = time.perf_counter()
                encode_in_order(writer, FRAMES, threads, per_job, make, source)
                seconds = time.perf_counter() - start
                copying = getattr(writer, "seconds", 0.0)
                if seconds < best.get((kind, threads), (float("inf"), 0.0))[0]:
                    best[kind, threads] = (seconds, copying)
    for kind in ("encode only", "with copies"):
        (one, copy1), (two, copy2) = best[kind, 1], best[kind, 2]
        line = f"{kind}: 1 thread {one * 1e3:.0f} ms, 2 threads {two * 1e3:.0f} ms, {one / two:.2f}x"
        if kind == "with copies":
            line += (
                f"; in write_frames: {copy1 * 1e3:.0f} ms on 1 thread, "
                f"{copy2 * 1e3:.0f} ms summed over 2"
            )
        print(line)


if __name__ == "__main__":
    main()
