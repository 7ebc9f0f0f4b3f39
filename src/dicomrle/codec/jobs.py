"""The one thread and job planner: how many threads a batch of frames is
worth, and how many frames each job takes."""

from __future__ import annotations

import operator
import os

TYPE_CHECKING = False  # typing is slow to import: the command starts without it
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    T = TypeVar("T")


def usable_cores() -> int:
    """Return the number of cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def check_threads(threads: int | None) -> int:
    """Return `threads`, or the usable cores when it is None."""
    if threads is None:
        return usable_cores()
    try:
        number = None if isinstance(threads, bool) else operator.index(threads)
    except TypeError:
        number = None
    if number is None or number < 1:
        raise ValueError(f"'threads' must be a positive int or None, not {threads!r}")
    return number


def run_all(func: Callable[[int], T], count: int, threads: int) -> list[T]:
    """Return ``[func(0), ..., func(count - 1)]`` computed on `threads` threads."""
    if threads == 1 or count == 1:
        return [func(i) for i in range(count)]
    from concurrent.futures import ThreadPoolExecutor  # not needed at start-up

    with ThreadPoolExecutor(max_workers=min(threads, count)) as pool:
        return list(pool.map(func, range(count)))


# A job is this many bytes of source frames or more (one frame at least):
# fewer hand-overs between threads for small frames.
JOB_BYTES = 1 << 20


def useful_threads(frame_length: int, count: int, threads: int) -> int:
    """`threads`, but no more than one per JOB_BYTES of source frames:
    starting threads costs more than a small image takes to encode."""
    return max(1, min(threads, count * frame_length // JOB_BYTES))


def frames_per_job(frame_length: int, count: int, threads: int) -> int:
    """The frames a thread encodes at a time: about JOB_BYTES of them, but
    few enough that every thread gets four jobs or more."""
    return max(1, min(-(-JOB_BYTES // frame_length), count // (4 * threads)))


# A decode job is this many frames or fewer: few enough hand-overs between
# threads, and jobs small enough that a busy core does not hold up the rest.
JOBS_PER_THREAD = 8


def plan_jobs(
    frame_length: int, count: int, threads: int | None, *, decoding: bool = False
) -> tuple[int, int]:
    """Threads and frames per job for `count` frames of `frame_length` bytes,
    on at most `threads` threads (None: every usable core).

    Encoding takes about JOB_BYTES a job; decoding, whose threads share one
    output, spreads the frames over JOBS_PER_THREAD jobs a thread.
    """
    threads = useful_threads(frame_length, count, check_threads(threads))
    if decoding:
        return threads, max(1, -(-count // (JOBS_PER_THREAD * threads)))
    return threads, frames_per_job(max(1, frame_length), count, threads)
