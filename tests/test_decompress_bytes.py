"""``decompress_file``'s byte route: RLE Lossless to Explicit VR Little
Endian from the file's bytes, the Pixel Data byte for byte what
``dicomrle.decompress`` gives, every other element kept."""

from __future__ import annotations

import os
import struct
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest

import dicomrle
from dicomrle.dicom import decompress_bytes as _decompress_bytes
from support.corpus import find, image_id, images
from support.decoders import require_tool

ITEM = b"\xfe\xff\x00\xe0"
SEQUENCE_END = b"\xfe\xff\xdd\xe0"


def read(path: Path) -> pydicom.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(path)


def decompressed(path: Path) -> pydicom.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dicomrle.decompress(read(path))


def assert_as_decompress(rle: Path, out: Path) -> None:
    """`out` holds what dicomrle.decompress makes of `rle`: the same Pixel
    Data bytes, Transfer Syntax and every other element's value."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, expected = read(out), dicomrle.decompress(read(rle))
    assert ours.file_meta.TransferSyntaxUID == expected.file_meta.TransferSyntaxUID
    assert ours.PixelData == expected.PixelData
    assert ours["PixelData"].VR == expected["PixelData"].VR
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # values read on first use
        for element in expected:
            if element.tag.element == 0 or element.tag == 0x7FE00010:
                continue  # group lengths: pydicom writes none
            assert ours[element.tag].value == element.value, element.tag


def plan_of(path: Path) -> _decompress_bytes.Plan | object:
    with open(path, "rb") as f:
        return _decompress_bytes.plan(f.fileno(), os.fstat(f.fileno()).st_size)


LITTLE = [
    i for i in images() if not i.big_endian and i.bits_allocated in (8, 16, 32)
]


@pytest.fixture(scope="module")
def rle_corpus(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("rle")
    made = {}
    for image in LITTLE:
        out = folder / image_id(image).replace("/", "_")
        if dicomrle.compress_file(image.path, out).status == "written":
            made[image_id(image)] = out
    return made


def test_the_corpus_takes_the_byte_route(rle_corpus, tmp_path):
    routes = {}
    for name, rle in rle_corpus.items():
        out = tmp_path / f"{name.replace('/', '_')}.dcm"
        r = dicomrle.decompress_file(rle, out)
        assert r.status == "written", (name, r.reason)
        routes[name] = r.route
        assert_as_decompress(rle, out)
    bytes_route = [n for n, route in routes.items() if route == "bytes"]
    assert len(bytes_route) >= 0.9 * len(routes), routes


def test_dcmtk_reads_the_copies(rle_corpus, tmp_path):
    dcmdump = require_tool("dcmdump")
    import subprocess

    for name in list(rle_corpus)[:20]:
        out = tmp_path / "out.dcm"
        r = dicomrle.decompress_file(rle_corpus[name], out, overwrite=True)
        assert r.route == "bytes", r.route
        done = subprocess.run(
            [dcmdump, "-q", str(out)], capture_output=True, text=True, errors="replace"
        )
        assert done.returncode == 0 and not done.stderr, (name, done.stderr)


def test_batches_of_frames(tmp_path, monkeypatch):
    """Frames read and decoded a few at a time: the same file."""
    rle = tmp_path / "rle.dcm"
    assert dicomrle.compress_file(find("emri_small.dcm"), rle).status == "written"
    whole = tmp_path / "whole.dcm"
    assert dicomrle.decompress_file(rle, whole).route == "bytes"
    monkeypatch.setattr(_decompress_bytes, "BATCH_IN", 100)
    monkeypatch.setattr(_decompress_bytes, "BATCH_OUT", 2 * 64 * 64 * 2 + 1)
    for threads in (1, 2):
        batched = tmp_path / f"batched{threads}.dcm"
        r = dicomrle.decompress_file(rle, batched, threads=threads)
        assert r.route == "bytes"
        assert batched.read_bytes() == whole.read_bytes()


def rewrite_items(rle: Path, out: Path, change) -> None:
    """`out`: `rle` with its encapsulated items (the Basic Offset Table, the
    fragments) replaced by ``change(table, fragments)``."""
    data = rle.read_bytes()
    start = data.index(b"\xe0\x7f\x10\x00OB\x00\x00\xff\xff\xff\xff") + 12
    items, at = [], start
    while data[at : at + 4] == ITEM:
        length = struct.unpack_from("<I", data, at + 4)[0]
        items.append(data[at + 8 : at + 8 + length])
        at += 8 + length
    assert data[at : at + 4] == SEQUENCE_END
    table, fragments = change(items[0], items[1:])
    value = b"".join(ITEM + struct.pack("<I", len(x)) + x for x in [table, *fragments])
    out.write_bytes(data[:start] + value + data[at:])


def test_a_frame_in_several_fragments(tmp_path):
    rle = tmp_path / "rle.dcm"
    assert dicomrle.compress_file(find("CT_small.dcm"), rle).status == "written"

    def split(table, fragments):
        (frame,) = fragments
        return b"", [frame[:64], frame[64:100], frame[100:]]

    rewrite_items(rle, tmp_path / "split.dcm", split)
    assert isinstance(plan_of(tmp_path / "split.dcm"), _decompress_bytes.Plan)
    out = tmp_path / "out.dcm"
    r = dicomrle.decompress_file(tmp_path / "split.dcm", out)
    assert (r.status, r.route) == ("written", "bytes")
    assert read(out).PixelData == decompressed(rle).PixelData


def test_no_basic_offset_table(tmp_path):
    rle = tmp_path / "rle.dcm"
    assert dicomrle.compress_file(find("emri_small.dcm"), rle).status == "written"
    rewrite_items(rle, tmp_path / "none.dcm", lambda table, fragments: (b"", fragments))
    out = tmp_path / "out.dcm"
    r = dicomrle.decompress_file(tmp_path / "none.dcm", out)
    assert (r.status, r.route) == ("written", "bytes")
    assert read(out).PixelData == decompressed(rle).PixelData


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda t, f: (t, f[:-1]), "the Basic Offset Table does not point"),
        (lambda t, f: (b"", f[:-1]), "Number of Frames is 10, but the Pixel Data"),
        (lambda t, f: (b"", [*f, f[-1]]), "Number of Frames is 10, but the Pixel"),
        (lambda t, f: (t[:4] + t[8:] + t[4:8], f), "the Basic Offset Table does"),
        (lambda t, f: (t[:8], f), "a Basic Offset Table of 8 bytes"),
        (lambda t, f: (t, []), "the Pixel Data holds no fragment"),
    ],
    ids=["table, a fragment missing", "a fragment missing", "a fragment more",
         "table swapped", "table short", "no fragment"],  # fmt: skip
)
def test_frames_and_fragments_that_disagree_fail(change, why, tmp_path):
    """A frame count or offset table that disagrees with the fragments:
    the byte route leaves the file, and it fails, nothing written."""
    rle = tmp_path / "rle.dcm"
    assert dicomrle.compress_file(find("emri_small.dcm"), rle).status == "written"
    bad = tmp_path / "bad.dcm"
    rewrite_items(rle, bad, change)
    plan = plan_of(bad)
    assert isinstance(plan, _decompress_bytes.Invalid)
    assert plan.reason.startswith(why)
    r = dicomrle.decompress_file(bad, tmp_path / "out" / "bad.dcm")
    assert (r.status, r.reason) == ("failed", plan.reason)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_a_frame_that_does_not_decode_fails(tmp_path):
    rle = tmp_path / "rle.dcm"
    assert dicomrle.compress_file(find("CT_small.dcm"), rle).status == "written"

    def spoil(table, fragments):
        (frame,) = fragments
        return table, [frame[:-40] + b"\0" * 40]  # the last segment cut short

    rewrite_items(rle, tmp_path / "bad.dcm", spoil)
    r = dicomrle.decompress_file(tmp_path / "bad.dcm", tmp_path / "out" / "bad.dcm")
    assert r.status == "failed"
    assert r.reason.startswith("ValueError: frame 0: RLE segment")
    assert not list((tmp_path / "out").iterdir())


def test_colour_planar_one_sources(tmp_path):
    """An RLE file that says Planar Configuration 1 (other encoders keep
    it): the copy says 0, its frames interleaved."""
    rle = tmp_path / "rle.dcm"
    assert dicomrle.compress_file(find("color-pl.dcm"), rle).status == "written"
    data = bytearray(rle.read_bytes())
    at = data.index(b"\x28\x00\x06\x00US\x02\x00") + 8
    data[at : at + 2] = b"\x01\x00"
    said_one = tmp_path / "one.dcm"
    said_one.write_bytes(bytes(data))
    out = tmp_path / "out.dcm"
    r = dicomrle.decompress_file(said_one, out)
    assert (r.status, r.route) == ("written", "bytes")
    ds = read(out)
    assert ds.PlanarConfiguration == 0
    source = read(find("color-pl.dcm"))
    assert np.array_equal(ds.pixel_array, source.pixel_array)


DECOMPRESS_SCRIPT = """
import sys, dicomrle
r = dicomrle.decompress_file(sys.argv[1], sys.argv[2], threads=2)
assert r.status == "written", r
with open("/proc/self/status") as f:
    hwm = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
