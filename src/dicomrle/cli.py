"""Command line: ``dicomrle compress PATH... -o OUTDIR [-j N] [--recursive]
[--verify] [--overwrite] [--verbose]`` and ``dicomrle decompress PATH...
-o OUTDIR [-j N] [--recursive] [--overwrite] [--verbose]``."""

from __future__ import annotations

import errno
import signal
import sys
import threading
import time
from collections import Counter
from types import SimpleNamespace

from dicomrle.codec.jobs import usable_cores
from dicomrle.dicom.files import (
    FAILED,
    SKIPPED,
    WRITTEN,
    FileResult,
    compress_file,
    decompress_file,
    plan_outputs,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Generator, Sequence
    from pathlib import Path
    from typing import Any, TextIO

# pydicom's bundled example images, used when no PATH is given.
EXAMPLES = (
    "CT_small.dcm",
    "MR_small.dcm",
    "examples_overlay.dcm",
    "examples_palette.dcm",
    "examples_rgb_color.dcm",
    "rtdose.dcm",
)
# pydicom's bundled RLE Lossless images, decompressed when no PATH is given.
RLE_EXAMPLES = ("MR_small_RLE.dcm", "SC_rgb_rle.dcm", "SC_rgb_rle_16bit_2frame.dcm")


def example_paths(names: Sequence[str] = EXAMPLES) -> list[Path]:
    """Return the paths of pydicom's bundled example images `names`."""
    from pathlib import Path

    from pydicom.data import get_testdata_file

    return [Path(p) for name in names if (p := get_testdata_file(name))]


def _mb(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def _run(
    pairs: list[tuple[str, str]],
    jobs: int,
    cancel: threading.Event,
    compress: bool,
    options: dict[str, bool],
) -> Generator[FileResult, None, None]:
    """Yield each file's result as it completes. Closing the iterator (or an
    interrupt) sets `cancel`: files under way stop and leave nothing, and
    files not started are not tried."""
    if jobs == 1 or len(pairs) <= 1:
        # In this process, one file at a time, its frames on `jobs` threads.
        worker = compress_file if compress else decompress_file
        for src, dst in pairs:
            yield worker(src, dst, threads=jobs, cancel=cancel, **options)
        return
    # Files on `jobs` worker processes: no lock shared per file (README,
    # "Many files on many cores").
    from dicomrle.dicom.file_pool import run_on_processes

    yield from run_on_processes(pairs, jobs, compress, options, cancel)


class _InterruptFlag:
    """While it is installed, SIGINT sets `cancel` as well as raising
    KeyboardInterrupt, so that an interrupt is not lost if C code (a
    Cython module's initialisation, say) swallows the KeyboardInterrupt:
    the files under way stop at their next job, and ``seen`` says why."""

    def __init__(self, cancel: threading.Event) -> None:
        self.seen = False
        self._cancel = cancel
        self._previous: Any = None
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):
            self._previous = signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum: int, frame: Any) -> None:
        self.seen = True
        self._cancel.set()
        raise KeyboardInterrupt

    def restore(self) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None


class _Lines:
    """What the batch needs of a tqdm bar, without a bar (and without
    importing tqdm) when standard error is not a terminal."""

    def write(self, line: str, file: TextIO) -> None:
        file.write(line + "\n")  # one write, even to an unbuffered stream

    def set_postfix_str(self, text: str) -> None:
        pass

    def update(self) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int) -> Any:
    if not sys.stderr.isatty():
        return _Lines()
    from tqdm import tqdm

    return tqdm(total=total, unit="file", file=sys.stderr)


def _batch(args: argparse.Namespace | SimpleNamespace) -> int:
    compress = args.command == "compress"
    options = {"overwrite": args.overwrite, "fsync": args.fsync}
    if compress:
        options["verify"] = args.verify
    paths = args.paths or example_paths(EXAMPLES if compress else RLE_EXAMPLES)
    try:
        pairs = plan_outputs(paths, args.output, recursive=args.recursive)
    except (OSError, ValueError) as exc:
        print(f"dicomrle: {exc}", file=sys.stderr)
        return 2
    counts: Counter[str] = Counter()
    bytes_in = bytes_out = 0
    problems: list[FileResult] = []
    start = time.perf_counter()
    bar = _progress(len(pairs))
    cancel = threading.Event()
    interrupted = _InterruptFlag(cancel)
    results = _run(pairs, args.jobs, cancel, compress, options)
    full = False
    try:
        for r in results:
            if interrupted.seen:
                raise KeyboardInterrupt
            counts[r.status] += 1
            if r.status == WRITTEN:
                bytes_in += r.bytes_in
                bytes_out += r.bytes_out
                ratio = r.bytes_in / max(r.bytes_out, 1)
                line = (
                    f"{r.src}: {_mb(r.bytes_in)} -> {_mb(r.bytes_out)} "
                    f"({ratio:.2f}x) in {r.seconds * 1000:.1f} ms"
                )
            else:
                problems.append(r)
                line = f"{r.src}: {r.status}: {r.reason}"
            if args.verbose:
                line += f" [{r.route or 'not read'}]"
                if r.detail:
                    line += "\n" + r.detail.rstrip()
            bar.write(line, file=sys.stdout if r.status != FAILED else sys.stderr)
            seconds = time.perf_counter() - start
            bar.set_postfix_str(f"{bytes_in / 1e6 / max(seconds, 1e-9):.1f} MB/s")
            bar.update()
            if r.errno == errno.ENOSPC:
                full = True
                break
        if interrupted.seen:
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        results.close()
        bar.close()
        print("dicomrle: interrupted; no partial output was left", file=sys.stderr)
        return 130
    finally:
        results.close()
        interrupted.restore()
    bar.close()
    if full:
        left = len(pairs) - sum(counts.values())
        print(
            f"dicomrle: stopped: no space left on device; {left} files not tried",
            file=sys.stderr,
        )

    seconds = time.perf_counter() - start
    ratio = bytes_in / bytes_out if bytes_out else 0.0
    print(
        f"files: {len(pairs)}, written: {counts[WRITTEN]}, "
        f"skipped: {counts[SKIPPED]}, failed: {counts[FAILED]}\n"
        f"in: {_mb(bytes_in)}, out: {_mb(bytes_out)}, ratio: {ratio:.2f}x, "
        f"time: {seconds:.2f} s, {counts[WRITTEN] / seconds:.1f} files/s, "
        f"{bytes_in / 1e6 / seconds:.1f} MB/s -> {args.output}"
    )
    for r in problems:
        print(f"  {r.status}: {r.src}: {r.reason}")
    return 1 if counts[FAILED] else 0


