"""Compress archives across a cluster with Dask (``pip install dicomrle[dask]``).

Each file is compressed by :func:`dicomrle.compress_file`, a plain top-level
function, so any Dask scheduler (threads, processes, ``distributed``) can
run it; the files, not the frames, are spread over the workers.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

from dicomrle._files import FileResult, compress_file, plan_outputs

if TYPE_CHECKING:
    import dask.bag


def _compress_pair(
    pair: tuple[str, str], overwrite: bool, verify: bool, threads: int
) -> FileResult:
    src, dst = pair
    return compress_file(src, dst, overwrite=overwrite, verify=verify, threads=threads)


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
        Partitions of the bag; by default Dask's choice.

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

    pairs = [
        (str(s), str(d)) for s, d in plan_outputs(paths, outdir, recursive=recursive)
    ]
    kwargs = {} if npartitions is None else {"npartitions": npartitions}
    return db.from_sequence(pairs, **kwargs).map(
        _compress_pair, overwrite=overwrite, verify=verify, threads=threads
    )
