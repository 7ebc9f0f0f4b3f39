"""The byte route's rewriting of Implicit VR Little Endian elements
(src/dicomrle/dicom/implicit.py) on hostile input: truncated and corrupted
copies of real files, deep nesting, and the VR table. The corpus files
themselves are in test_stream.py."""

from __future__ import annotations

import os
import random
import struct
import warnings
from pathlib import Path

import pydicom
import pytest

import dicomrle
from dicomrle.dicom import implicit as _implicit
from dicomrle.dicom import compress_bytes as _compress_bytes
from dicomrle.dicom import walk as _walk
from support.corpus import find

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def plan_of(path: Path) -> _compress_bytes.Plan | _compress_bytes.Fallback:
    with open(path, "rb") as f:
        return _compress_bytes.plan(f.fileno(), os.fstat(f.fileno()).st_size)


def read(path: Path) -> pydicom.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(path)


@pytest.mark.parametrize(
    ("tag", "vr"),
    [
        (0x00100010, "PN"),
        (0x00080005, "CS"),
        (0x00081140, "SQ"),
        (0x00080000, "UL"),  # a group length
        (0x00280000, "UL"),
        (0x60020010, "US"),  # Overlay Rows, repeating group 60xx
        (0x501E2600, "SQ"),  # repeating group 50xx
        (0x00280106, "US or SS"),
        (0x00283006, None),  # LUT Data, "US or OW": left to pydicom
        (0x60003000, None),  # Overlay Data, "OB or OW"
        (0x00990010, None),  # private
        (0x00080002, None),  # not in the dictionary
    ],
)
def test_vr_of(tag, vr):
    assert _implicit.vr_of(tag) == vr


def test_the_table_agrees_with_pydicom():
    """Every tag of the table that pydicom's dictionary has, it gives the
    same VR; an older pydicom (2.4) lacks some newer tags, which it reads
    as UN, and the byte route writes with their VR."""
    from pydicom.datadict import DicomDictionary, dictionary_VR

    vrs, _ = _implicit._load()
    assert len(vrs) > 4000
    unknown = [tag for tag in vrs if tag not in DicomDictionary]
    if pydicom.__version__.startswith("2."):
        assert len(unknown) < 400
    else:
        assert unknown == []
    for tag, vr in vrs.items():
        if tag not in unknown:
            assert dictionary_VR(tag) == vr, hex(tag)


def implicit_file(dataset: bytes) -> bytes:
    """A Part 10 file: File Meta Information for Implicit VR Little Endian,
    then `dataset`."""
    meta = b""
    for element, vr, value in [
        (0x0001, b"OB", b"\0\1"),
        (0x0002, b"UI", b"1.2.840.10008.5.1.4.1.1.7\0"),
        (0x0003, b"UI", b"1.2.3.4\0"),
        (0x0010, b"UI", b"1.2.840.10008.1.2\0"),
        (0x0012, b"UI", b"1.2.3.4\0"),
    ]:
        if vr == b"OB":
            meta += struct.pack("<HH2sHI", 2, element, vr, 0, len(value)) + value
        else:
            meta += struct.pack("<HH2sH", 2, element, vr, len(value)) + value
    group = struct.pack("<HH2sHI", 2, 0, b"UL", 4, len(meta))
    return b"\0" * 128 + b"DICM" + group + meta + dataset


def element(tag: int, value: bytes, length: int | None = None) -> bytes:
    n = len(value) if length is None else length
    return struct.pack("<HHI", tag >> 16, tag & 0xFFFF, n) + value


def image(before_pixels: bytes = b"", after: bytes = b"") -> bytes:
    """An 8-bit 2 x 2 monochrome image, implicit VR."""
    us = lambda v: struct.pack("<H", v)  # noqa: E731
    return implicit_file(
        before_pixels
        + element(0x00280002, us(1))
        + element(0x00280004, b"MONOCHROME2 ")
        + element(0x00280010, us(2))
        + element(0x00280011, us(2))
        + element(0x00280100, us(8))
        + element(0x00280101, us(8))
        + element(0x00280102, us(7))
        + element(0x00280103, us(0))
        + element(0x7FE00010, b"\1\2\3\4")
        + after
    )


def test_a_made_file_converts(tmp_path):
    """Sequences of defined and undefined length, items of both, a
    repeating group and an element after the Pixel Data."""
    item = element(0x00080100, b"12") + element(0x00080102, b"DCM ")
    defined = element(0x00081110, element(0xFFFEE000, item))
    undefined = element(
        0x00081111,
        element(0xFFFEE000, item + element(0xFFFEE00D, b""), 0xFFFFFFFF)
        + element(0xFFFEE0DD, b""),
        0xFFFFFFFF,
    )
    src = tmp_path / "src.dcm"
    src.write_bytes(
        image(
            element(0x00080016, b"1.2.840.10008.5.1.4.1.1.7\0")
            + element(0x00080018, b"1.2.3.4\0")
            + defined
            + undefined,
            after=element(0xFFFCFFFC, b"\0\0"),
        )
    )
    out = tmp_path / "out.dcm"
    r = dicomrle.compress_file(src, out)
    assert (r.status, r.route) == ("written", "bytes"), r.reason
    source, ours = read(src), read(out)
    for tag in source.keys():
        if tag != 0x7FE00010:
            assert ours[tag] == source[tag], tag
    assert ours.ReferencedStudySequence[0].CodeValue == "12"
    assert ours.pixel_array.tolist() == [[1, 2], [3, 4]]