def _jobs(text: str) -> int:
    import argparse

    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _add_batch_arguments(command: argparse.ArgumentParser, what: str) -> None:
    """The arguments compress and decompress share."""
    command.add_argument("paths", nargs="*", metavar="PATH")
    command.add_argument(
        "-o",
        "--output",
        default="dicomrle-output",
        metavar="OUTDIR",
        help="folder for the copies (default: ./dicomrle-output)",
    )
    command.add_argument(
        "-j",
        "--jobs",
        type=_jobs,
        default=usable_cores(),
        metavar="N",
        help=f"files {what} at once (one worker process each), or threads "
        "for a single file (default: the usable cores)",
    )
    command.add_argument(
        "-r", "--recursive", action="store_true", help="descend into sub-folders"
    )
    command.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="say which route each file took (bytes, or pydicom and why), "
        "with the traceback of each failure",
    )
    command.add_argument(
        "--overwrite",
        action="store_true",
        help="replace existing outputs (default: skip them)",
    )
    command.add_argument(
        "--fsync",
        action="store_true",
        help="make each copy and its name reach the disk before reporting it "
        "written (fsync of the file, rename, fsync of its folder)",
    )


# The flags of each command that take no value, and their attribute.
SWITCHES = {
    "-r": "recursive",
    "--recursive": "recursive",
    "-v": "verbose",
    "--verbose": "verbose",
    "--overwrite": "overwrite",
    "--fsync": "fsync",
}


def quick_parse(argv: Sequence[str]) -> SimpleNamespace | None:
    """The arguments of a plain command line, as the full parser would give
    them, without building the parser (importing and setting up argparse
    takes half the start-up time); None for anything else: help, errors,
    abbreviations, joined short flags, ``--``."""
    if not argv or argv[0] not in ("compress", "decompress"):
        return None
    args = SimpleNamespace(
        command=argv[0],
        paths=[],
        output="dicomrle-output",
        jobs=usable_cores(),
        recursive=False,
        verbose=False,
        overwrite=False,
        fsync=False,
    )
    if argv[0] == "compress":
        args.verify = False
    words = list(argv[1:])
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        flag, equals, value = word.partition("=")
        if word in SWITCHES:
            setattr(args, SWITCHES[word], True)
        elif word == "--verify" and argv[0] == "compress":
            args.verify = True
        elif not word.startswith("-") or word == "-":
            args.paths.append(word)
        elif word.startswith("-j") and word[2:].isdigit():
            flag, value = "-j", word[2:]
        elif flag in ("--output", "--jobs") and equals:
            pass
        elif word in ("-o", "--output", "-j", "--jobs") and i < len(words):
            flag, value = word, words[i]
            i += 1
        else:
            return None
        if not flag.startswith("-") or flag in SWITCHES or flag == "--verify":
            continue
        if not value or value.startswith("-"):
            return None
        if flag in ("-o", "--output"):
            args.output = value
        elif value.isdigit() and int(value) >= 1:
            args.jobs = int(value)
        else:
            return None
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``dicomrle`` command; return its exit code."""
    quick = quick_parse(sys.argv[1:] if argv is None else argv)
    return _batch(quick if quick is not None else _parser().parse_args(argv))


def _parser() -> argparse.ArgumentParser:
    import argparse

    parser = argparse.ArgumentParser(
        prog="dicomrle", description="DICOM RLE Lossless encoder and decoder"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    compress = commands.add_parser(
        "compress",
        help="write RLE Lossless copies of DICOM files",
        description="Write an RLE Lossless copy of each DICOM file; folders are "
        "mirrored under the output folder; inputs are never modified. With no "
        "PATH, compress pydicom's bundled example images. Exit code 1 if any "
        "file failed.",
    )
    _add_batch_arguments(compress, "encoded")
    compress.add_argument(
        "--verify",
        action="store_true",
        help="decode each copy and compare it with its source before keeping it",
    )
    decompress = commands.add_parser(
        "decompress",
        help="write uncompressed copies of RLE Lossless DICOM files",
        description="Write an uncompressed (Explicit VR Little Endian) copy of "
        "each RLE Lossless DICOM file; other files are skipped; folders are "
        "mirrored under the output folder; inputs are never modified. With no "
        "PATH, decompress pydicom's bundled RLE example images. Exit code 1 if "
        "any file failed.",
    )
    _add_batch_arguments(decompress, "decoded")
    return parser
