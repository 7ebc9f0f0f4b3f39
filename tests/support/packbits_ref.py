"""Slow, independent references for the size of a PackBits row (PS3.5 G.3.1).

- ``min_row_size``: the exact minimum over every valid PackBits encoding of
  one row (literal runs of 1..128 bytes, replicate runs of 2..128 equal
  bytes), by dynamic programming over the row: O(128 n), plain Python.
- ``min_plane_sizes``: the same minimum for every row of a byte plane at
  once, with numpy across the rows (for whole corpus images).
- ``gdcm_row_size`` / ``gdcm_row``: the rule GDCM's RLECodec uses (every
  repeat of two or more bytes a replicate run, except a two-byte repeat
  inside a literal run that a different byte follows), written from its
  description for the size comparison the issue asks for.
- ``decode_row``: a PackBits decoder.
"""

from __future__ import annotations

import numpy as np

MAX_RUN = 128


def min_row_size(row: bytes) -> int:
    """The fewest bytes any valid PackBits encoding of `row` takes."""
    n = len(row)
    inf = 1 << 60
    cost = [0] + [inf] * n
    for i in range(1, n + 1):
        best = inf
        # A literal run of k bytes ending at i.
        for k in range(1, min(MAX_RUN, i) + 1):
            best = min(best, cost[i - k] + 1 + k)
        # A replicate run of k equal bytes ending at i.
        k = 1
        while k < min(MAX_RUN, i) and row[i - k - 1] == row[i - 1]:
            k += 1
            best = min(best, cost[i - k] + 2)
        cost[i] = best
    return cost[n]


def min_plane_sizes(plane: np.ndarray) -> np.ndarray:
    """Per-row minimum PackBits size of a 2-D uint8 array.

    The same recurrence as ``min_row_size``, with every row at once:
    ``C[i] = min(min(C[j] - j for j in [i-128, i-1]) + i + 1,
    C[max(i-128, s)] + 2)`` where ``s`` is the start of the run holding byte
    ``i - 1`` and the replicate term needs at least two bytes. The replicate
    term takes the leftmost start because C never decreases (dropping the
    last byte of an encoding never makes it longer); the literal term is a
    sliding-window minimum, kept per 128-column block as suffix and prefix
    minima (van Herk / Gil-Werman).
    """
    plane = np.ascontiguousarray(plane, dtype=np.uint8)
    rows, n = plane.shape
    big = np.int64(1 << 40)
    cost = np.empty((rows, n + 1), dtype=np.int64)
    cost[:, 0] = 0
    d = np.empty((rows, n + 1), dtype=np.int64)  # C[j] - j
    d[:, 0] = 0
    prefix = np.empty_like(d)  # min of d over [block start, j]
    suffix = np.empty_like(d)  # min of d over [j, block end]
    prefix[:, 0] = 0
    # start[:, k]: index of the first byte of the run holding byte k.
    idx = np.broadcast_to(np.arange(n), (rows, n))
    is_start = np.ones((rows, n), dtype=bool)
    is_start[:, 1:] = plane[:, 1:] != plane[:, :-1]
    start = np.maximum.accumulate(np.where(is_start, idx, 0), axis=1)
    for i in range(1, n + 1):
        if i >= MAX_RUN and i % MAX_RUN != 0:
            window = np.minimum(suffix[:, i - MAX_RUN], prefix[:, i - 1])
        else:
            window = prefix[:, i - 1]
        best = window + (i + 1)
        lo = np.maximum(start[:, i - 1], i - MAX_RUN)
        rep = np.where(lo <= i - 2, cost[np.arange(rows), lo] + 2, big)
        np.minimum(best, rep, out=best)
        cost[:, i] = best
        d[:, i] = best - i
        prefix[:, i] = d[:, i] if i % MAX_RUN == 0 else np.minimum(prefix[:, i - 1], d[:, i])
        if i % MAX_RUN == MAX_RUN - 1 or i == n:
            b0 = i - i % MAX_RUN
            block = d[:, b0 : i + 1]
            suffix[:, b0 : i + 1] = np.minimum.accumulate(block[:, ::-1], axis=1)[:, ::-1]
    return cost[:, n]


def gdcm_row(row: bytes) -> bytes:
    """Encode `row` with the rule of GDCM's RLECodec (rle_encode)."""
    out = bytearray()
    n = len(row)
    i = 0
    while i < n:
        limit = min(MAX_RUN, n - i)
        count = 1
        while count < limit and row[i + count] == row[i]:
            count += 1
        if count > 1:
            out += bytes((257 - count, row[i]))
            i += count
            continue
        count = 1
        while count < limit:
            if row[i + count] == row[i + count - 1]:
                if count + 1 < limit and row[i + count] != row[i + count + 1]:
                    count += 1
                    continue
                count -= 1
                break
            count += 1
        out.append(count - 1)
        out += row[i : i + count]
        i += count
    return bytes(out)


def gdcm_row_size(row: bytes) -> int:
    return len(gdcm_row(row))


def decode_row(data: bytes, length: int) -> bytes:
    """Decode PackBits `data`, checking it is exactly one row of `length`."""
    out = bytearray()
    i = 0
    while i < len(data):
        h = data[i]
        assert h != 0x80, "header -128 is not allowed"
        if h < 0x80:
            out += data[i + 1 : i + 2 + h]
            assert len(data) >= i + 2 + h, "truncated literal run"
            i += 2 + h
        else:
            out += data[i + 1 : i + 2] * (257 - h)
            i += 2
    assert len(out) == length, (len(out), length)
    return bytes(out)