@pytest.mark.parametrize(
    ("dataset", "reason"),
    [
        (element(0x00090010, b"ACME"), "private elements"),
        (element(0x00080002, b"xx"), "(0008,0002), whose VR the byte route does not know"),
        (element(0x00100010, b"abc"), "a value of odd length"),
        (element(0x00100010, b"", 0xFFFFFFFF), "undefined length on a value that is not a sequence"),
        (element(0x00100020, b"ab") + element(0x00100010, b"ab"), "tags out of order"),
        (element(0x00081110, element(0xFFFEE000, element(0x00020010, b"ab"))),
         "a File Meta Information element in the dataset"),
        (element(0xFFFEE000, b""), "an item or delimiter out of place"),
        (element(0x00081110, element(0x00100010, b"ab")), "a sequence holds something but items"),
        (element(0x00081110, b"", 0x7FFFFFF0), "a sequence runs past the end of what holds it"),
        (element(0x00189810, b"\0\0"), "a US or SS element without Pixel Representation"),
        (element(0x00081030, b"a" * 65536), "a LO value longer than 65535 bytes"),
        # Explicit VR under an Implicit VR transfer syntax: pydicom reads it
        # as Explicit VR, so it is left to pydicom.
        (struct.pack("<HH2sH", 8, 0x60, b"CS", 2) + b"MR",
         "the dataset is Explicit VR, not what the syntax says"),
    ],
)  # fmt: skip
def test_what_it_refuses(dataset, reason, tmp_path):
    src = tmp_path / "src.dcm"
    src.write_bytes(image(dataset))
    assert plan_of(src) == _compress_bytes.Fallback(f"Implicit VR Little Endian: {reason}")
    r = dicomrle.compress_file(src, tmp_path / "out.dcm")
    assert r.route.startswith("pydicom (Implicit VR Little Endian: ")


def nested(depth: int) -> bytes:
    """`depth` sequences, each in an item of the one before."""
    inner = element(0x00100010, b"ab")
    for _ in range(depth):
        inner = element(0x00081110, element(0xFFFEE000, inner))
    return inner


def test_nesting_is_limited(tmp_path):
    src = tmp_path / "src.dcm"
    src.write_bytes(image(nested(_implicit.MAX_DEPTH // 2)))
    assert isinstance(plan_of(src), _compress_bytes.Plan)
    src.write_bytes(image(nested(_implicit.MAX_DEPTH // 2 + 1)))
    assert plan_of(src) == _compress_bytes.Fallback(
        f"Implicit VR Little Endian: sequences nested deeper than {_implicit.MAX_DEPTH // 2}"
    )
    src.write_bytes(image(nested(5000)))  # deeper than Python's recursion limit
    assert isinstance(plan_of(src), _compress_bytes.Fallback)


def assert_well_formed(src: Path, tmp_path: Path) -> None:
    """The byte route plans `src` or leaves it, and what it writes is
    Explicit VR Little Endian RLE Lossless to our walker; if pydicom reads
    the source, the copy has the same elements."""
    plan = plan_of(src)
    assert isinstance(plan, (_compress_bytes.Plan, _compress_bytes.Fallback))
    if isinstance(plan, _compress_bytes.Fallback):
        return
    out = tmp_path / "out.dcm"
    out.unlink(missing_ok=True)
    r = dicomrle.compress_file(src, out)
    assert r.route == "bytes", r.reason
    if r.status == "failed":  # a copy that strict readers would refuse
        assert r.reason.startswith("the copy would not be well-formed DICOM: ")
        assert not out.exists()
        return
    data = out.read_bytes()
    assert _walk.walk_file(data, len(data), rle=True)[0] == _walk.ENCAPSULATED
    try:
        source = read(src)
        keys = list(source.keys())
        values = {tag: source[tag] for tag in keys if tag != 0x7FE00010}
    except Exception:  # noqa: BLE001 - pydicom cannot read the corrupted source
        return
    ours = read(out)
    for tag, value in values.items():
        assert ours[tag] == value, tag


@pytest.mark.parametrize("name", ["MR_small_implicit.dcm", "gdcm-US-ALOKA-16.dcm"])
def test_every_truncation(name, tmp_path):
    data = find(name).read_bytes()
    plan = plan_of(find(name))
    assert isinstance(plan, _compress_bytes.Plan)
    src = tmp_path / "src.dcm"
    end = plan.pixel_offset + 64
    # Every length in the first 4 KiB and around the Pixel Data, every
    # 251st in between (a 256 KiB element precedes the Pixel Data of one).
    lengths = {*range(4096), *range(4096, end, 251), *range(end - 128, end)}
    for length in sorted(lengths):
        src.write_bytes(data[:length])
        assert isinstance(plan_of(src), _compress_bytes.Fallback), length


@pytest.mark.parametrize("name", ["MR_small_implicit.dcm", "gdcm-US-ALOKA-16.dcm"])
def test_corrupted_copies(name, tmp_path):
    """Bytes of the elements before the Pixel Data changed at random, one
    to four at a time: never an exception, and every copy well formed."""
    data = find(name).read_bytes()
    plan = plan_of(find(name))
    assert isinstance(plan, _compress_bytes.Plan)
    rng = random.Random(20261202)
    src = tmp_path / "src.dcm"
    planned = 0
    headers = min(plan.pixel_offset, plan.meta_end + 4096)  # mostly headers
    for _ in range(1000):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(plan.meta_end, headers)
            mutated[at] = rng.choice([0, 0xFF, rng.randrange(256), mutated[at] ^ 1])
        src.write_bytes(mutated)
        assert_well_formed(src, tmp_path)
        planned += isinstance(plan_of(src), _compress_bytes.Plan)
    assert 0 < planned < 1000  # both ways taken
