"""Compress and decompress DICOM files: one plain, picklable function per
file, so that process pools and distributed engines (Dask) can map it."""

from __future__ import annotations

import errno
import itertools
import os
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dicomrle import _stream
from dicomrle._stream import Cancelled

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)

WRITTEN, SKIPPED, FAILED = "written", "skipped", "failed"
DIFFERENT = "verification failed: decoded pixels differ"


@dataclass(frozen=True)
class FileResult:
    """What happened to one file."""

    src: str
    dst: str
    status: str  # "written", "skipped" or "failed"
    reason: str = ""
    bytes_in: int = 0
    bytes_out: int = 0
    seconds: float = 0.0
    route: str = ""  # "bytes", or "pydicom" and why the byte route did not take it
    detail: str = ""  # the traceback of a failure
    errno: int = 0  # the errno of an OSError that failed it


class _Refused(Exception):
    """The copy was written but must not be kept; the message says why."""


_numbers = itertools.count()


def _create_temporary(dst: Path) -> tuple[Path, int]:
    """Create a new empty file beside `dst` (and its folder if need be);
    return its path and a descriptor open for reading and writing."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | O_CLOEXEC
    while True:
        tmp = dst.with_name(f".{dst.name}.{os.getpid()}-{next(_numbers)}.part")
        try:
            return tmp, os.open(tmp, flags, 0o666)
        except FileNotFoundError:
            dst.parent.mkdir(parents=True, exist_ok=True)
            return tmp, os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue  # left by an earlier process of the same number


# ``by_bytes(fd, size)``: the route the file open as `fd`, of `size` bytes,
# takes, and, on the byte route, ``write(dst)``, which writes a temporary
# copy beside `dst` and returns it and its size; None when the file is left
# to pydicom.
CopyWriter = Callable[[Path], "tuple[Path, int]"]
ByteRoute = Callable[[int, int], "tuple[str, CopyWriter | None]"]


def _write_copy(
    src: Path,
    dst: Path,
    *,
    overwrite: bool,
    convert: Callable[[Dataset], object],
    check: Callable[[Path, object], bool] | None = None,
    by_bytes: ByteRoute | None = None,
    cancel: threading.Event | None = None,
) -> FileResult:
    """Write a converted copy of `src` to a temporary file beside `dst` and
    rename it to `dst` when complete.

    `by_bytes` may write the copy straight from the file's bytes; otherwise
    pydicom reads `src`, ``state = convert(ds)`` changes it, and, with
    `check`, the copy is kept only if ``check(temporary, state)``. Never
    raises for a bad file: the result says what went wrong.
    """
    from dicomrle._dataset import NotEncodable
    from dicomrle._decode import NotDecodable

    start = time.perf_counter()
    route = ""
    size_in = -1  # not known yet

    def result(
        status: str, reason: str = "", size_out: int = 0, **more: object
    ) -> FileResult:
        nonlocal size_in
        if size_in < 0:
            try:
                size_in = os.stat(src).st_size
            except OSError:
                size_in = 0
        return FileResult(
            str(src),
            str(dst),
            status,
            reason,
            size_in,
            size_out,
            time.perf_counter() - start,
            route,
            **more,  # type: ignore[arg-type]
        )

    if dst.exists():
        if not overwrite:
            return result(SKIPPED, "output exists (use --overwrite)")
        if dst.resolve() == src.resolve():
            return result(FAILED, "the output is the input")
    tmp = None
    size_out = -1
    try:
        if cancel is not None and cancel.is_set():
            raise Cancelled
        if by_bytes is not None:
            fd = os.open(src, os.O_RDONLY | O_CLOEXEC)
            try:
                size_in = os.fstat(fd).st_size
                route, write = by_bytes(fd, size_in)
                if write is not None:
                    tmp, size_out = write(dst)
            finally:
                os.close(fd)
        if tmp is None:
            tmp = _via_pydicom(src, dst, convert, check)
            route = route or "pydicom"
            size_out = os.stat(tmp).st_size
        os.replace(tmp, dst)
        tmp = None
        return result(WRITTEN, size_out=size_out)
    except (NotEncodable, NotDecodable) as exc:
        return result(SKIPPED, str(exc))
    except _NotDicom:
        return result(SKIPPED, "not a DICOM file")
    except _Refused as exc:
        return result(FAILED, str(exc))
    except Cancelled:
        return result(FAILED, "cancelled")
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
        code = exc.errno if isinstance(exc, OSError) and exc.errno else 0
        if code == errno.ENOSPC:
            reason = f"no space left on device (writing {dst})"
        elif isinstance(exc, OSError) and exc.strerror:
            reason = f"{exc.strerror}: {exc.filename or src}"
        else:
            reason = f"{type(exc).__name__}: {exc}"
        return result(FAILED, reason, detail=traceback.format_exc(), errno=code)
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


class _NotDicom(Exception):
    pass


def _via_pydicom(
    src: Path,
    dst: Path,
    convert: Callable[[Dataset], object],
    check: Callable[[Path, object], bool] | None,
) -> Path:
    """The pydicom route: read, convert, write a temporary copy; return it."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    from dicomrle._dataset import write_dataset

    try:
        ds = pydicom.dcmread(src)
    except InvalidDicomError:
        raise _NotDicom from None
    state = convert(ds)
    tmp, fd = _create_temporary(dst)
    try:
        with open(fd, "wb") as f:
            write_dataset(f, ds)
        del ds
        if check is not None and not check(tmp, state):
            raise _Refused(DIFFERENT)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def compress_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    verify: bool = False,
    threads: int | None = 1,
    cancel: threading.Event | None = None,
) -> FileResult:
    """Write an RLE Lossless copy of the DICOM file `src` to `dst`.

    Explicit VR Little Endian files are copied from their bytes, element by
    element as they are, with only the Pixel Data encoded and what RLE
    Lossless must change rewritten; Implicit VR Little Endian files the
    same way, their elements given the VRs the data dictionary fixes (a
    file with private elements, or an element whose VR the dictionary does
    not fix, is left to pydicom); other files go through pydicom. The
    copy goes to a temporary file beside `dst`, which is renamed only when
    complete (and, with `verify`, only when it decodes to the pixels of
    `src`), so `dst` is never half-written. `src` is only read. Never
    raises for a bad file: the result says what went wrong.

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

    Returns
    -------
    FileResult
        The status ("written", "skipped" or "failed"), the reason, the
        sizes in bytes and the route the file took.
    """
    from dicomrle._batch import check_threads

    threads = check_threads(threads)

    def by_bytes(fd: int, size: int) -> tuple[str, CopyWriter | None]:
        plan = _stream.plan(fd, size)
        if not isinstance(plan, _stream.Plan):
            return f"pydicom ({plan.reason})", None

        def write(dst: Path) -> tuple[Path, int]:
            tmp, written = _write_bytes(plan, fd, dst, threads, cancel)
            if verify and not _same_as_source(plan, fd, tmp, threads):
                tmp.unlink(missing_ok=True)
                raise _Refused(DIFFERENT)
            return tmp, written

        return "bytes", write

    def convert(ds: Dataset) -> object:
        from dicomrle._dataset import compress, plan

        source = plan(ds) if verify else None
        compress(ds, threads=threads)
        return source

    def check(path: Path, source: object) -> bool:
        import pydicom

        from dicomrle._decode import matches

        return matches(pydicom.dcmread(path), source, threads=threads)  # type: ignore[arg-type]

    return _write_copy(
        Path(src),
        Path(dst),
        overwrite=overwrite,
        convert=convert,
        check=check if verify else None,
        by_bytes=by_bytes,
        cancel=cancel,
    )


