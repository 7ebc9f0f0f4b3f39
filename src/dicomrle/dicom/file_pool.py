"""Files converted on worker processes, one per core.

Each worker is a process of its own: its own interpreter and GIL, so no
lock is shared per file, and the per-file Python work runs on every core
at once. The main process only hands out runs of (source, destination)
pairs and collects one small result per file.

Each worker starts with a contiguous part of the list, so that two
workers rarely write into one folder at once: the kernel creates and
renames a folder's entries under one lock, and two processes writing into
the same folder took 1.4x the time of two writing into two. A worker that
runs out takes the back half of the largest part left (work stealing).

Workers ignore SIGINT: the main process takes the interrupt and sets a
shared event; each worker's file under way stops at its next job, leaving
nothing, and the files not started are not tried. A worker that dies
(killed, or a crash) fails the files it held, with the reason; its part
goes to the others.
"""

from __future__ import annotations

import os
import signal
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    import multiprocessing.connection
    import multiprocessing.context
    import multiprocessing.process
    import multiprocessing.synchronize
    from collections.abc import Iterator, Sequence

    from dicomrle.dicom.files import Cancel, FileResult

# A worker is sent runs of this many files or fewer, and has up to twice
# that queued: a round trip to the main process per run, and one small
# result sent back per file.
RUN = 16
# How long the main process lets results gather after a wake-up.
COLLECT_PAUSE = 0.005


