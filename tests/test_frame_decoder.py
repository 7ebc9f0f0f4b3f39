"""_rle.FrameDecoder: many frames decoded into one output, a range of
frames per call, on several threads.

- Equal to ``decode_into`` frame by frame, on generated frames of every
  layout, into a new ``bytes`` (with padding) and into a given buffer.
- Errors are ``decode_into``'s, prefixed with the frame's index.
- The output is handed over only once every frame is decoded, and never
  while a ``decode`` runs; a hostile frame list raises, never crashes.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dicomrle
from dicomrle.codec import rle as _rle
from test_decode_kernel import frames as frame_layouts

KW = _rle.Frame(6, 7, 3, 16)
LENGTH = 6 * 7 * 3 * 2


def encoded(count: int, seed: int = 0) -> tuple[list[bytes], list[bytes]]:
    """`count` frames of KW's kind, encoded, and their pixels."""
    rng = np.random.default_rng(seed)
    raw = [rng.integers(0, 4, LENGTH, dtype=np.uint8).tobytes() for _ in range(count)]
    frames = [
        dicomrle.encode_frame(
            r, rows=6, columns=7, samples_per_pixel=3, bits_allocated=16
        )
        for r in raw
    ]
    return frames, raw


def decode_in_threads(decoder: _rle.FrameDecoder, threads: int, per_job: int) -> None:
    count = decoder.frames
    jobs = list(range(0, count, per_job))
    errors: list[BaseException] = []

    def work(part: list[int]) -> None:
        try:
            for start in part:
                decoder.decode(start, min(count, start + per_job))
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    pool = [
        threading.Thread(target=work, args=(jobs[i::threads],)) for i in range(threads)
    ]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if errors:
        raise errors[0]


@settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(
    cases=st.lists(frame_layouts(), min_size=1, max_size=1),
    copies=st.integers(1, 9),
    padding=st.integers(0, 3),
    threads=st.integers(1, 3),
)
def test_equals_decode_into_frame_by_frame(cases, copies, padding, threads) -> None:
    ((frame, kw, _),) = cases
    one = bytearray(kw.rows * kw.columns * kw.samples_per_pixel * kw.bytes_allocated)
    _rle.decode_into(kw, frame, one)
    frames = [frame, bytearray(frame), memoryview(frame)] * copies
    decoder = _rle.FrameDecoder(kw, frames, padding=padding)
    assert (decoder.frames, decoder.frame_length) == (len(frames), len(one))
    decode_in_threads(decoder, threads, per_job=2)
    out = decoder.result()
    assert type(out) is bytes
    assert out == bytes(one) * len(frames) + bytes(padding)
    dst = np.full(len(one) * len(frames) + 5, 0xA5, np.uint8)
    into = _rle.FrameDecoder(kw, frames, dst)
    decode_in_threads(into, threads, per_job=3)
    assert into.result() is dst
    assert dst[: len(out) - padding].tobytes() == out[: len(out) - padding]
    assert dst[len(out) - padding :].tobytes() == b"\xa5" * 5


def test_errors_name_the_frame() -> None:
    frames, _ = encoded(5)
    bad = frames[3][:70]
    with pytest.raises(ValueError) as expected:
        _rle.decode_into(KW, bad, bytearray(LENGTH))
    decoder = _rle.FrameDecoder(KW, [*frames[:3], bad, frames[4]])
    assert decoder.decode(0, 2) is False
    with pytest.raises(ValueError) as got:
        decoder.decode(2, 5)
    assert str(got.value) == f"frame 3: {expected.value}"
    # Frames 0 to 2 are in, 3 failed and 4 was not reached.
    with pytest.raises(RuntimeError, match=r"^frame 3 is not decoded$"):
        decoder.result()
    short = _rle.FrameDecoder(KW, [frames[0], b"\x01\x00\x00\x00"])
    with pytest.raises(ValueError, match=r"^frame 1: the RLE frame is 4 bytes"):
        short.decode(0, 2)


def test_result_once_and_only_when_complete() -> None:
    frames, raw = encoded(4)
    decoder = _rle.FrameDecoder(KW, frames)
    decoder.decode(0, 0)
    decoder.decode(2, 4)
    with pytest.raises(RuntimeError, match=r"^frame 0 is not decoded$"):
        decoder.result()
    decoder.decode(0, 2)
    assert decoder.result() == b"".join(raw)
    with pytest.raises(RuntimeError, match="handed over already"):
        decoder.result()
    with pytest.raises(RuntimeError, match="handed over already"):
        decoder.decode(0, 1)


@pytest.mark.parametrize(
    ("frames", "dst", "error", "match"),
    [
        ([], None, ValueError, "no frames"),
        (["abc"], None, TypeError, "^frame 0 must be a C-contiguous bytes-like"),
        ([b"x", None], None, TypeError, "^frame 1 must be"),
        ([np.zeros((4, 4), np.uint8)[:, ::2]], None, TypeError, "^frame 0 must be"),
        ([b"x"], bytearray(LENGTH - 1), ValueError, "destination buffer is"),
        ([b"x"], bytes(LENGTH), (BufferError, TypeError), "writable"),
        (5, None, TypeError, "len"),
        ((b"x" for _ in range(2)), None, TypeError, "len"),
    ],
)
def test_hostile_arguments(frames, dst, error, match) -> None:
    with pytest.raises(error, match=match):
        _rle.FrameDecoder(KW, frames, dst)


def test_hostile_frame_sequences_never_crash() -> None:
    frames, raw = encoded(2)

    class Lying(list):
        def __len__(self) -> int:
            return 5

    with pytest.raises(IndexError):
        _rle.FrameDecoder(KW, Lying(frames))
    decoder = _rle.FrameDecoder(KW, frames)
    for start, stop in [(0, 3), (2, 1), (3, 3), (2**63, 2**63 + 1)]:
        with pytest.raises(IndexError):
            decoder.decode(start, stop)
    with pytest.raises(OverflowError):
        decoder.decode(-1, 1)
    # The frames are locked while held: a bytearray cannot be resized.
    held = bytearray(frames[0])
    keep = _rle.FrameDecoder(KW, [held])
    with pytest.raises(BufferError):
        held.extend(b"x")
    keep.decode(0, 1)
    assert keep.result() == raw[0]
    with pytest.raises(ValueError, match="'bits_allocated' must be 8, 16, 32 or 64"):
        _rle.FrameDecoder(_rle.Frame(6, 7, 3, 24), frames)
    with pytest.raises(OverflowError, match="do not fit in memory"):
        _rle.FrameDecoder(KW, frames, padding=2**63 - 2 * LENGTH + 1)
    with pytest.raises(ValueError, match="new bytes output only"):
        _rle.FrameDecoder(KW, frames, bytearray(2 * LENGTH), padding=1)
    garbage = [bytes(np.random.default_rng(i).integers(0, 256, n, np.uint8)) for i, n in
               enumerate([0, 1, 63, 64, 65, 200, 5000])]  # fmt: skip
    for frame in garbage:
        one = _rle.FrameDecoder(KW, [frame])
        with pytest.raises(ValueError, match=r"^frame 0: "):
            one.decode(0, 1)
