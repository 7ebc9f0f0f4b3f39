"""The parts under ``dicomrle.compress``: ``Workspace`` (reused buffers),
``Encapsulator`` (places reserved in order, written by any thread) and
``encode_in_order`` (threads that encode and copy their own frames)."""

from __future__ import annotations

import ctypes
import struct
import threading

import numpy as np
import pytest
from pydicom.encaps import encapsulate

from dicomrle.codec import rle as _rle
from dicomrle.codec.arrays import encode_in_order
from dicomrle.codec.jobs import frames_per_job, useful_threads
from dicomrle.dicom.encaps import Encapsulator
from dicomrle.codec.frame import encode

FRAME = _rle.Frame(7, 9, 3, 16)


def frames(count: int, seed: int = 0) -> list[bytes]:
    """Frames of FRAME's shape with runs and noise, each a different length
    once encoded (odd and even)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        arr = rng.integers(0, 3, (7, 9, 3)).astype("<u2") * (i % 5)
        arr[: i % 7] = rng.integers(0, 65536, (i % 7, 9, 3))
        out.append(arr.tobytes())
    return out


def test_workspace_gives_what_encode_gives():
    space = _rle.Workspace(FRAME)
    for src in frames(20):
        (length,) = space.encode(src)
        assert bytes(space) == space.to_bytes() == encode(src, FRAME)
        assert length == len(bytes(space))


@pytest.mark.parametrize("count", [1, 2, 5])
def test_workspace_encodes_frames_one_after_the_other(count):
    sources = frames(10)
    space = _rle.Workspace(FRAME, 5)
    for first in range(0, 10 - count + 1, count):
        lengths = space.encode(b"".join(sources[first : first + count]), count)
        expected = [encode(f, FRAME) for f in sources[first : first + count]]
        assert lengths == [len(e) for e in expected]
        assert [space.to_bytes(i) for i in range(count)] == expected
    with pytest.raises(IndexError, match=f"gave {count} frames"):
        space.to_bytes(count)
    if count > 1:
        with pytest.raises(BufferError, match=f"gave {count} frames, not 1"):
            memoryview(space)


def test_workspace_capacity():
    space = _rle.Workspace(FRAME, 2)
    src = b"".join(frames(3))
    with pytest.raises(ValueError, match="between 1 and 2, not 3"):
        space.encode(src, 3)
    with pytest.raises(ValueError, match="between 1 and 2, not 0"):
        space.encode(src, 0)
    with pytest.raises(ValueError, match="shorter than the frames"):
        space.encode(src[: 2 * 7 * 9 * 3 * 2 - 1], 2)
    with pytest.raises(ValueError, match="'capacity'"):
        _rle.Workspace(FRAME, 0)
    with pytest.raises(ValueError, match="'capacity'"):
        _rle.Workspace(FRAME, 2**62)


def test_workspace_refuses_to_encode_while_a_view_is_held():
    space = _rle.Workspace(FRAME)
    first, second = frames(2)
    space.encode(first)
    view = memoryview(space)
    assert view.readonly
    with pytest.raises(BufferError):
        space.encode(second)
    assert bytes(view) == encode(first, FRAME)
    view.release()
    space.encode(second)
    assert bytes(space) == encode(second, FRAME)


def test_workspace_checks_its_parameters_and_sources():
    with pytest.raises(ValueError, match="bits_allocated"):
        _rle.Workspace(_rle.Frame(2, 2, 1, 12))
    with pytest.raises(ValueError, match="segments"):
        _rle.Workspace(_rle.Frame(2, 2, 3, 64))
    space = _rle.Workspace(FRAME)
    with pytest.raises(ValueError, match="shorter"):
        space.encode(bytes(7 * 9 * 3 * 2 - 1))
    with pytest.raises(ValueError, match="shorter"):
        space.encode(b"")
    with pytest.raises(BufferError, match="gave 0 frames"):
        memoryview(space)  # nothing encoded
    space.encode(frames(1)[0])
    with pytest.raises(TypeError, match="not writable"):
        ctypes.c_char.from_buffer(space)  # asks for a writable buffer


def test_encapsulator_writes_in_any_order():
    # Any bytes: RLE frames are of even length, these are not all.
    encoded = [bytes([i]) * (3 * i + 1) for i in range(12)]
    writer = Encapsulator(len(encoded), max(map(len, encoded)))
    places = [writer.reserve(len(e)) for e in encoded]
    assert places == list(range(len(encoded)))
    for index in reversed(places):
        writer.write(index, encoded[index])
    value, offsets, lengths = writer.finish()
    assert value == encapsulate(encoded, has_bot=True)
    padded = [len(e) + len(e) % 2 for e in encoded]
    assert lengths == padded
    assert offsets == [sum(padded[:i]) + 8 * i for i in range(len(encoded))]


def test_encapsulator_extended_offset_table():
    encoded = [encode(f, FRAME) for f in frames(5)]
    writer = Encapsulator(5, max(map(len, encoded)))
    for e in encoded:
        writer.append(e)
    value, offsets, lengths = writer.finish(extended=True)
    assert value == encapsulate(encoded, has_bot=False)
    assert struct.unpack("<4sI", value[:8]) == (b"\xfe\xff\x00\xe0", 0)


def test_encapsulator_takes_a_workspace_s_frames():
    sources = frames(7)
    encoded = [encode(f, FRAME) for f in sources]
    space = _rle.Workspace(FRAME, 3)
    writer = Encapsulator(7, FRAME.encode_bound)
    for first, count in ((0, 3), (3, 3), (6, 1)):
        space.encode(b"".join(sources[first : first + count]), count)
        assert writer.reserve_frames(space) == first
        writer.write_frames(first, space)
    with pytest.raises(ValueError, match="already written"):
        writer.write_frames(6, space)
    value, _, _ = writer.finish()
    assert value == encapsulate(encoded, has_bot=True)


def test_encapsulator_checks_a_workspace_s_frames():
    sources = frames(4)
    space = _rle.Workspace(FRAME, 3)
    writer = Encapsulator(4, FRAME.encode_bound)
    with pytest.raises(ValueError, match="holds no frames"):
        writer.reserve_frames(space)
    space.encode(b"".join(sources[:3]), 3)
    with pytest.raises(IndexError, match="have no place"):
        writer.write_frames(0, space)
    assert writer.reserve_frames(space) == 0
    with pytest.raises(IndexError, match="only 1 frames are left"):
        writer.reserve_frames(space)
    space.encode(b"".join(sources[1:3]), 2)  # other lengths than reserved
    with pytest.raises(ValueError, match="frame 0 holds"):
        writer.write_frames(0, space)
    with pytest.raises(IndexError, match="frames 2 to 3 have no place"):
        writer.write_frames(2, space)
    with pytest.raises(RuntimeError, match="0 of 4 frames written"):
        writer.finish()


def test_encapsulator_refuses_what_would_break_the_value():
    writer = Encapsulator(2, 10)
    with pytest.raises(ValueError, match="1 to 10"):
        writer.reserve(11)
    with pytest.raises(ValueError, match="1 to 10"):
        writer.reserve(0)
    with pytest.raises(IndexError, match="no place"):
        writer.write(0, b"abc")
    assert writer.reserve(3) == 0
    with pytest.raises(ValueError, match="holds 3 bytes, not 4"):
        writer.write(0, b"abcd")
    with pytest.raises(RuntimeError, match="0 of 2 frames written"):
        writer.finish()
    writer.write(0, b"abc")
    with pytest.raises(ValueError, match="already written"):
        writer.write(0, b"abc")
    assert writer.reserve(10) == 1
    with pytest.raises(IndexError, match="already reserved"):
        writer.reserve(1)
    with pytest.raises(RuntimeError, match="1 of 2 frames written"):
        writer.finish()
    writer.write(1, bytes(10))
    writer.finish()
    with pytest.raises(RuntimeError, match="finished"):
        writer.finish()
    with pytest.raises(RuntimeError, match="finished"):
        writer.reserve(1)


@pytest.mark.parametrize("threads", [1, 2, 3, 8, 40])
def test_encode_in_order_gives_the_frames_in_order(threads):
    sources = frames(33, seed=threads)
    encoded = [encode(f, FRAME) for f in sources]
    joined = b"".join(sources)
    size = len(sources[0])
    for per_job in (1, 2, 5, 33):
        writer = Encapsulator(len(sources), FRAME.encode_bound)
        encode_in_order(
            writer, len(sources), threads, per_job,
            FRAME,
            lambda first, n: joined[first * size : (first + n) * size],
        )
        value, _, _ = writer.finish()
        assert value == encapsulate(encoded, has_bot=True)


def test_encode_in_order_does_not_wait_for_a_slow_frame():
    """Frame 0 is slow: the other thread goes on with frames 1, 2, ... (up
    to the free workspaces) instead of waiting for it to be placed."""
    sources = frames(8)
    later = threading.Event()

    def source(index: int, count: int) -> bytes:
        if index == 0:
            assert later.wait(timeout=30), "no other frame was encoded meanwhile"
        elif index == 2:
            later.set()  # frame 1 is encoded and waiting: the thread went on
        return sources[index]

    writer = Encapsulator(8, FRAME.encode_bound)
    encode_in_order(writer, 8, 2, 1, FRAME, source)
    value, _, _ = writer.finish()
    assert value == encapsulate([encode(f, FRAME) for f in sources], has_bot=True)


def test_encode_in_order_runs_on_several_threads_at_once():
    """Every worker is busy at the same time: a barrier that needs all of
    them in ``source`` would time out if frames were encoded one by one."""
    barrier = threading.Barrier(3, timeout=30)
    sources = frames(3)

    def source(index: int, count: int) -> bytes:
        barrier.wait()
        return sources[index]

    writer = Encapsulator(3, FRAME.encode_bound)
    encode_in_order(writer, 3, 3, 1, FRAME, source)
    value, _, _ = writer.finish()
    assert value == encapsulate([encode(f, FRAME) for f in sources], has_bot=True)


@pytest.mark.parametrize("threads", [1, 2, 4])
@pytest.mark.parametrize("failing", [0, 5, 39])
def test_encode_in_order_raises_the_first_error_and_stops(threads, failing):
    sources = frames(40)
    asked = []

    def source(index: int, count: int) -> bytes:
        asked.append(index)
        if index == failing:
            raise KeyError(index)
        return sources[index]

    writer = Encapsulator(40, FRAME.encode_bound)
    with pytest.raises(KeyError):
        encode_in_order(writer, 40, threads, 1, FRAME, source)
    # Workers stop taking frames soon after one failed (a thread may take
    # a frame or two before it hears of it), not at the end.
    assert len([i for i in asked if i > failing]) <= 2 * (threads - 1)
    with pytest.raises(RuntimeError, match="frames written"):
        writer.finish()


def test_encode_in_order_reports_a_short_source():
    writer = Encapsulator(4, FRAME.encode_bound)
    sources = frames(4)
    sources[2] = sources[2][:-1]
    with pytest.raises(ValueError, match="shorter"):
        encode_in_order(
            writer, 4, 2, 1, FRAME,
            lambda first, n: sources[first],
        )


@pytest.mark.parametrize(
    ("frame_length", "count", "threads", "expected"),
    [
        (512 * 512 * 2, 500, 2, 2),  # 1 MiB jobs
        (64 * 64 * 2, 4800, 2, 128),
        (64 * 64 * 2, 100, 2, 12),  # four jobs a thread or more
        (64 * 64 * 2, 3, 8, 1),
        (7_000_000, 10, 2, 1),  # large frames: one at a time
    ],
)
def test_frames_per_job(frame_length, count, threads, expected):
    assert frames_per_job(frame_length, count, threads) == expected


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("dtype", ["<u2", ">i2", "u1", ">u4"])
def test_encode_array_in_jobs_of_many_small_frames(threads, dtype, monkeypatch):
    """Enough small frames that encode_array encodes them many per call."""
    import dicomrle

    monkeypatch.setattr("dicomrle.codec.jobs.JOB_BYTES", 4096)

    rng = np.random.default_rng(7)
    arr = rng.integers(0, 4, (203, 9, 11, 3)).astype(dtype)
    arr[::3] = arr[::3] * 50 + 7
    assert frames_per_job(arr[0].nbytes, len(arr), threads) > 1
    assert useful_threads(arr[0].nbytes, len(arr), threads) == threads
    expected = [encode(np.ascontiguousarray(f).tobytes(),
                       _rle.Frame(9, 11, 3, 8 * arr.itemsize,
                                  byteorder=">" if dtype[0] == ">" else "<"))
                for f in arr]
    assert dicomrle.encode_array(arr, threads=threads) == expected
    strided = np.asfortranarray(arr)  # not C-contiguous
    assert dicomrle.encode_array(strided, threads=threads) == expected


@pytest.mark.parametrize(
    ("frame_length", "count", "threads", "expected"),
    [
        (512 * 512 * 2, 500, 2, 2),
        (512 * 512 * 2, 500, 1, 1),
        (512 * 512 * 2, 3, 8, 1),  # 1.5 MiB: one thread
        (512 * 512 * 2, 4, 8, 2),
        (64 * 64 * 2, 100, 4, 1),  # 800 KiB
        (0, 10, 4, 1),
    ],
)
def test_useful_threads(frame_length, count, threads, expected):
    assert useful_threads(frame_length, count, threads) == expected
