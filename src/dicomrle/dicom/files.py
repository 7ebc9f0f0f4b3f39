"""Compress and decompress DICOM files: one plain, picklable function per
file, so that worker processes and distributed engines (Dask) can map it.

Every copy is written to a temporary file beside its destination, checked
from its bytes on disk by the strict walker (``_copy_check``), and renamed
into place only then; the source is only read, and a source that changed
while it was read fails. Imports are kept to what the byte route needs:
the command starts in a few milliseconds.
"""

from __future__ import annotations

import errno
import itertools
import os
import time
from collections import namedtuple

from dicomrle.codec.jobs import check_threads
from dicomrle.dicom import compress_bytes, decompress_bytes
from dicomrle.dicom.copy_check import copy_problem
from dicomrle.dicom.decompress_bytes import Invalid
from dicomrle.dicom.file_bytes import (
    RLE_LOSSLESS,
    Cancelled,
    Fallback,
    Plan,
    text_value,
    us_value,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from dicomrle.dicom.file_bytes import Cancel


O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)

WRITTEN, SKIPPED, FAILED = "written", "skipped", "failed"
DIFFERENT = "verification failed: decoded pixels differ"


class FileResult(
    namedtuple(
        "FileResult",
        [
            "src",
            "dst",
            "status",
            "reason",
            "bytes_in",
            "bytes_out",
            "seconds",
            "route",
            "detail",
            "errno",
        ],
        defaults=("", 0, 0, 0.0, "", "", 0),
    )
):
    """What happened to one file (immutable; small to pickle, since worker
    processes send one per file).

    Attributes
    ----------
    src, dst : str
        The file read and the file written.
    status : str
        "written", "skipped" or "failed".
    reason : str
        Why it was skipped or failed.
    bytes_in, bytes_out : int
        The sizes of the source and of the copy.
    seconds : float
        The time the file took.
    route : str
        "bytes", or "pydicom" and why the byte route did not take it.
    detail : str
        The traceback of a failure.
    errno : int
        The errno of an OSError that failed it.
    """

    __slots__ = ()


class _Skip(Exception):
    """The file is left as it is; the message says why."""


class _Refused(Exception):
    """No copy is kept; the message says why."""


_numbers = itertools.count()


class TemporaryCopy:
    """The copy of a file being written: a new file beside `dst`, made by
    ``create``, renamed onto `dst` by ``keep``; on leaving the ``with``
    block (an error, an interrupt) a copy not kept is removed.

    Attributes
    ----------
    path : str or None
        The file, once its creation has begun; None when there is none
        to remove.
    fd : int
        A descriptor open on it for reading and writing, or -1.
    """

    __slots__ = ("dst", "fd", "path")

    def __init__(self, dst: str) -> None:
        self.dst = dst
        self.path: str | None = None
        self.fd = -1

    def __enter__(self) -> TemporaryCopy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()

    def create(self) -> int:
        """Make the file (and its folder if need be); return its descriptor.
        Its name is recorded before it is made, so that an interrupt landing
        at any point leaves a name to remove."""
        flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | O_CLOEXEC
        folder, name = os.path.split(self.dst)
        while True:
            self.path = os.path.join(
                folder, f".{name}.{os.getpid()}-{next(_numbers)}.part"
            )
            try:
                self.fd = os.open(self.path, flags, 0o666)
            except FileNotFoundError:
                os.makedirs(folder or ".", exist_ok=True)
                self.fd = os.open(self.path, flags, 0o666)
            except FileExistsError:
                self.path = None  # left by an earlier process of the same number
                continue
            return self.fd

    def discard(self) -> None:
        """Close and remove the file, if there is one."""
        fd, self.fd = self.fd, -1
        try:
            if fd >= 0:
                os.close(fd)
        finally:
            if self.path is not None:
                try:
                    os.unlink(self.path)
                except FileNotFoundError:
                    pass
                self.path = None

    def keep(self, fsync: bool) -> None:
        """Rename the file onto `dst`; with `fsync`, make its bytes and
        then its new name reach the disk."""
        assert self.path is not None
        if fsync:
            os.fsync(self.fd)
        fd, self.fd = self.fd, -1
        os.close(fd)
        os.replace(self.path, self.dst)
        self.path = None
        if fsync:
            _sync_folder(self.dst)


