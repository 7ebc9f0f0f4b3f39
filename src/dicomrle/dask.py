"""Compress archives across a cluster with Dask (``pip install dicomrle[dask]``).

Each file is compressed by :func:`dicomrle.compress_file`, a plain top-level
function, so any Dask scheduler (threads, processes, ``distributed``) can
run it; the files, not the frames, are spread over the workers, a block of
files per task (few tasks, small results), and blocks next to each other in
the task order come from far apart in the list of files, so that workers
running at once rarely write into one folder (the kernel creates a folder's
entries under one lock).
"""

from __future__ import annotations

import os

from dicomrle.dicom.files import FileResult, compress_file, plan_outputs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

    import dask.bag

# About this many files a task, unless `npartitions` says otherwise.
BLOCK = 32


def _compress_pair(
    pair: tuple[str, str], overwrite: bool, verify: bool, threads: int
) -> FileResult:
    src, dst = pair
    return compress_file(src, dst, overwrite=overwrite, verify=verify, threads=threads)


def _compress_block(
    block: list[tuple[str, str]], overwrite: bool, verify: bool, threads: int
) -> list[FileResult]:
    return [_compress_pair(pair, overwrite, verify, threads) for pair in block]


def _spread(count: int) -> list[int]:
    """0 .. count - 1 in bit-reversed order: any few neighbours in it are far
    apart in 0 .. count - 1."""
    bits = max(1, (count - 1).bit_length())
    order = (int(f"{i:0{bits}b}"[::-1], 2) for i in range(1 << bits))
    return [i for i in order if i < count]


def compress_bag(
    paths: Iterable[str | os.PathLike[str]],
    outdir: str | os.PathLike[str],
    *,
    recursive: bool = False,
    overwrite: bool = False,
    verify: bool = False,
    threads: int = 1,
    npartitions: int | None = None,
) -> dask.bag.Bag:
    """Return a Dask bag that compresses every file under `paths` into `outdir`.

    Inputs map to outputs as for ``dicomrle compress``; nothing runs until
    the bag is computed.

    Parameters
    ----------
    paths : iterable of str or os.PathLike
        Files and folders to compress.
    outdir : str or os.PathLike
        The folder for the copies; folders are mirrored under it.
    recursive, overwrite, verify : bool
        As the command line's ``--recursive``, ``--overwrite`` and ``--verify``.
    threads : int
        Threads each task encodes a file's frames with.
    npartitions : int, optional
        Tasks (blocks of files); by default one per 32 files.

    Returns
    -------
    dask.bag.Bag
        A bag of :class:`dicomrle.FileResult`, one per file.

    Examples
    --------
    >>> from dicomrle.dask import compress_bag
    >>> results = compress_bag(["archive/"], "rle/", recursive=True).compute()
    """
    import dask.bag as db

    pairs = plan_outputs(paths, outdir, recursive=recursive)
    count = npartitions or -(-len(pairs) // BLOCK)
    count = max(1, min(count, len(pairs)))
    bounds = [len(pairs) * k // count for k in range(count + 1)]
    blocks = [pairs[bounds[k] : bounds[k + 1]] for k in _spread(count)]
    return (
        db.from_sequence(blocks, npartitions=count)
        .map(_compress_block, overwrite=overwrite, verify=verify, threads=threads)
        .flatten()
    )
