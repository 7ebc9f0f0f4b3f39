"""Encode many frames at once on all cores: the C kernel runs without the
GIL, so plain threads encode frames in parallel."""

from __future__ import annotations

import sys
import threading

from dicomrle.codec.frame import (
    BITS_ALLOCATED,
    as_bytes_view,
    check_bit_values,
    check_single_bit,
    encode,
)
from dicomrle.codec.jobs import check_threads, plan_jobs, run_all
from dicomrle.codec.rle import Frame, Workspace, choice

TYPE_CHECKING = False  # typing is slow to import: the command starts without it
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Protocol

    import numpy as np

    from dicomrle.codec.frame import Buffer

    class FrameWriter(Protocol):
        """Where encoded frames go, in order (an encapsulator)."""

        def reserve_frames(self, space: Workspace) -> int: ...
        def write_frames(self, first: int, space: Workspace) -> None: ...


class _InOrder:
    """Jobs (runs of frames) taken in order, encoded in any order in a pool
    of workspaces, and given their places in the output in order."""

    def __init__(
        self,
        jobs: int,
        writer: FrameWriter,
        spaces: list[Workspace],
    ) -> None:
        self.jobs = jobs
        self.writer = writer
        self.free = spaces
        self.parked: dict[int, Workspace] = {}
        self.taken = 0
        self.placed = 0
        self.failed = False
        self.condition = threading.Condition()

    def take(self) -> tuple[int, Workspace] | None:
        """The next job and a free workspace; None when done."""
        with self.condition:
            self.condition.wait_for(
                lambda: self.free or self.failed or self.taken == self.jobs
            )
            if self.failed or self.taken == self.jobs:
                return None
            self.taken += 1
            return self.taken - 1, self.free.pop()

    def park(self, job: int, space: Workspace) -> list[tuple[int, Workspace]]:
        """Hand in `job`; return the jobs now placed, in order, with the
        index of their first frame: it, and the ones after it that were
        waiting for it, if the job before it is placed already, else none."""
        with self.condition:
            self.parked[job] = space
            ready = []
            while self.placed in self.parked:
                done = self.parked.pop(self.placed)
                ready.append((self.writer.reserve_frames(done), done))
                self.placed += 1
            return ready

    def release(self, spaces: list[Workspace]) -> None:
        with self.condition:
            self.free.extend(spaces)
            self.condition.notify_all()

    def fail(self) -> None:
        with self.condition:
            self.failed = True
            self.condition.notify_all()


def encode_in_order(
    writer: FrameWriter,
    count: int,
    threads: int,
    per_job: int,
    frame: Frame,
    source: Callable[[int, int], Buffer],
) -> None:
    """Encode `count` frames into `writer`, `per_job` at a time.

    ``source(first, n)`` gives frames first .. first + n - 1, one after the
    other; every frame is `frame`. Each of
    `threads` threads takes the next job and a free workspace (there are
    two per thread) and encodes the job's frames there. A job whose
    predecessors all have their places takes its own in `writer` and is
    copied there by the same thread, with the jobs after it that were
    already waiting; otherwise it waits in its workspace, and its thread goes
    on with the next job. Encoding, copying and the page faults of the new
    value all run in parallel, and no thread waits for another's job.
    """
    jobs = -(-count // per_job)

    def frames_of(job: int) -> int:
        return min(per_job, count - job * per_job)

    if threads == 1 or jobs == 1:
        space = Workspace(frame, per_job)
        for job in range(jobs):
            space.encode(source(job * per_job, frames_of(job)), frames_of(job))
            writer.write_frames(writer.reserve_frames(space), space)
        return
    workers = min(threads, jobs)
    state = _InOrder(
        jobs, writer, [Workspace(frame, per_job) for _ in range(2 * workers)]
    )

    def work() -> None:
        try:
            while (taken := state.take()) is not None:
                job, space = taken
                space.encode(source(job * per_job, frames_of(job)), frames_of(job))
                ready = state.park(job, space)
                for first, done in ready:
                    writer.write_frames(first, done)
                if ready:
                    state.release([done for _, done in ready])
        except BaseException:
            state.fail()
            raise

    from concurrent.futures import ThreadPoolExecutor  # not needed at start-up

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(work) for _ in range(workers)]
        try:
            for future in futures:
                future.result()
        except BaseException:
            state.fail()
            raise


def _shape(arr: np.ndarray, samples_per_pixel: int | None) -> tuple[int, int, int, int]:
    """Return (frames, rows, columns, samples) of `arr`."""
    shape = arr.shape
    if arr.ndim == 2:
        frames, rows, columns, samples = 1, *shape, 1
    elif arr.ndim == 3 and (samples_per_pixel or 1) == 1:
        frames, rows, columns, samples = *shape, 1
    elif arr.ndim == 3:
        frames, rows, columns, samples = 1, *shape
    elif arr.ndim == 4:
        frames, rows, columns, samples = shape
    else:
        raise ValueError(
            f"'arr' must have 2, 3 or 4 dimensions, not {arr.ndim} (shape {shape})"
        )
    if samples_per_pixel is not None and samples != samples_per_pixel:
        raise ValueError(
            f"'samples_per_pixel' is {samples_per_pixel}, but the shape {shape} "
            f"has {samples} samples per pixel"
        )
    if frames < 1:
        raise ValueError(f"'arr' holds no frames (shape {shape})")
    return frames, rows, columns, samples


