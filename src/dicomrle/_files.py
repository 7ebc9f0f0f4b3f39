"""Compress and decompress DICOM files: one plain, picklable function per file, so that
process pools and distributed engines (Dask) can map it over paths."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

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


def _temporary(dst: Path) -> Path:
    return dst.with_name(f".{dst.name}.{secrets.token_hex(4)}.part")


def _write_copy(
    src: Path,
    dst: Path,
    overwrite: bool,
    convert: Callable[[Dataset], object],
    check: Callable[[Path, object], str] | None = None,
) -> FileResult:
    """Read `src`, change it with ``state = convert(ds)``, write it to a
    temporary file beside `dst` and rename that to `dst` when complete and,
    with `check`, only when ``check(temporary, state)`` gives no reason to
    fail. Never raises for a bad file: the result says what went wrong."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    from dicomrle._dataset import NotEncodable, write_dataset
    from dicomrle._decode import NotDecodable

    start = time.perf_counter()

    def result(status: str, reason: str = "", size_out: int = 0) -> FileResult:
        size_in = src.stat().st_size if src.is_file() else 0
        return FileResult(
            str(src),
            str(dst),
            status,
            reason,
            size_in,
            size_out,
            time.perf_counter() - start,
        )

    if dst.exists() and not overwrite:
        return result(SKIPPED, "output exists (use --overwrite)")
    if dst.exists() and dst.resolve() == src.resolve():
        return result(FAILED, "the output is the input")
    tmp = None
    try:
        try:
            ds = pydicom.dcmread(src)
        except InvalidDicomError:
            return result(SKIPPED, "not a DICOM file")
        state = convert(ds)
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = _temporary(dst)
        with open(tmp, "xb") as f:
            write_dataset(f, ds)
        del ds
        if check is not None and (reason := check(tmp, state)):
            return result(FAILED, reason)
        del state
        os.replace(tmp, dst)
        tmp = None
        return result(WRITTEN, size_out=dst.stat().st_size)
    except (NotEncodable, NotDecodable) as exc:
        return result(SKIPPED, str(exc))
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
        return result(FAILED, f"{type(exc).__name__}: {exc}")
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def compress_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    verify: bool = False,
    threads: int | None = 1,
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
        Read the copy back, decode it with dicomrle's decoder and compare
        it with the Pixel Data bytes of `src` first.
    threads : int, optional
        Threads to encode the frames with; None for all usable cores.

    Returns
    -------
    FileResult
        The status ("written", "skipped" or "failed"), the reason, and
        the sizes in bytes.
    """
    from dicomrle._dataset import compress, plan

    def convert(ds: Dataset) -> object:
        source = plan(ds) if verify else None
        compress(ds, threads=threads)
        return source

    def check(path: Path, source: object) -> str:
        import pydicom

        from dicomrle._decode import matches

        if matches(pydicom.dcmread(path), source, threads=threads):  # type: ignore[arg-type]
            return ""
        return "verification failed: decoded pixels differ"

    return _write_copy(
        Path(src), Path(dst), overwrite, convert, check if verify else None
    )


def decompress_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    threads: int | None = 1,
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

    Returns
    -------
    FileResult
        The status ("written", "skipped" or "failed"), the reason, and
        the sizes in bytes.
    """
    from dicomrle._decode import decompress

    return _write_copy(
        Path(src), Path(dst), overwrite, lambda ds: decompress(ds, threads=threads)
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
