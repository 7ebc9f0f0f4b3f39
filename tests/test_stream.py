"""The byte route of compress_file (dicomrle.dicom.compress_bytes): over the whole corpus
its Pixel Data is byte for byte what dicomrle.compress writes and every
other element has the value of the source, as pydicom reads both; it takes
the files it should and hands the rest to the pydicom route; a file larger
than the machine's free memory converts; and faults (a full disk, a
refused write, an input that vanishes or shrinks, an interrupt) fail one
file with one line, leaving nothing partial."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
import pytest

import dicomrle
from dicomrle.dicom import compress_bytes as _compress_bytes
from support import memlimit
from support.corpus import excluded_paths, find, image_id, images
from support.decoders import FILE_DECODERS, GDCM_DECODERS, require, require_tool

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

EXPLICIT_LE = "1.2.840.10008.1.2.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
# What RLE Lossless must change (the list).
CHANGED_META = {0x00020000, 0x00020010}
CHANGED = {0x7FE00010, 0x00280006, 0x7FE00001, 0x7FE00002}


def read(path: Path) -> pydicom.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(path)


def assert_same_elements(src: Path, out: Path) -> None:
    """Every element of `out` but those RLE Lossless changes has the value
    it has in `src`; the Pixel Data is what dicomrle.compress writes. Group
    lengths are those of the copy's groups."""
    from test_output_fixes import assert_group_lengths_right

    assert_group_lengths_right(out)
    source, ours = read(src), read(out)
    assert (
        set(ours.file_meta.keys()) - CHANGED_META
        == set(source.file_meta.keys()) - CHANGED_META
    )
    for tag in source.file_meta.keys():
        if tag not in CHANGED_META:
            assert ours.file_meta[tag] == source.file_meta[tag], tag
    assert ours.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.5"
    assert set(ours.keys()) - CHANGED == set(source.keys()) - CHANGED
    for tag in source.keys():
        if tag not in CHANGED and tag.element != 0:
            assert ours[tag] == source[tag], tag
    expected = dicomrle.compress(read(src))
    if source.file_meta.TransferSyntaxUID == EXPLICIT_LE:
        # The elements as they are, sequences too: the group lengths of
        # dicomrle.compress.
        for tag in source.keys():
            if tag.element == 0:
                assert ours[tag].value == expected[tag].value, tag
    assert ours.PixelData == expected.PixelData
    assert ours["PixelData"].VR == "OB" and ours["PixelData"].is_undefined_length
    assert ours.get("PlanarConfiguration") == expected.get("PlanarConfiguration")
    assert "ExtendedOffsetTable" not in ours


IMAGES = images()


@pytest.mark.parametrize("image", IMAGES, ids=image_id)
def test_corpus(image, tmp_path):
    out = tmp_path / "out.dcm"
    r = dicomrle.compress_file(image.path, out)
    assert r.status == "written", r.reason
    syntax = read(image.path).file_meta.TransferSyntaxUID
    if syntax == EXPLICIT_LE:
        assert r.route == "bytes"
    elif syntax == IMPLICIT_LE:
        assert r.route == "bytes" or r.route.startswith(
            "pydicom (Implicit VR Little Endian: "
        ), r.route
    else:
        assert (
            r.route == "pydicom (the transfer syntax is not Explicit VR Little Endian)"
        )
    if r.route == "bytes":
        assert_same_elements(image.path, out)


def test_the_corpus_takes_the_byte_route_mostly():
    routes = [
        "bytes"
        if read(i.path).file_meta.TransferSyntaxUID == EXPLICIT_LE
        else "pydicom"
        for i in IMAGES
    ]
    assert routes.count("bytes") >= 60


# The corpus's Implicit VR Little Endian images: which the byte route takes.
IMPLICIT_BYTES = [
    "MR_small_implicit.dcm",
    "SC_rgb_jpeg_dcmd.dcm",
    "rtdose.dcm",
    "rtdose_1frame.dcm",
    "gdcm-US-ALOKA-16.dcm",
]