def decompress_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    threads: int | None = 1,
    cancel: threading.Event | None = None,
) -> FileResult:
    """Write an uncompressed (Explicit VR Little Endian) copy of the RLE
    Lossless DICOM file `src` to `dst`.

    As :func:`compress_file`: a temporary file renamed when complete,
    `src` only read, a file that is not RLE Lossless skipped, and no
    exception for a bad file.

    Parameters
    ----------
    src, dst : str or os.PathLike
        The file to read and the file to write.
    overwrite : bool
        Replace `dst` if it exists; otherwise such a file is skipped.
    threads : int, optional
        Threads to decode the frames with; None for all usable cores.
    cancel : threading.Event, optional
        Set it to stop before the file is started.

    Returns
    -------
    FileResult
        The status ("written", "skipped" or "failed"), the reason, and
        the sizes in bytes.
    """
    from dicomrle._decode import decompress

    return _write_copy(
        Path(src),
        Path(dst),
        overwrite=overwrite,
        convert=lambda ds: decompress(ds, threads=threads),
        cancel=cancel,
    )


def _write_bytes(
    plan: _stream.Plan,
    src: int,
    dst: Path,
    threads: int,
    cancel: threading.Event | None,
) -> tuple[Path, int]:
    """Write `plan` from `src` to a temporary file beside `dst`; return it
    and its size. On any error the temporary file is removed."""
    tmp, fd = _create_temporary(dst)
    try:
        size = _stream.write(plan, src, fd, threads=threads, cancel=cancel)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    return tmp, size