def _single_bit(arr: np.ndarray, samples: int) -> np.ndarray:
    """`arr` as one byte, 0 or 1, per pixel: single-bit RLE (PS3.5 G.2)."""
    import numpy as np

    check_single_bit(samples)
    check_bit_values(arr)
    return arr.astype(np.uint8, copy=False)


def encode_array(
    arr: np.ndarray,
    *,
    samples_per_pixel: int | None = None,
    bits_allocated: int | None = None,
    threads: int | None = None,
) -> list[bytes]:
    """Encode every frame of an array as RLE Lossless, in parallel.

    Parameters
    ----------
    arr : numpy.ndarray
        Integer or boolean pixel data of any byte order and memory layout,
        shaped (rows, columns), (frames, rows, columns), (rows, columns,
        samples) or (frames, rows, columns, samples). A 3-D array is
        (frames, rows, columns) unless `samples_per_pixel` is more than 1.
    samples_per_pixel : int, optional
        Samples per pixel; by default taken from the shape as above.
    bits_allocated : int, optional
        8, 16, 32 or 64, at least the bits of the array's items (the
        default). Wider than the items, each sample is zero-extended, or
        sign-extended for signed dtypes. 1 (the default for booleans) for
        single-bit monochrome data, one value of 0 or 1 per pixel, not
        packed: each pixel becomes one byte of the frame's one segment
        (PS3.5 G.2).
    threads : int, optional
        Threads to encode with; by default the cores this process may use.

    Returns
    -------
    list[bytes]
        One RLE Lossless frame per frame of `arr`.

    Raises
    ------
    TypeError
        If `arr` is not a NumPy array of integers.
    ValueError
        If the shape, `bits_allocated` or `threads` is not allowed.

    Examples
    --------
    >>> import numpy as np, dicomrle
    >>> frames = dicomrle.encode_array(np.zeros((4, 64, 64), dtype="<u2"))
    >>> len(frames)
    4
    """
    import numpy as np

    if not isinstance(arr, np.ndarray):
        raise TypeError(f"'arr' must be a numpy.ndarray, not {type(arr).__name__}")
    if arr.dtype.kind not in "iub":
        raise TypeError(f"'arr' must hold integers or booleans, not {arr.dtype}")
    threads = check_threads(threads)
    frames, rows, columns, samples = _shape(arr, samples_per_pixel)
    if bits_allocated is None:
        bits_allocated = 1 if arr.dtype.kind == "b" else 8 * arr.dtype.itemsize
    else:
        bits_allocated = choice("bits_allocated", bits_allocated, (1, *BITS_ALLOCATED))
    if bits_allocated == 1:
        arr = _single_bit(arr, samples)
        bits_allocated = 8
    elif arr.dtype.kind == "b":
        raise ValueError(
            "a boolean array is single-bit data: 'bits_allocated' must be 1"
        )
    itemsize = arr.dtype.itemsize
    if bits_allocated < 8 * itemsize:
        raise ValueError(
            f"'bits_allocated' ({bits_allocated}) is smaller than the "
            f"{8 * itemsize} bits of the array's items"
        )
    big = arr.dtype.byteorder == ">" or (
        arr.dtype.byteorder == "=" and sys.byteorder == "big"
    )
    stack = arr.reshape(frames, rows, columns, samples)
    frame = Frame(
        rows,
        columns,
        samples,
        bits_allocated,
        byteorder=">" if big else "<",
        bytes_per_sample=itemsize,
        sign_extend=arr.dtype.kind == "i",
    )
    threads, per_job = plan_jobs(stack[0].nbytes, frames, threads)

    if per_job == 1:
        # Large frames: a fresh bytes object per frame, shrunk in place, is
        # faster than a copy out of a workspace, whose exact-size
        # allocations glibc serves from mmap.
        def one(index: int) -> bytes:
            return encode(np.ascontiguousarray(stack[index]), frame)

        return run_all(one, frames, threads)

    # Small frames: a job of many frames per call, each copied out.
    spaces = threading.local()

    def job(number: int) -> list[bytes]:
        space = getattr(spaces, "space", None)
        if space is None:
            space = spaces.space = Workspace(frame, per_job)
        first = number * per_job
        part = np.ascontiguousarray(stack[first : first + per_job])
        space.encode(as_bytes_view(part), len(part))
        return [space.to_bytes(i) for i in range(len(part))]

    jobs = run_all(job, -(-frames // per_job), threads)
    return [frame for frames_of_job in jobs for frame in frames_of_job]