@pytest.mark.parametrize("name", IMPLICIT_BYTES)
def test_implicit_vr_takes_the_byte_route(name, tmp_path):
    out = tmp_path / "out.dcm"
    r = dicomrle.compress_file(find(name), out)
    assert r.status == "written" and r.route == "bytes", (r.route, r.reason)
    assert_same_elements(find(name), out)
    # The whole copy is Explicit VR Little Endian, as RLE Lossless requires:
    # our walker, which reads nothing else, gets to its Pixel Data.
    from dicomrle.dicom import walk as _walk

    data = out.read_bytes()
    status, _ = _walk.walk_file(data, len(data), rle=True)
    assert status == _walk.ENCAPSULATED


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("priv_SQ.dcm", "private elements"),
        ("nested_priv_SQ.dcm", "private elements"),
        ("rtplan.dcm", "no top-level Pixel Data"),
        ("rtplan_truncated.dcm", "a sequence runs past the end of what holds it"),
    ],
)
def test_implicit_vr_the_byte_route_leaves(name, reason):
    with open(find(name), "rb") as f:
        plan = _compress_bytes.plan(f.fileno(), os.fstat(f.fileno()).st_size)
    assert plan == _compress_bytes.Fallback(f"Implicit VR Little Endian: {reason}")


@pytest.mark.parametrize("name", ["emri_small.dcm", "US1_UNCR.dcm", "SC_rgb_16bit.dcm",
                                  "MR_small_implicit.dcm", "SC_rgb_jpeg_dcmd.dcm",
                                  "gdcm-US-ALOKA-16.dcm"])  # fmt: skip
@pytest.mark.parametrize("decoder", sorted(FILE_DECODERS))
def test_independent_decoders(name, decoder, tmp_path):
    """Every decoder reads the byte route's files. (GDCM misreads 16-bit RGB
    RLE from any encoder: test_corpus.py's assert_gdcm_agrees.)"""
    if decoder in GDCM_DECODERS and name == "SC_rgb_16bit.dcm":
        return
    src = find(name)
    out = tmp_path / name
    assert dicomrle.compress_file(src, out).route == "bytes"
    import numpy as np

    np.testing.assert_array_equal(FILE_DECODERS[decoder](out), read(src).pixel_array)


@pytest.mark.parametrize("name", sorted(excluded_paths()))
def test_excluded_files_fare_as_before(name, tmp_path):
    """The files the corpus leaves out get what the pydicom route gives."""
    src = excluded_paths()[name]
    r = dicomrle.compress_file(src, tmp_path / "a.dcm")
    assert r.route.startswith("pydicom") or r.route == "bytes"
    if r.route == "bytes":
        assert_same_elements(src, tmp_path / "a.dcm")