print(r.route, hwm * 1024, "pydicom" in sys.modules, "numpy" in sys.modules)
"""
LIMIT = 256 << 20


def test_a_4_gib_file_under_a_memory_limit(tmp_path):
    """The largest native Pixel Data there can be (8191 frames of 512 x 512
    x 16 bits, 4 GiB), decompressed from its RLE copy in a child process
    held by a cgroup to 256 MiB of memory, page cache included: the byte
    route, neither pydicom nor NumPy imported, the cgroup under its limit,
    and the frames where they belong."""
    import contextlib
    import shutil
    import sys

    from support import memlimit
    from support.decoders import require
    from test_stream import sparse_multiframe

    if shutil.disk_usage(tmp_path).free < 5 << 30:
        pytest.skip("the disk lacks 5 GiB of room")
    src, rle, out = tmp_path / "big.dcm", tmp_path / "big-rle.dcm", tmp_path / "out.dcm"
    frames = 0xFFFFFFFE // (512 * 512 * 2)
    offset, frame = sparse_multiframe(src, frames)
    assert dicomrle.compress_file(src, rle, threads=2).status == "written"
    src.unlink()
    stack = contextlib.ExitStack()
    try:
        limited = stack.enter_context(memlimit.memory_cgroup(LIMIT))
    except memlimit.Unavailable as error:
        require(False, f"a memory cgroup ({error})")
    with stack:
        result = limited.run(
            [sys.executable, "-c", DECOMPRESS_SCRIPT, str(rle), str(out)],
            capture_output=True,
            text=True,
            check=False,
        )
        peak = limited.peak()
    assert result.returncode == 0, result.stderr
    route, hwm, pydicom_in, numpy_in = result.stdout.split()
    assert (route, pydicom_in, numpy_in) == ("bytes", "False", "False")
    assert int(hwm) < LIMIT and peak <= LIMIT
    assert out.stat().st_size == offset + frames * len(frame)
    with open(out, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        pixels = size - frames * len(frame)
        for k in (0, 1, frames // 2, frames - 2, frames - 1):
            got = os.pread(f.fileno(), len(frame), pixels + k * len(frame))
            assert got == (frame if k in (0, frames - 1) else bytes(len(frame))), k