def _serve(
    conn: multiprocessing.connection.Connection,
    compress: bool,
    options: dict[str, bool],
    cancel: Cancel,
) -> None:
    """A worker: convert the pairs of each run received and send back each
    result, until None or the end of the connection."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    from dicomrle.dicom.files import compress_file, decompress_file

    convert = compress_file if compress else decompress_file
    while True:
        try:
            pairs = conn.recv()
        except (EOFError, OSError):
            return
        if pairs is None:
            return
        for src, dst in pairs:
            result = convert(src, dst, cancel=cancel, **options)
            try:
                conn.send(result)
            except OSError:  # the main process is gone
                return


def _context() -> multiprocessing.context.BaseContext:
    """fork where it is safe and cheap: Linux, and this process has a single
    thread (forking a process with threads can deadlock the child); spawn
    elsewhere (macOS, Windows, or threads running)."""
    import multiprocessing

    if sys.platform.startswith("linux"):
        try:
            single = len(os.listdir("/proc/self/task")) == 1
        except OSError:
            single = False
        if single:
            return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


class _SharedFlag:
    """A flag that forked workers see set: a byte of an anonymous shared
    map (``multiprocessing``'s Event imports in 10 ms what this needs
    none of)."""

    def __init__(self) -> None:
        import mmap

        self.map = mmap.mmap(-1, 1)

    def set(self) -> None:
        self.map[0] = 1

    def is_set(self) -> bool:
        return self.map[0] == 1


class _Parts:
    """The pairs not yet handed out: one contiguous part per worker, and
    the parts of workers that died."""

    def __init__(self, count: int, workers: int) -> None:
        bounds = [count * w // workers for w in range(workers + 1)]
        self.parts = [[bounds[w], bounds[w + 1]] for w in range(workers)]

    def take(self, worker: int) -> range | None:
        """The next run of `worker`: the front of its part, or of the back
        half of the largest part left; None when nothing is left."""
        part = self.parts[worker]
        if part[0] == part[1]:
            largest = max(self.parts, key=lambda p: p[1] - p[0])
            left = largest[1] - largest[0]
            if left == 0:
                return None
            middle = largest[0] + left // 2
            part[:] = [middle, largest[1]]
            largest[1] = middle
        end = min(part[1], part[0] + max(1, min(RUN, (part[1] - part[0]) // 2)))
        run = range(part[0], end)
        part[0] = end
        return run

    def give_back(self, worker: int, indexes: list[int]) -> None:
        """`worker` is gone: its part, and the files it had queued but not
        started, are left for the others to take."""
        self.parts.append(self.parts[worker][:])
        self.parts[worker][:] = [0, 0]
        start = 0
        for k in range(1, len(indexes) + 1):
            if k == len(indexes) or indexes[k] != indexes[k - 1] + 1:
                self.parts.append([indexes[start], indexes[k - 1] + 1])
                start = k

    def left(self) -> Iterator[int]:
        for start, end in self.parts:
            yield from range(start, end)


class _Worker:
    __slots__ = ("conn", "index", "pending", "process")

    def __init__(
        self,
        index: int,
        process: multiprocessing.process.BaseProcess,
        conn: multiprocessing.connection.Connection,
    ) -> None:
        self.index = index
        self.process = process
        self.conn = conn
        self.pending: list[int] = []  # sent, in order, and not answered


def run_on_processes(
    pairs: Sequence[tuple[str, str]],
    jobs: int,
    compress: bool,
    options: dict[str, bool],
    cancel: Cancel,
) -> Iterator[FileResult]:
    """Yield the result of every pair, converted on `jobs` worker processes
    (``compress_file(src, dst, **options)`` or ``decompress_file``), in the order the
    files complete. Setting `cancel`, closing the iterator or an interrupt
    stops the workers: files under way leave nothing, files not started are
    not tried."""
    from dicomrle.dicom.files import FAILED, FileResult

    context = _context()
    stop: _SharedFlag | multiprocessing.synchronize.Event = (
        _SharedFlag() if context.get_start_method() == "fork" else context.Event()
    )
    parts = _Parts(len(pairs), min(jobs, len(pairs)))
    workers: list[_Worker] = []
    sys.stdout.flush()  # a forked worker must not write what is buffered
    sys.stderr.flush()
    blocked = hasattr(signal, "pthread_sigmask")
    if blocked:  # no SIGINT in a worker before it ignores it
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        for index in range(len(parts.parts)):
            mine, theirs = context.Pipe()
            process = context.Process(  # type: ignore[attr-defined]
                target=_serve,
                args=(theirs, compress, options, stop),
                daemon=True,
                name=f"dicomrle-{index}",
            )
            process.start()
            theirs.close()
            workers.append(_Worker(index, process, mine))
    finally:
        if blocked:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})

    def hand_out(worker: _Worker) -> None:
        while len(worker.pending) <= RUN and not cancel.is_set():
            run = parts.take(worker.index)
            if run is None:
                return
            worker.conn.send([pairs[i] for i in run])
            worker.pending.extend(run)

    live = {w.conn: w for w in workers}
    ready = _Ready(list(live))
    try:
        for worker in workers:
            hand_out(worker)
        while any(w.pending for w in live.values()):
            ready.wait(None)
            # Let more results come before taking them: a wake-up of this
            # process per file took CPU time from the workers.
            time.sleep(COLLECT_PAUSE)
            for conn in ready.wait(0):
                worker = live[conn]
                results, ended = ready.take(conn)
                for result in results:
                    worker.pending.pop(0)
                    yield result
                if ended:
                    del live[conn]
                    ready.forget(conn)
                    if worker.pending:
                        yield _died(worker, pairs[worker.pending[0]])
                        parts.give_back(worker.index, worker.pending[1:])
                        worker.pending.clear()
                    for other in live.values():
                        hand_out(other)
                else:
                    hand_out(worker)
        if not cancel.is_set():
            for i in parts.left():  # every worker died
                src, dst = pairs[i]
                yield FileResult(src, dst, FAILED, "no worker process left")
    finally:
        stop.set()
        _stop(workers)


class _Ready:
    """The results the workers sent: one poll object for all connections
    (``multiprocessing.connection.wait`` builds a selector a call), and all
    that a connection holds read at once, the messages cut from the bytes
    (one system call for many results instead of three a result)."""

    def __init__(self, conns: list[multiprocessing.connection.Connection]) -> None:
        import select

        self.conns = {conn.fileno(): conn for conn in conns}
        self.unread = {fd: bytearray() for fd in self.conns}
        self.poll = select.poll() if hasattr(select, "poll") else None
        if self.poll is not None:
            for fd in self.conns:
                self.poll.register(fd, select.POLLIN)

    def forget(self, conn: multiprocessing.connection.Connection) -> None:
        fd = conn.fileno()
        del self.conns[fd]
        if self.poll is not None:
            self.poll.unregister(fd)

    def wait(
        self, timeout: float | None
    ) -> list[multiprocessing.connection.Connection]:
        """The connections ready within `timeout` seconds (None: no limit)."""
        if self.poll is None:  # Windows
            from multiprocessing.connection import wait

            conns = list(self.conns.values())
            return [cast_connection(c) for c in wait(conns, timeout)]
        ms = None if timeout is None else int(timeout * 1000)
        return [self.conns[fd] for fd, _ in self.poll.poll(ms)]

    def take(
        self, conn: multiprocessing.connection.Connection
    ) -> tuple[list[FileResult], bool]:
        """The results `conn` holds now, and whether it has ended."""
        if self.poll is None:  # Windows: no raw reads of a pipe handle
            try:
                return [conn.recv()], False
            except (EOFError, OSError):
                return [], True
        import pickle

        unread = self.unread[conn.fileno()]
        try:
            data = os.read(conn.fileno(), 1 << 16)
        except OSError:
            data = b""
        unread += data
        results = []
        # multiprocessing's framing: a signed 4-byte big-endian length, or
        # -1 and an 8-byte length.
        while len(unread) >= 4:
            length = int.from_bytes(unread[:4], "big", signed=True)
            start = 4
            if length == -1:
                if len(unread) < 12:
                    break
                length, start = int.from_bytes(unread[4:12], "big"), 12
            if len(unread) < start + length:
                break
            results.append(pickle.loads(unread[start : start + length]))
            del unread[: start + length]
        return results, not data


def cast_connection(ready: object) -> multiprocessing.connection.Connection:
    """What ``wait`` returned: one of our connections."""
    return ready  # type: ignore[return-value]


def _died(worker: _Worker, pair: tuple[str, str]) -> FileResult:
    """The result of the file a worker died on."""
    from dicomrle.dicom.files import FAILED, FileResult

    worker.process.join()
    code = worker.process.exitcode
    why = f"signal {-code}" if code and code < 0 else f"exit code {code}"
    return FileResult(*pair, FAILED, f"the worker process ended ({why})")


def _stop(workers: list[_Worker]) -> None:
    """Tell every worker to end, read what it still sends (so that none
    blocks on a full pipe), and wait for it; kill one that does not end."""
    from multiprocessing.connection import wait

    open_ = {}
    for worker in workers:
        try:
            worker.conn.send(None)
            open_[worker.conn] = worker
        except OSError:
            pass
    while open_:
        ready = wait(list(open_), timeout=60)
        if not ready:
            break
        for each in ready:
            conn = cast_connection(each)
            try:
                conn.recv()
            except (EOFError, OSError):
                del open_[conn]
    for worker in workers:
        worker.process.join(timeout=0 if open_ else 60)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        worker.conn.close()
