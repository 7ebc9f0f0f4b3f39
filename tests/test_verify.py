"""compress_file(verify=True) on the byte route: the copy is read back from
disk with dicomrle's own parsers (element walker, item parser) and every
frame decoded and compared with the source. A copy spoiled after it was
written, anywhere that matters, is refused and not kept."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pydicom
import pytest

from dicomrle.dicom import files as _files
from dicomrle.dicom import compress_bytes as _compress_bytes
from dicomrle.dicom.files import DIFFERENT, compress_file
from support.corpus import find

ITEM = b"\xfe\xff\x00\xe0"


def spoil_rows(data: bytearray) -> None:
    at = data.index(b"\x28\x00\x10\x00US\x02\x00") + 8
    data[at : at + 2] = struct.pack("<H", 800)  # Rows = Columns


def spoil_last_frame(data: bytearray) -> None:
    # A literal byte in the middle of the last fragment's last segment.
    at = data.rindex(ITEM)
    data[at + (len(data) - at) // 2] ^= 0x01


def spoil_offset_table(data: bytearray) -> None:
    at = data.index(b"\xe0\x7f\x10\x00OB\x00\x00\xff\xff\xff\xff") + 12
    assert data[at : at + 4] == ITEM
    length = struct.unpack_from("<I", data, at + 4)[0]
    assert length == 8  # two frames
    data[at + 12 : at + 16] = struct.pack("<I", 2)


def spoil_syntax(data: bytearray) -> None:
    at = data.index(b"1.2.840.10008.1.2.5\0")
    data[at + 18 : at + 19] = b"1"  # Explicit VR Little Endian


def append_element(data: bytearray) -> None:
    data += b"\xfc\xff\xfc\xffOB\x00\x00\x02\x00\x00\x00\x00\x00"


def truncate(data: bytearray) -> None:
    del data[-9:]


def extra_fragment(data: bytearray) -> None:
    at = data.rindex(b"\xfe\xff\xdd\xe0")
    data[at:at] = ITEM + struct.pack("<I", 2) + b"\x00\x00"


def plain(path: Path) -> Path:
    ds = pydicom.dcmread(path)
    assert ds.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
    return path


@pytest.mark.parametrize("name", ["OBXXXX1A_2frame.dcm", "SC_rgb_16bit_2frame.dcm"])
def test_a_good_copy_passes(name, tmp_path):
    result = compress_file(plain(find(name)), tmp_path / "out.dcm", verify=True)
    assert (result.status, result.route) == ("written", "bytes")
    ds = pydicom.dcmread(tmp_path / "out.dcm")
    assert ds.file_meta.TransferSyntaxUID == pydicom.uid.RLELossless


@pytest.mark.parametrize(
    "spoil",
    [
        spoil_rows,
        spoil_last_frame,
        spoil_offset_table,
        spoil_syntax,
        append_element,
        truncate,
        extra_fragment,
    ],
)
@pytest.mark.parametrize("threads", [1, 2])
def test_a_spoiled_copy_is_refused(spoil, threads, tmp_path, monkeypatch):
    real = _compress_bytes.write

    def write_then_spoil(plan, src, fd, **kwargs):
        size = real(plan, src, fd, **kwargs)
        data = bytearray(os.pread(fd, os.fstat(fd).st_size, 0))
        spoil(data)
        os.ftruncate(fd, 0)
        os.pwrite(fd, bytes(data), 0)
        return size

    monkeypatch.setattr(_compress_bytes, "write", write_then_spoil)
    out = tmp_path / "out" / "copy.dcm"
    src = plain(find("OBXXXX1A_2frame.dcm"))
    result = compress_file(src, out, verify=True, threads=threads)
    assert (result.status, result.route) == ("failed", "bytes")
    assert result.reason == DIFFERENT or result.reason.startswith("frame 1: ")
    assert list(out.parent.iterdir()) == []  # no copy, no .part
    kept = compress_file(src, out, verify=False, threads=threads)
    if spoil in (spoil_rows, spoil_last_frame, append_element):
        # Well-formed but wrong: without --verify the spoiled copy stays.
        assert kept.status == "written"
    else:
        # Malformed: the strict check refuses it, --verify or not.
        assert kept.status == "failed"
        assert kept.reason.startswith("the copy would not be well-formed DICOM")
        assert list(out.parent.iterdir()) == []


@pytest.mark.parametrize("spoil", [None, "offset", "length"])
def test_extended_offset_table(spoil, tmp_path):
    """A copy with an Extended Offset Table (what the byte route writes when
    the offsets outgrow 32 bits) passes when its tables are right."""
    src = plain(find("OBXXXX1A_2frame.dcm"))
    copy = tmp_path / "copy.dcm"
    fd = os.open(src, os.O_RDONLY)
    try:
        plan = _compress_bytes.plan(fd, os.fstat(fd).st_size)
        assert isinstance(plan, _compress_bytes.Plan)
        out = os.open(copy, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _compress_bytes.write(plan, fd, out, extended=True)
        finally:
            os.close(out)
        data = bytearray(copy.read_bytes())
        ds = pydicom.dcmread(copy)
        assert len(ds.ExtendedOffsetTable) == 16
        if spoil == "offset":
            at = data.index(b"\xe0\x7f\x01\x00OV") + 12 + 8
            data[at] ^= 1
        elif spoil == "length":
            at = data.index(b"\xe0\x7f\x02\x00OV") + 12
            data[at] ^= 1
        copy.write_bytes(bytes(data))
        with open(copy, "rb") as f:
            same = _files._same_as_source(plan, fd, f.fileno(), len(data), 2)
        assert same is (spoil is None)
    finally:
        os.close(fd)