@pytest.mark.parametrize("threads", [1, 2])
def test_extended_offset_table(threads, tmp_path):
    """Asked for the Extended Offset Table, the items are moved behind it:
    the same value as dicomrle.compress(encapsulate_ext=True) gives."""
    src = find("emri_small.dcm")
    out = tmp_path / "out.dcm"
    with open(src, "rb") as f:
        plan = _compress_bytes.plan(f.fileno(), os.fstat(f.fileno()).st_size)
        fd = os.open(out, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            size = _compress_bytes.write(plan, f.fileno(), fd, threads=threads, extended=True)
        finally:
            os.close(fd)
    assert size == out.stat().st_size
    ours = read(out)
    expected = dicomrle.compress(read(src), encapsulate_ext=True)
    assert ours.PixelData == expected.PixelData
    assert ours.ExtendedOffsetTable == expected.ExtendedOffsetTable
    assert ours.ExtendedOffsetTableLengths == expected.ExtendedOffsetTableLengths


@pytest.mark.parametrize("name", ["CT_small.dcm", "US1_UNCR.dcm", "emri_small.dcm",
                                  "SC_rgb_16bit.dcm", "color-pl.dcm",
                                  *IMPLICIT_BYTES])  # fmt: skip
def test_dciodvfy_nothing_new(name, tmp_path):
    """dciodvfy finds no error in the byte route's file that it does not find
    in the pydicom route's or in the source."""
    from dicomrle.dicom.compress import write_dataset
    from support.dciodvfy import baseline, dciodvfy

    src = find(name)
    ours = tmp_path / "bytes.dcm"
    assert dicomrle.compress_file(src, ours).route == "bytes"
    theirs = tmp_path / "pydicom.dcm"
    write_dataset(theirs, dicomrle.compress(read(src)))
    code, iod, errors = dciodvfy(ours)
    assert code >= 0
    _, their_iod, their_errors = dciodvfy(theirs)
    assert iod == their_iod
    # pydicom's writer sets Media Storage SOP Instance UID to the SOP
    # Instance UID; the byte route keeps the source's: an error the source
    # has already (rtdose.dcm) is not new.
    _, source_errors, _ = baseline(src, tmp_path)
    assert not sorted(set(errors) - set(their_errors) - set(source_errors))


# ----------------------------------------------------------- generated files


def multiframe_header(frames: int, rows: int = 512, columns: int = 512) -> bytes:
    """A Part 10 header of a 16-bit CT of `frames` frames, up to the Pixel
    Data value, written by pydicom."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2.1"
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3.4"
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2.1"
    ds.SOPInstanceUID = "1.2.3.4"
    ds.Rows, ds.Columns = rows, columns
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
    ds.PixelRepresentation = 0
    ds.NumberOfFrames = frames
    ds.PixelData = b"\0\0"
    ds["PixelData"].VR = "OW"
    import io

    buf = io.BytesIO()
    from dicomrle.dicom.compress import write_dataset

    write_dataset(buf, ds)
    data = bytearray(buf.getvalue()[:-2])
    length = frames * rows * columns * 2
    struct.pack_into("<I", data, len(data) - 4, length)
    return bytes(data)


def sparse_multiframe(path: Path, frames: int) -> tuple[int, bytes]:
    """A file of `frames` 512 x 512 frames, zeros (a hole) but the first and
    the last, which are a real CT frame; return its Pixel Data offset and
    that frame."""
    ct = read(find("693_UNCR.dcm"))
    assert (ct.Rows, ct.Columns, ct.BitsAllocated) == (512, 512, 16)
    frame = bytes(ct.PixelData[: 512 * 512 * 2])
    header = multiframe_header(frames)
    with open(path, "wb") as f:
        f.write(header + frame)
        f.truncate(len(header) + (frames - 1) * len(frame))
        f.seek(0, os.SEEK_END)
        f.write(frame)
    return len(header), frame


def noise_file(path: Path, frames: int = 4) -> Path:
    """A 16-bit multi-frame file of random pixels: it does not compress."""
    path.write_bytes(multiframe_header(frames) + os.urandom(frames * 512 * 512 * 2))
    return path


# The peak resident memory of this process since its exec (VmHWM), not
# ru_maxrss: Linux carries that over exec from the forked copy of the parent,
# so a child of a large pytest process would report the parent's size.
BIG_FILE_SCRIPT = """
import sys, dicomrle
r = dicomrle.compress_file(sys.argv[1], sys.argv[2], threads=2)
assert r.status == "written", r
with open("/proc/self/status") as f:
    hwm = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
print(r.route, hwm * 1024, "pydicom" in sys.modules, "numpy" in sys.modules)
"""


def test_the_largest_file_in_bounded_memory(tmp_path):
    """The largest native Pixel Data there can be (its 32-bit length: 8191
    frames of 512 x 512 x 16 bits, 4 GiB less 512 KiB), as a sparse file,
    converts in a child process whose peak resident memory (anonymous, as
    it maps no file) stays under 256 MiB, without pydicom or numpy: memory
    does not grow with the file, so a machine with less free memory than
    the file converts it too. (This one has more: no Explicit VR Little
    Endian file can outgrow it.) The first and last frames are a real CT
    frame and encode as encode_frame does; the hole between encodes as
    zeros do."""
    frame_bytes = 512 * 512 * 2
    frames = 0xFFFFFFFE // frame_bytes
    src, out = tmp_path / "big.dcm", tmp_path / "big-rle.dcm"
    _, frame = sparse_multiframe(src, frames)
    if src.stat().st_blocks * 512 > 64 << 20:
        pytest.skip("the file system does not keep holes, and the file would fill it")
    result = subprocess.run(
        [sys.executable, "-c", BIG_FILE_SCRIPT, str(src), str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    route, peak, has_pydicom, has_numpy = result.stdout.split()
    assert route == "bytes"
    assert int(peak) < 256 << 20
    assert (has_pydicom, has_numpy) == ("False", "False")
    # The items: the Basic Offset Table, then one item per frame.
    ds = pydicom.dcmread(out, defer_size=1024)
    assert ds.NumberOfFrames == frames
    items = fragments_by_frame(ds.PixelData, frames)
    first = next(items)[0]
    zero = dicomrle.encode_frame(
        bytes(frame_bytes),
        rows=512,
        columns=512,
        samples_per_pixel=1,
        bits_allocated=16,
    )
    real = dicomrle.encode_frame(
        frame, rows=512, columns=512, samples_per_pixel=1, bits_allocated=16
    )
    assert first == real
    count = 1
    for (item,) in items:
        count += 1
        assert item == (real if count == frames else zero)
    assert count == frames


def fragments_by_frame(value: bytes, frames: int) -> Iterator[tuple[bytes, ...]]:
    """The fragments of each frame of an encapsulated value, as pydicom reads
    them (pydicom 3 and 2.4 name the function differently)."""
    try:
        from pydicom.encaps import generate_fragmented_frames
    except ImportError:  # pydicom 2.4
        from pydicom.encaps import generate_pixel_data

        return generate_pixel_data(value, nr_frames=frames)
    return generate_fragmented_frames(value, number_of_frames=frames)


# A file many times the memory its conversion may use: 8191 frames (4 GiB)
# of which every EVERY-th is a real CT frame, each shifted to be unlike the
# others, and the rest a hole (zeros).
EVERY = 4
LIMIT = 256 << 20


def shifted(ct: np.ndarray, k: int) -> bytes:
    """Frame `k` of the generated file, as stored: the CT frame's pixels
    rolled by k places if it is real, else zeros."""
    return np.roll(ct, k).tobytes() if k % EVERY == 0 else bytes(ct.nbytes)


def generated_multiframe(path: Path, frames: int, ct: np.ndarray) -> int:
    """Write the file: real frames where k % EVERY == 0, a hole between;
    return its Pixel Data offset."""
    header = multiframe_header(frames)
    with open(path, "wb") as f:
        f.write(header)
        for k in range(0, frames, EVERY):
            f.seek(len(header) + k * ct.nbytes)
            f.write(shifted(ct, k))
        f.truncate(len(header) + frames * ct.nbytes)
        os.fsync(f.fileno())
        # Out of the page cache: the child's cgroup must bring it back in.
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    return len(header)


def test_the_largest_file_under_a_memory_limit(tmp_path):
    """The largest native Pixel Data there can be (8191 frames of 512 x 512
    x 16 bits, 4 GiB) converts in a child process held by a cgroup to 256
    MiB of memory, page cache included: 16 times less than the input, and
    less than the output (about 370 MB). The cgroup's memory reaches the
    limit (the file pages are reclaimed as the conversion goes) and stays
    under it, and every frame of the output is what encode_frame makes of the
    source frame; a few decode back to the source's bytes."""
    frame_bytes = 512 * 512 * 2
    frames = 0xFFFFFFFE // frame_bytes
    need = 3 << 30  # a quarter of the input is data; the output; a margin
    room = shutil.disk_usage(tmp_path).free
    if room < need:
        pytest.skip(f"the disk lacks room: {room >> 20} MiB free under {tmp_path}, "
                    f"{need >> 20} MiB needed")  # fmt: skip
    stack = contextlib.ExitStack()
    try:
        limited = stack.enter_context(memlimit.memory_cgroup(LIMIT))
    except memlimit.Unavailable as error:
        # Outside CI: test_the_largest_file_in_bounded_memory still asserts
        # the peak resident memory.
        require(False, f"a memory cgroup ({error})")
    ct = np.frombuffer(read(find("693_UNCR.dcm")).PixelData[:frame_bytes], "<u2")
    src, out = tmp_path / "big.dcm", tmp_path / "big-rle.dcm"
    with stack:
        offset = generated_multiframe(src, frames, ct)
        result = limited.run(
            [sys.executable, "-c", BIG_FILE_SCRIPT, str(src), str(out)],
            capture_output=True,
            text=True,
            check=False,
        )
        peak = limited.peak()
    assert result.returncode == 0, result.stderr
    route, rss, _, _ = result.stdout.split()
    assert route == "bytes"
    assert int(rss) < LIMIT
    assert peak <= LIMIT
    # It did reach the limit: the file pages it read and wrote were charged
    # to it, and it went on as they were reclaimed.
    assert peak > LIMIT * 3 // 4
    assert out.stat().st_size > LIMIT

    ds = pydicom.dcmread(out, defer_size=1024)
    assert ds.NumberOfFrames == frames
    items = fragments_by_frame(ds.PixelData, frames)
    shape = {"rows": 512, "columns": 512, "samples_per_pixel": 1, "bits_allocated": 16}
    zero = dicomrle.encode_frame(bytes(frame_bytes), **shape)
    count = 0
    with open(src, "rb") as f:
        for k, (item,) in enumerate(items):
            count += 1
            expected = shifted(ct, k)
            assert item == (dicomrle.encode_frame(expected, **shape)
                            if k % EVERY == 0 else zero), k  # fmt: skip
            if k in (0, 1, 4096, frames - 3, frames - 1):
                stored = os.pread(f.fileno(), frame_bytes, offset + k * frame_bytes)
                assert dicomrle.decode_frame(item, **shape) == stored == expected, k
    assert count == frames


# ------------------------------------------------------------------ faults


def run_cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dicomrle", "compress", *args],
        capture_output=True,
        text=True,
        check=False,
        **kw,
    )


def leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".part")]


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs (needs root to mount)."""
    require(os.geteuid() == 0, "root, to mount a 1 MiB tmpfs")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    require(done.returncode == 0, f"a tmpfs mount ({done.stderr!r})")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_disk_full_stops_the_batch(small_disk, tmp_path, jobs):
    src = tmp_path / "in"
    src.mkdir()
    big = noise_file(tmp_path / "noise.dcm", 1)  # 0.5 MiB: one fits, not two
    for i in range(6):
        (src / f"{i}.dcm").write_bytes(big.read_bytes())
    result = run_cli(str(src), "-o", str(small_disk / "out"), "-j", jobs)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    full = [line for line in lines if "no space left on device" in line]
    assert full, result.stderr
    assert "Traceback" not in result.stderr
    assert any("files not tried" in line for line in lines)
    assert not leftovers(small_disk)
    written = list((small_disk / "out").glob("*.dcm"))
    assert len(written) < 6
    for path in written:  # what fitted is whole
        assert read(path).PixelData == dicomrle.compress(read(big)).PixelData


def test_disk_full_shows_the_traceback_with_verbose(small_disk, tmp_path):
    big = noise_file(tmp_path / "noise.dcm")
    result = run_cli(str(big), "-o", str(small_disk), "--verbose")
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "[bytes]" in result.stderr
    assert not leftovers(small_disk)


def test_permission_denied(tmp_path):
    """An output folder that cannot be written to: one line, nothing left.
    Root ignores modes, so as root the folder is made immutable instead."""
    out = tmp_path / "out"
    out.mkdir()
    if os.geteuid() == 0:
        done = subprocess.run(["chattr", "+i", str(out)], capture_output=True)
        require(done.returncode == 0, f"chattr +i, as root ({done.stderr!r})")
    else:
        out.chmod(0o555)
    try:
        result = run_cli(str(find("CT_small.dcm")), "-o", str(out))
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(out)], check=True)
        out.chmod(0o755)
    assert result.returncode == 1
    assert re.search("Permission denied|Operation not permitted", result.stderr)
    assert "Traceback" not in result.stderr
    assert not list(out.iterdir())


def test_input_vanished(tmp_path):
    r = dicomrle.compress_file(tmp_path / "gone.dcm", tmp_path / "out.dcm")
    assert r.status == "failed"
    assert r.reason.startswith("No such file or directory")
    assert not list(tmp_path.iterdir())


def test_a_leftover_temporary_file_is_neither_used_nor_removed(tmp_path, monkeypatch):
    """A temporary name that exists (left by an earlier process of the same
    number) is passed over, and the file that has it is left as it is."""
    from dicomrle.dicom import files as _files

    monkeypatch.setattr(_files, "_numbers", iter(range(7, 100)))
    out = tmp_path / "deep" / "er" / "out.dcm"
    out.parent.mkdir(parents=True)
    leftover = out.with_name(f".out.dcm.{os.getpid()}-7.part")
    leftover.write_bytes(b"someone else's")
    r = dicomrle.compress_file(find("emri_small.dcm"), out)
    assert r.status == "written", r.reason
    assert leftover.read_bytes() == b"someone else's"
    assert sorted(p.name for p in out.parent.iterdir()) == sorted(
        [out.name, leftover.name]
    )


def test_missing_output_folders_are_made(tmp_path):
    out = tmp_path / "a" / "b" / "out.dcm"
    r = dicomrle.compress_file(find("emri_small.dcm"), out)
    assert r.status == "written", r.reason
    assert [p.name for p in out.parent.iterdir()] == ["out.dcm"]


def test_the_kept_read_buffer_serves_smaller_and_larger_files(tmp_path):
    """Files one after the other in one thread, a large one between small
    ones: each copy is what dicomrle.compress gives its file alone."""
    names = ["MR_small.dcm", "emri_small.dcm", "SC_rgb_small_odd.dcm", "US1_UNCR.dcm"]
    for k, name in enumerate(names * 2):
        out = tmp_path / f"{k}.dcm"
        r = dicomrle.compress_file(find(name), out)
        assert r.status == "written" and r.route == "bytes", (name, r.reason)
        expected = dicomrle.compress(read(find(name)))
        assert read(out).PixelData == expected.PixelData, name


@pytest.mark.parametrize("name", ["MR_small.dcm", "US1_UNCR.dcm", "emri_small.dcm"])
def test_short_writes(name, tmp_path, monkeypatch):
    """A file system that writes a few bytes a call: the same file."""
    whole = tmp_path / "whole.dcm"
    assert dicomrle.compress_file(find(name), whole).route == "bytes"
    real_pwritev, real_pwrite = os.pwritev, os.pwrite

    def pwritev(fd, buffers, offset):
        first = bytes(memoryview(buffers[0])[:7])
        return real_pwritev(fd, [first], offset)

    def pwrite(fd, data, offset):
        return real_pwrite(fd, bytes(memoryview(data)[:7]), offset)

    monkeypatch.setattr(os, "pwritev", pwritev)
    monkeypatch.setattr(os, "pwrite", pwrite)
    short = tmp_path / "short.dcm"
    assert dicomrle.compress_file(find(name), short).route == "bytes"
    assert short.read_bytes() == whole.read_bytes()


def test_input_shrinks_while_read(tmp_path):
    """Truncated after it was planned: a short read, an error, not SIGBUS."""
    src = tmp_path / "src.dcm"
    src.write_bytes(find("emri_small.dcm").read_bytes())
    out = tmp_path / "out.dcm"
    with open(src, "rb") as f:
        plan = _compress_bytes.plan(f.fileno(), os.fstat(f.fileno()).st_size)
        os.truncate(src, plan.pixel_offset + 1000)
        fd = os.open(out, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            with pytest.raises(OSError, match="the input shrank"):
                _compress_bytes.write(plan, f.fileno(), fd)
        finally:
            os.close(fd)


def test_interrupt_leaves_nothing(tmp_path):
    """SIGINT while a large file is being written: exit 130, no output and
    no temporary file."""
    src = tmp_path / "big.dcm"
    sparse_multiframe(src, 8190)  # 4 GiB, mostly a hole: seconds to convert
    out = tmp_path / "out"
    child = subprocess.Popen(
        [sys.executable, "-m", "dicomrle", "compress", str(src), "-o", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not (out.exists() and leftovers(out)) and child.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=60)
    if child.returncode == 0:
        pytest.fail("the file was done before the interrupt: make it larger")
    assert child.returncode == 130, stderr
    assert "interrupted" in stderr
    assert not leftovers(out) and not list(out.glob("*.dcm"))


def test_verbose_names_the_route(tmp_path):
    result = run_cli(
        str(find("CT_small.dcm")), str(find("MR_small_bigendian.dcm")),
        "-o", str(tmp_path), "--verbose",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "CT_small.dcm" in result.stdout and "[bytes]" in result.stdout
    assert (
        "[pydicom (the transfer syntax is not Explicit VR Little Endian)]"
        in result.stdout
    )
    quiet = run_cli(str(find("CT_small.dcm")), "-o", str(tmp_path / "q"))
    assert "[bytes]" not in quiet.stdout


def test_byte_route_imports_neither_pydicom_nor_numpy(tmp_path):
    code = (
        "import sys, dicomrle.cli as c;"
        f"c.main(['compress', {str(find('CT_small.dcm'))!r}, '-o', {str(tmp_path)!r}]);"
        "print('pydicom' in sys.modules, 'numpy' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split()[-2:] == ["False", "False"]


def test_gdcm_and_dcmtk_read_it(tmp_path):
    """Two more readers than pydicom: dcmdump parses every element."""
    out = tmp_path / "out.dcm"
    dicomrle.compress_file(find("emri_small.dcm"), out)
    dump = subprocess.run(
        [require_tool("dcmdump"), "-q", str(out)], capture_output=True, text=True
    )
    assert dump.returncode == 0 and "RLELossless" in dump.stdout.replace(" ", "")