def _same_as_source(plan: _stream.Plan, src: int, copy: Path, threads: int) -> bool:
    """True if the RLE copy, read back from disk with dicomrle's own parsers,
    decodes with dicomrle's decoder to the bytes of the frames in the file
    open as `src`.

    The element walker checks the copy up to its Pixel Data (RLE Lossless,
    the source's Image Pixel description), the item parser finds one
    fragment per frame, matching offset tables and the source's elements
    after the Pixel Data; then every frame is decoded and compared.
    """
    import mmap

    from dicomrle._dataset import Plan
    from dicomrle._decode import frames_match

    length = plan.frames * plan.frame_length
    fd = os.open(copy, os.O_RDONLY | O_CLOEXEC)
    try:
        size = os.fstat(fd).st_size
        if size == 0:
            return False
        # Read-only maps: file pages, not process memory.
        with (
            mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as copied,
            mmap.mmap(src, 0, access=mmap.ACCESS_READ) as mapped,
        ):
            written = memoryview(copied)
            data = memoryview(mapped)[plan.pixel_offset : plan.pixel_offset + length]
            frames = _copied_frames(written, size, plan) or []
            try:
                if not frames:
                    return False
                source = Plan(
                    data,
                    plan.frames,
                    plan.rows,
                    plan.columns,
                    plan.samples,
                    plan.bits_allocated,
                    False,
                    plan.planar,
                )
                return frames_match(frames, source, threads=threads)
            finally:
                # The maps close only once no view of them is left.
                for frame in frames:
                    frame.release()
                data.release()
                written.release()
    finally:
        os.close(fd)


def _copied_frames(
    written: memoryview, size: int, plan: _stream.Plan
) -> list[memoryview] | None:
    """The frames of the RLE copy `written` (the whole file) of `plan`'s
    source, or None if the copy is not what the byte route writes: RLE
    Lossless, the source's Image Pixel elements, one fragment per frame,
    offset tables that point at them, and the source's elements after the
    Pixel Data."""
    import struct

    from dicomrle import _walk
    from dicomrle._fragments import SEQUENCE_END, fragments

    status, info = _walk.walk_file(written, size, rle=True)
    if status != _walk.ENCAPSULATED or "PixelData" not in info:
        return None
    pixel_header, pixel_offset, _, vr = info["PixelData"]
    head = bytes(written[:pixel_header])
    try:
        description = (
            _stream._us(head, info.get("Rows")),
            _stream._us(head, info.get("Columns")),
            _stream._us(head, info.get("SamplesPerPixel")) or 1,
            _stream._us(head, info.get("BitsAllocated")),
            int(_stream._text(head, info.get("NumberOfFrames")) or 1),
        )
    except ValueError:
        return None
    syntax = _stream._text(head, info.get("TransferSyntaxUID"))
    if (
        vr != "OB"
        or syntax + b"\0" != _stream.RLE_LOSSLESS
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


def _files_under(folder: Path, recursive: bool) -> Iterator[Path]:
    if recursive:
        for root, dirs, files in os.walk(folder):
            dirs.sort()
            for name in sorted(files):
                yield Path(root) / name
    else:
        yield from sorted(p for p in folder.iterdir() if p.is_file())


def plan_outputs(
    paths: Iterable[str | os.PathLike[str]],
    outdir: str | os.PathLike[str],
    *,
    recursive: bool = False,
) -> list[tuple[Path, Path]]:
    """Return (input, output) pairs: a file goes to ``outdir/name``, the files
    of a folder to the same relative paths under `outdir`.

    Raises
    ------
    FileNotFoundError
        If a path does not exist.
    ValueError
        If two inputs would be written to one output.
    """
    outdir = Path(outdir)
    pairs: list[tuple[Path, Path]] = []
    for path in map(Path, paths):
        if path.is_dir():
            pairs.extend(
                (f, outdir / f.relative_to(path)) for f in _files_under(path, recursive)
            )
        elif path.exists():
            pairs.append((path, outdir / path.name))
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    seen: dict[Path, Path] = {}
    for src, dst in pairs:
        if dst in seen:
            raise ValueError(f"{src} and {seen[dst]} would both be written to {dst}")
        seen[dst] = src
    return pairs