def _sync_folder(path: str) -> None:
    """fsync the folder holding `path`: its new name reaches the disk."""
    fd = os.open(os.path.dirname(path) or ".", os.O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _same(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_ino, a.st_dev, a.st_size, a.st_mtime_ns) == (
        b.st_ino,
        b.st_dev,
        b.st_size,
        b.st_mtime_ns,
    )


def _convert(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    compress: bool,
    overwrite: bool,
    verify: bool,
    threads: int | None,
    cancel: Cancel | None,
    fsync: bool,
) -> FileResult:
    """:func:`compress_file` (`compress` True) or :func:`decompress_file`,
    with their arguments."""
    start = time.perf_counter()
    src, dst = os.fspath(src), os.fspath(dst)
    threads = check_threads(threads)
    status, reason, detail, code = WRITTEN, "", "", 0
    route = ""
    size_in = size_out = 0
    try:
        if os.path.exists(dst):
            size_in = os.stat(src).st_size if os.path.exists(src) else 0
            if not overwrite:
                raise _Skip("output exists (use --overwrite)")
            if os.path.realpath(dst) == os.path.realpath(src):
                raise _Refused("the output is the input")
        if cancel is not None and cancel.is_set():
            raise Cancelled
        fd = os.open(src, os.O_RDONLY | O_CLOEXEC)
        try:
            before = os.fstat(fd)
            size_in = before.st_size
            with TemporaryCopy(dst) as copy:
                plan: Plan | Fallback | Invalid
                if compress:
                    plan = compress_bytes.plan(fd, size_in)
                else:
                    plan = decompress_bytes.plan(fd, size_in)
                if isinstance(plan, Invalid):
                    raise _Refused(plan.reason)
                if isinstance(plan, Fallback):
                    route = f"pydicom ({plan.reason})"
                else:
                    route = "bytes"
                    out = copy.create()
                    if compress:
                        compress_bytes.write(
                            plan, fd, out, threads=threads, cancel=cancel
                        )
                    else:
                        decompress_bytes.write(
                            plan, fd, out, threads=threads, cancel=cancel
                        )
                    size = os.fstat(out).st_size
                    if verify and not _same_as_source(plan, fd, out, size, threads):
                        raise _Refused(DIFFERENT)
                    problem = copy_problem(out, size, encapsulated=compress)
                    if problem is not None and not compress:
                        # A decompressed copy that is not well formed (an RLE
                        # icon inside, say): the pydicom route decodes more.
                        route = f"pydicom (the byte route's copy: {problem})"
                        copy.discard()
                if route != "bytes":
                    out = _via_pydicom(fd, copy, compress, verify, threads)
                    size = os.fstat(out).st_size
                    problem = copy_problem(out, size, encapsulated=compress)
                if problem is not None:
                    raise _Refused(
                        f"the copy would not be well-formed DICOM: {problem}"
                    )
                if not _same(before, os.fstat(fd)):
                    raise _Refused("the input changed while it was read")
                copy.keep(fsync)
                size_out = size
        finally:
            os.close(fd)
    except _Skip as exc:
        status, reason = SKIPPED, str(exc)
    except _Refused as exc:
        status, reason = FAILED, str(exc)
    except Cancelled:
        status, reason = FAILED, "cancelled"
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
        import traceback

        status, detail = FAILED, traceback.format_exc()
        code = exc.errno if isinstance(exc, OSError) and exc.errno else 0
        if code == errno.ENOSPC:
            reason = f"no space left on device (writing {dst})"
        elif isinstance(exc, OSError) and exc.strerror:
            reason = f"{exc.strerror}: {exc.filename or src}"
        else:
            reason = f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - start
    return FileResult(
        src, dst, status, reason, size_in, size_out, seconds, route, detail, code
    )


def _via_pydicom(
    fd: int, copy: TemporaryCopy, compress: bool, verify: bool, threads: int
) -> int:
    """The pydicom route: read the file open as `fd`, convert it and write
    it to `copy`; return the copy's descriptor."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    from dicomrle.dicom.compress import NotEncodable, write_dataset
    from dicomrle.dicom.decompress import NotDecodable

    try:
        with open(os.dup(fd), "rb") as f:
            ds = pydicom.dcmread(f)
    except InvalidDicomError:
        raise _Skip("not a DICOM file") from None
    try:
        if compress:
            from dicomrle.dicom.compress import compress as encode
            from dicomrle.dicom.compress import plan

            source = plan(ds) if verify else None
            encode(ds, threads=threads)
        else:
            from dicomrle.dicom.decompress import decompress

            decompress(ds, threads=threads)
    except (NotEncodable, NotDecodable) as exc:
        raise _Skip(str(exc)) from None
    out = copy.create()
    with open(out, "wb", closefd=False) as f:
        write_dataset(f, ds)
    del ds
    if verify and compress:
        from dicomrle.dicom.decompress import matches

        assert copy.path is not None
        written = pydicom.dcmread(copy.path)
        if not matches(written, source, threads=threads):  # type: ignore[arg-type]
            raise _Refused(DIFFERENT)
    return out


def compress_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    verify: bool = False,
    threads: int | None = 1,
    cancel: Cancel | None = None,
    fsync: bool = False,
) -> FileResult:
    """Write an RLE Lossless copy of the DICOM file `src` to `dst`.

    Explicit VR Little Endian files are copied from their bytes, element by
    element as they are, with only the Pixel Data encoded and what RLE
    Lossless must change rewritten; Implicit VR Little Endian files the
    same way, their elements given the VRs the data dictionary fixes (a
    file with private elements, or an element whose VR the dictionary does
    not fix, is left to pydicom); other files go through pydicom. The
    copy goes to a temporary file beside `dst`, which is renamed only when
    complete, when the strict element walker accepts it and the source did
    not change meanwhile (and, with `verify`, only when it decodes to the
    pixels of `src`), so `dst` is never half-written nor malformed. `src`
    is only read. Never raises for a bad file: the result says what went
    wrong.

    Parameters
    ----------
    src, dst : str or os.PathLike
        The file to read and the file to write.
    overwrite : bool
        Replace `dst` if it exists; otherwise such a file is skipped.
    verify : bool
        Read the copy back, decode it with dicomrle's decoder and compare
        it with the Pixel Data bytes of `src` first.
    threads : int, optional
        Threads to encode the frames with; None for all usable cores.
    cancel : threading.Event, optional
        Set it (from another thread) to stop: the file then fails as
        "cancelled", and nothing of it is left.
    fsync : bool
        Make the copy and its new name reach the disk (fsync of the file,
        rename, fsync of the folder) before returning.

    Returns
    -------
    FileResult
        The status ("written", "skipped" or "failed"), the reason, the
        sizes in bytes and the route the file took.
    """
    return _convert(src, dst, True, overwrite, verify, threads, cancel, fsync)


def decompress_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    threads: int | None = 1,
    cancel: Cancel | None = None,
    fsync: bool = False,
) -> FileResult:
    """Write an uncompressed (Explicit VR Little Endian) copy of the RLE
    Lossless DICOM file `src` to `dst`.

    As :func:`compress_file`: a temporary file renamed when complete and
    accepted by the strict walker, `src` only read, a file that is not RLE
    Lossless skipped, and no exception for a bad file.

    Parameters
    ----------
    src, dst, overwrite
        As for :func:`compress_file`.
    threads : int, optional
        Threads to decode the frames with; None for all usable cores.
    cancel : threading.Event, optional
        Set it to stop before the file is started.
    fsync : bool
        As for :func:`compress_file`.

    Returns
    -------
    FileResult
        The status ("written", "skipped" or "failed"), the reason, and
        the sizes in bytes.
    """
    return _convert(src, dst, False, overwrite, False, threads, cancel, fsync)


def _same_as_source(plan: Plan, src: int, copy: int, size: int, threads: int) -> bool:
    """True if the RLE copy open as `copy` (`size` bytes), read back with
    dicomrle's own parsers, decodes with dicomrle's decoder to the bytes of
    the frames in the file open as `src`.

    The element walker checks the copy up to its Pixel Data (RLE Lossless,
    the source's Image Pixel description), the item parser finds one
    fragment per frame, matching offset tables and the source's elements
    after the Pixel Data; then every frame is decoded and compared.
    """
    import mmap

    from dicomrle.dicom import compress
    from dicomrle.dicom.decompress import frames_match

    length = plan.frames * plan.frame_length
    if size == 0:
        return False
    # Read-only maps: file pages, not process memory.
    with (
        mmap.mmap(copy, 0, access=mmap.ACCESS_READ) as copied,
        mmap.mmap(src, 0, access=mmap.ACCESS_READ) as mapped,
    ):
        written = memoryview(copied)
        data = memoryview(mapped)[plan.pixel_offset : plan.pixel_offset + length]
        frames = _copied_frames(written, size, plan) or []
        try:
            if not frames:
                return False
            source = compress.Plan(
                data,
                plan.frames,
                plan.rows,
                plan.columns,
                plan.samples,
                plan.bits_allocated,
                plan.planar,
                plan.frame,
            )
            return frames_match(frames, source, threads=threads)
        finally:
            # The maps close only once no view of them is left.
            for frame in frames:
                frame.release()
            data.release()
            written.release()


def _copied_frames(
    written: memoryview, size: int, plan: Plan
) -> list[memoryview] | None:
    """The frames of the RLE copy `written` (the whole file) of `plan`'s
    source, or None if the copy is not what the byte route writes: RLE
    Lossless, the source's Image Pixel elements, one fragment per frame,
    offset tables that point at them, and the source's elements after the
    Pixel Data."""
    import struct

    from dicomrle.dicom import walk
    from dicomrle.dicom.fragments import SEQUENCE_END, fragments

    status, info = walk.walk_file(written, size, rle=True)
    if status != walk.ENCAPSULATED or "PixelData" not in info:
        return None
    pixel_header, pixel_offset, _, vr = info["PixelData"]
    head = bytes(written[:pixel_header])
    try:
        description = (
            us_value(head, info.get("Rows")),
            us_value(head, info.get("Columns")),
            us_value(head, info.get("SamplesPerPixel")) or 1,
            us_value(head, info.get("BitsAllocated")),
            int(text_value(head, info.get("NumberOfFrames")) or 1),
        )
    except ValueError:
        return None
    syntax = text_value(head, info.get("TransferSyntaxUID"))
    if (
        vr != "OB"
        or syntax + b"\0" != RLE_LOSSLESS
        or description
        != (plan.rows, plan.columns, plan.samples, plan.bits_allocated, plan.frames)
    ):
        return None
    value = written[pixel_offset:]
    try:
        table, items = fragments(value)
    except ValueError:
        return None
    if len(items) != plan.frames or table.nbytes not in (0, 4 * plan.frames):
        return None
    first = items[0].start - 8
    offsets = [item.start - 8 - first for item in items]
    if table.nbytes and list(struct.unpack(f"<{plan.frames}L", table)) != offsets:
        return None
    if "ExtendedOffsetTable" in info:
        extended = []
        for name in ("ExtendedOffsetTable", "ExtendedOffsetTableLengths"):
            _, at, n, _ = info[name]
            if n != 8 * plan.frames:
                return None
            extended.append(list(struct.unpack_from(f"<{plan.frames}Q", written, at)))
        if extended != [offsets, [item.length for item in items]]:
            return None
    end = items[-1].start + items[-1].length
    if (
        bytes(value[end : end + 8]) != SEQUENCE_END + bytes(4)
        or value[end + 8 :] != plan.tail
    ):
        return None
    return [value[item.start : item.start + item.length] for item in items]


def _files_under(folder: str, recursive: bool) -> Iterator[tuple[str, str]]:
    """The files under `folder` (of its sub-folders too if `recursive`), in
    name order, each as its path and its path relative to `folder`."""
    if recursive:
        for root, dirs, files in os.walk(folder):
            dirs.sort()
            rel = os.path.relpath(root, folder)
            prefix = "" if rel == os.curdir else rel + os.sep
            for name in sorted(files):
                yield os.path.join(root, name), prefix + name
    else:
        with os.scandir(folder) as entries:
            names = sorted(e.name for e in entries if e.is_file())
        yield from ((os.path.join(folder, name), name) for name in names)


def plan_outputs(
    paths: Iterable[str | os.PathLike[str]],
    outdir: str | os.PathLike[str],
    *,
    recursive: bool = False,
) -> list[tuple[str, str]]:
    """Return (input, output) pairs: a file goes to ``outdir/name``, the files
    of a folder to the same relative paths under `outdir`.

    Raises
    ------
    FileNotFoundError
        If a path does not exist.
    ValueError
        If two inputs would be written to one output.
    """
    outdir = os.fspath(outdir)
    pairs: list[tuple[str, str]] = []
    for path in [os.fspath(p) for p in paths]:
        if os.path.isdir(path):
            pairs.extend(
                (f, os.path.join(outdir, rel))
                for f, rel in _files_under(path, recursive)
            )
        elif os.path.exists(path):
            pairs.append((path, os.path.join(outdir, os.path.basename(path))))
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    seen: dict[str, str] = {}
    for src, dst in pairs:
        key = os.path.normpath(dst)
        if key in seen:
            raise ValueError(f"{src} and {seen[key]} would both be written to {dst}")
        seen[key] = src
    return pairs
