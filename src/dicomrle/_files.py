"""Compress DICOM files: one plain, picklable function per file, so that
process pools and distributed engines (Dask) can map it over paths."""

from __future__ import annotations

import errno
import os
import secrets
import threading
import time
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from dicomrle import _stream
from dicomrle._stream import Cancelled

O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)

WRITTEN, SKIPPED, FAILED = "written", "skipped", "failed"


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


def _temporary(dst: Path) -> Path:
    return dst.with_name(f".{dst.name}.{secrets.token_hex(4)}.part")


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

    The copy goes to a temporary file beside `dst`, which is renamed only
    when complete (and, with `verify`, only when it decodes to the pixels
    of `src`), so `dst` is never half-written. `src` is only read. Never
    raises for a bad file: the result says what went wrong.

    Parameters
    ----------
    src, dst : str or os.PathLike
        The file to read and the file to write.
    overwrite : bool
        Replace `dst` if it exists; otherwise such a file is skipped.
    verify : bool
        Decode the copy with pydicom and compare it with `src` first.
    threads : int, optional
        Threads to encode the frames with; None for all usable cores.
    cancel : threading.Event, optional
        Set it (from another thread) to stop: the file then fails as
        "cancelled", and nothing of it is left.

    Returns
    -------
    FileResult
        The status ("written", "skipped" or "failed"), the reason, and
        the sizes in bytes.
    """
    from dicomrle._batch import check_threads
    from dicomrle._dataset import NotEncodable

    start = time.perf_counter()
    src, dst = Path(src), Path(dst)
    route = ""

    def result(
        status: str, reason: str = "", size_out: int = 0, **more: object
    ) -> FileResult:
        size_in = src.stat().st_size if src.is_file() else 0
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

    if dst.exists() and not overwrite:
        return result(SKIPPED, "output exists (use --overwrite)")
    if dst.exists() and dst.resolve() == src.resolve():
        return result(FAILED, "the output is the input")
    tmp = None
    try:
        with open(src, "rb") as f:
            plan = _stream.plan(f.fileno(), os.fstat(f.fileno()).st_size)
            if isinstance(plan, _stream.Plan):
                route = "bytes"
                tmp = _write_bytes(
                    plan, f.fileno(), dst, check_threads(threads), cancel
                )
            else:
                route = f"pydicom ({plan.reason})"
        if tmp is not None:
            if verify and not _same_pixels(src, tmp):
                return result(FAILED, "verification failed: decoded pixels differ")
            os.replace(tmp, dst)
            tmp = None
            return result(WRITTEN, size_out=dst.stat().st_size)
        import numpy as np
        import pydicom
        from pydicom.errors import InvalidDicomError

        from dicomrle._dataset import compress, write_dataset

        try:
            ds = pydicom.dcmread(src)
        except InvalidDicomError:
            return result(SKIPPED, "not a DICOM file")
        expected = ds.pixel_array if verify else None
        compress(ds, threads=threads)
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = _temporary(dst)
        with open(tmp, "xb") as f:
            write_dataset(f, ds)
        del ds
        if expected is not None:
            decoded = pydicom.dcmread(tmp).pixel_array
            if not np.array_equal(decoded, expected):
                return result(FAILED, "verification failed: decoded pixels differ")
        os.replace(tmp, dst)
        tmp = None
        return result(WRITTEN, size_out=dst.stat().st_size)
    except NotEncodable as exc:
        return result(SKIPPED, str(exc))
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


def _write_bytes(
    plan: _stream.Plan,
    src: int,
    dst: Path,
    threads: int,
    cancel: threading.Event | None,
) -> Path:
    """Write `plan` from `src` to a temporary file beside `dst`; return it.
    On any error the temporary file is removed."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(dst)
    fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | O_CLOEXEC, 0o666)
    try:
        _stream.write(plan, src, fd, threads=threads, cancel=cancel)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    return tmp


def _same_pixels(a: Path, b: Path) -> bool:
    import numpy as np
    import pydicom

    return bool(
        np.array_equal(pydicom.dcmread(a).pixel_array, pydicom.dcmread(b).pixel_array)
    )


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
