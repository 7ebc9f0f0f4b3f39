"""What every route writes (the byte route, the pydicom route and
``dicomrle.compress``), checked against DCMTK's dcmcrle:

- colour with Planar Configuration 0 (PS3.5 G.2 note 2), whatever the
  source's: dcm2niix makes of our copies the voxels it makes of DCMTK's
  and of the source;
- every Group Length a copy keeps recalculated, as dcmcrle recalculates
  them: what DCMTK writes for the elements our copy holds, and the
  (7FE0,0000) of the encapsulated Pixel Data the length of its element,
  items and delimiter.
"""

from __future__ import annotations

import os
import struct
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest

import dicomrle
from dicomrle.dicom import compress_bytes as _compress_bytes
from support.corpus import find
from support.decoders import FILE_DECODERS, console_script, require_tool
from dicomrle.dicom.compress import write_dataset
from support.corpus import find
from support.decoders import FILE_DECODERS, console_script, require_tool

# pydicom warns about an invalid UID in rtdose.dcm.
pytestmark = pytest.mark.filterwarnings("ignore:Invalid value for VR UI:UserWarning")

LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN",
            b"UR", b"UT", b"UV"}  # fmt: skip
UNDEFINED = 0xFFFFFFFF


def read(path: Path) -> pydicom.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(path)


def run(*command: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(c) for c in command], capture_output=True, text=True, timeout=300
    )


def dcmcrle(src: Path, dst: Path, *options: str) -> Path:
    result = run(require_tool("dcmcrle"), *options, src, dst)
    assert result.returncode == 0, result.stderr
    return dst


def compress_bytes(src: Path, dst: Path) -> Path:
    """Our copy by the byte route."""
    r = dicomrle.compress_file(src, dst)
    assert r.status == "written" and r.route == "bytes", (r.route, r.reason)
    return dst


def compress_dataset(src: Path, dst: Path) -> Path:
    """Our copy by ``dicomrle.compress`` and the pydicom route's writer."""
    ds = dicomrle.compress(read(src))
    with open(dst, "wb") as f:
        write_dataset(f, ds)
    return dst


ROUTES = {"bytes": compress_bytes, "dataset": compress_dataset}


def assert_dcmtk_reads_quietly(path: Path, tmp_path: Path) -> None:
    """dcmdump and dcmdrle read `path` with no warning or error."""
    dump = run(require_tool("dcmdump"), path)
    assert dump.returncode == 0 and not dump.stderr.strip(), dump.stderr
    back = tmp_path / f"{path.stem}.dcmdrle.dcm"
    result = run(require_tool("dcmdrle"), path, back)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


# ------------------------------------------------------------- dcm2niix


def nifti(dicom: Path, folder: Path) -> tuple[bytes, bytes]:
    """(dim and datatype, voxels) of what dcm2niix makes of `dicom`."""
    folder.mkdir()
    result = run(
        console_script("dcm2niix"),
        *("-s", "y", "-b", "n", "-z", "n", "-f", "image", "-o", folder, dicom),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (path,) = folder.glob("*.nii")
    data = path.read_bytes()
    size = struct.unpack_from("<i", data)[0]
    assert size == 348, f"not a little-endian NIfTI-1 header ({size})"
    vox_offset = int(struct.unpack_from("<f", data, 108)[0])
    # dim (16 bytes at 40), then intent parameters and code, datatype, bitpix.
    return data[40:56] + data[70:74], data[vox_offset:]


@pytest.mark.parametrize("route", list(ROUTES))
@pytest.mark.parametrize("name", ["SC_rgb.dcm", "US1_UNCR.dcm", "CT_small.dcm"])
def test_dcm2niix_reads_ours_as_dcmtks(name, route, tmp_path):
    src = find(name)
    ours = ROUTES[route](src, tmp_path / "ours.dcm")
    theirs = dcmcrle(src, tmp_path / "dcmtk.dcm")
    if read(src).get("SamplesPerPixel", 1) > 1:
        assert read(ours).PlanarConfiguration == 0
    expected = nifti(src, tmp_path / "source")
    assert len(expected[1]) > 0
    assert nifti(theirs, tmp_path / "dcmtk") == expected
    assert nifti(ours, tmp_path / "ours") == expected


@pytest.mark.parametrize("route", list(ROUTES))
@pytest.mark.parametrize("name", ["color-pl.dcm", "color-px.dcm"])
def test_colour_is_written_with_planar_configuration_0(name, route, tmp_path):
    """Planar Configuration 1 and 0 sources alike; the decoders read the
    copy to the source's pixels."""
    src = find(name)
    ours = ROUTES[route](src, tmp_path / "ours.dcm")
    assert read(ours).PlanarConfiguration == 0
    expected = read(src).pixel_array
    for decoder in ("pydicom", "dcmtk"):
        got = FILE_DECODERS[decoder](ours)
        np.testing.assert_array_equal(got, expected, err_msg=decoder)


# -------------------------------------------------------- group lengths


def group_lengths(path: Path) -> dict[str, tuple[int, int]]:
    """Every Group Length of the Explicit VR Little Endian file `path`, by
    where it is ("7FE0", or "300C,0002/0/300C" in the first item of a
    sequence): (the value, the bytes of the rest of its group)."""
    data = Path(path).read_bytes()
    assert data[128:132] == b"DICM"
    found: dict[str, tuple[int, int]] = {}
    end = _elements(data, 132, len(data), False, "", found)
    assert end == len(data)
    return found


def _header(data: bytes, pos: int) -> tuple[int, int, bytes, int, int]:
    """Group, element, VR, where the value starts and its length."""
    group, element, vr = struct.unpack_from("<HH2s", data, pos)
    if vr in LONG_VRS:
        return group, element, vr, pos + 12, struct.unpack_from("<I", data, pos + 8)[0]
    return group, element, vr, pos + 8, struct.unpack_from("<H", data, pos + 6)[0]


def _elements(
    data: bytes, pos: int, end: int, delimited: bool, where: str, found: dict
) -> int:
    lengths: dict[int, tuple[int, int]] = {}  # group: (value, where it ends)
    ends: dict[int, int] = {}  # group: where its last element ends
    while pos < end:
        if delimited and data[pos : pos + 4] == b"\xfe\xff\x0d\xe0":
            pos += 8
            break
        group, element, vr, value, length = _header(data, pos)
        if element == 0:
            assert (vr, length) == (b"UL", 4), where
            lengths[group] = (struct.unpack_from("<I", data, value)[0], value + 4)
        if vr == b"SQ":
            inner = f"{where}{group:04X},{element:04X}/"
            pos = _items(data, value, length, end, inner, found)
        elif length == UNDEFINED:  # encapsulated Pixel Data
            pos = value
            while data[pos : pos + 4] != b"\xfe\xff\xdd\xe0":
                pos += 8 + struct.unpack_from("<I", data, pos + 4)[0]
            pos += 8
        else:
            pos = value + length
        ends[group] = pos
    for group, (stated, start) in lengths.items():
        found[f"{where}{group:04X}"] = (stated, ends[group] - start)
    return pos


def _items(
    data: bytes, pos: int, length: int, end: int, where: str, found: dict
) -> int:
    if length != UNDEFINED:
        end = pos + length
    index = 0
    while pos < end:
        tag, item_length = struct.unpack_from("<4sI", data, pos)
        if tag == b"\xfe\xff\xdd\xe0":
            return pos + 8
        assert tag == b"\xfe\xff\x00\xe0"
        inner = f"{where}{index}/"
        if item_length == UNDEFINED:
            pos = _elements(data, pos + 8, end, True, inner, found)
        else:
            item_end = pos + 8 + item_length
            assert _elements(data, pos + 8, item_end, False, inner, found) == item_end
            pos = item_end
        index += 1
    return pos


def assert_group_lengths_right(path: Path) -> dict[str, int]:
    """Every Group Length of `path` is the length of the rest of its group;
    return them."""
    found = group_lengths(path)
    wrong = {where: pair for where, pair in found.items() if pair[0] != pair[1]}
    assert not wrong, f"(stated, actual) group lengths of {path.name}: {wrong}"
    return {where: stated for where, (stated, _) in found.items()}


def assert_dcmtks_group_lengths(ours: Path, theirs: Path) -> None:
    """The group lengths of our copy and of DCMTK's are right, and the
    same but those of the File Meta Information (its elements differ) and
    of the Pixel Data (the encoders' fragments differ in length)."""
    ours_lengths = assert_group_lengths_right(ours)
    theirs_lengths = assert_group_lengths_right(theirs)
    assert ours_lengths.keys() == theirs_lengths.keys()
    for where in ("0002", "7FE0"):
        ours_lengths.pop(where, None)
        theirs_lengths.pop(where, None)
    assert ours_lengths == theirs_lengths


# dcmcrle writes sequences with explicit lengths unless told -e; these
# files keep undefined lengths in our copies (693_UNCI.dcm has them, and
# the byte route rewrites Implicit VR sequences with undefined lengths).
UNDEFINED_LENGTHS = {"693_UNCI.dcm", "rtdose.dcm", "MR_small_implicit.dcm"}
STALE = ["693_UNCI.dcm", "693_UNCR.dcm", "color-pl.dcm", "color-px.dcm"]


def dcmcrle_like(src: Path, name: str, dst: Path) -> Path:
    return dcmcrle(src, dst, *(["-e"] if name in UNDEFINED_LENGTHS else []))


@pytest.mark.parametrize("name", STALE)
def test_group_lengths_of_the_byte_route(name, tmp_path):
    src = find(name)
    stale = read(src)[0x7FE00000].value
    ours = compress_bytes(src, tmp_path / "ours.dcm")
    assert_dcmtks_group_lengths(ours, dcmcrle_like(src, name, tmp_path / "dcmtk.dcm"))
    assert group_lengths(ours)["7FE0"][0] != stale
    assert_dcmtk_reads_quietly(ours, tmp_path)


@pytest.mark.parametrize("name", [*STALE, "ExplVR_BigEnd.dcm"])
def test_group_lengths_of_compress(name, tmp_path):
    """``dicomrle.compress`` recalculates the group lengths of the dataset
    (pydicom's writer then leaves them out of the file)."""
    src = find(name)
    ds = dicomrle.compress(read(src))
    theirs = dcmcrle_like(src, name, tmp_path / "dcmtk.dcm")
    theirs_lengths = assert_group_lengths_right(theirs)
    ours_lengths = {f"{t.group:04X}": ds[t].value for t in ds.keys() if t.element == 0}
    assert ours_lengths.pop("7FE0") == 12 + len(ds.PixelData) + 8
    theirs_lengths.pop("7FE0")
    theirs_lengths.pop("0002")
    assert ours_lengths == theirs_lengths
    path = tmp_path / "ours.dcm"
    with open(path, "wb") as f:
        write_dataset(f, ds)
    assert_group_lengths_right(path)
    assert_dcmtk_reads_quietly(path, tmp_path)


def dataset_group_lengths(ds: pydicom.Dataset, where: str = "") -> dict[str, int]:
    """The Group Lengths of `ds` and of its items, keyed as group_lengths."""
    found = {}
    for element in ds:
        tag = element.tag
        if tag.element == 0:
            found[f"{where}{tag.group:04X}"] = element.value
        if element.VR == "SQ":
            for index, item in enumerate(element.value):
                inner = f"{where}{tag.group:04X},{tag.element:04X}/{index}/"
                found.update(dataset_group_lengths(item, inner))
    return found


def test_group_lengths_of_compress_in_items(tmp_path):
    """Implicit VR read by pydicom, Group Lengths in items: those DCMTK
    writes (pydicom keeps the sequences' explicit lengths, as dcmcrle)."""
    src = with_group_lengths("rtdose.dcm", tmp_path)
    theirs = assert_group_lengths_right(dcmcrle(src, tmp_path / "dcmtk.dcm"))
    ds = dicomrle.compress(read(src))
    ours = dataset_group_lengths(ds)
    assert any("/" in where for where in ours)
    assert ours.pop("7FE0") == 12 + len(ds.PixelData) + 8
    theirs.pop("7FE0")
    theirs.pop("0002")
    assert ours == theirs


def test_group_lengths_of_the_pydicom_route(tmp_path):
    """A big-endian file goes through pydicom, whose writer leaves the
    group lengths out: none is stale."""
    src = find("ExplVR_BigEnd.dcm")
    out = tmp_path / "ours.dcm"
    r = dicomrle.compress_file(src, out)
    assert r.status == "written" and r.route.startswith("pydicom"), r
    assert_group_lengths_right(out)
    assert_dcmtk_reads_quietly(out, tmp_path)


def with_group_lengths(name: str, tmp_path: Path) -> Path:
    """A copy of `name` in its own transfer syntax, with a Group Length in
    every group and item (dcmconv +g)."""
    out = tmp_path / f"gl-{name}"
    result = run(require_tool("dcmconv"), "+g", find(name), out)
    assert result.returncode == 0, result.stderr
    return out


@pytest.mark.parametrize(
    "name",
    [
        "rtdose.dcm",  # Implicit VR, 15 frames, group lengths in items
        "MR_small_implicit.dcm",
        "emri_small.dcm",  # 10 frames
        "SC_rgb_2frame.dcm",  # colour, 2 frames
    ],
)
def test_group_lengths_of_the_byte_route_everywhere(name, tmp_path):
    """Implicit VR rewritten as Explicit VR, group lengths in items, several
    frames (the Basic Offset Table and the group length written last)."""
    src = with_group_lengths(name, tmp_path)
    ours = compress_bytes(src, tmp_path / "ours.dcm")
    assert_dcmtks_group_lengths(ours, dcmcrle_like(src, name, tmp_path / "dcmtk.dcm"))
    assert_dcmtk_reads_quietly(ours, tmp_path)
    expected = read(find(name)).pixel_array
    np.testing.assert_array_equal(FILE_DECODERS["dcmtk"](ours), expected)


def write_plan(src: Path, dst: Path, **kwargs: object) -> None:
    fd = os.open(src, os.O_RDONLY)
    try:
        p = _compress_bytes.plan(fd, os.fstat(fd).st_size)
        assert isinstance(p, _compress_bytes.Plan), p
        out = os.open(dst, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            _compress_bytes.write(p, fd, out, **kwargs)  # type: ignore[arg-type]
        finally:
            os.close(out)
    finally:
        os.close(fd)


@pytest.mark.parametrize("name", ["emri_small.dcm", "color-pl.dcm"])
def test_group_length_with_the_extended_offset_table(name, tmp_path):
    src = with_group_lengths(name, tmp_path)
    ours = tmp_path / "ours.dcm"
    write_plan(src, ours, extended=True)
    assert "ExtendedOffsetTable" in read(ours)
    assert_group_lengths_right(ours)
    assert_dcmtk_reads_quietly(ours, tmp_path)


def test_group_length_when_the_items_move(tmp_path, monkeypatch):
    """Offsets the Basic Offset Table cannot hold: the items move behind
    the Extended Offset Table, and the group length follows."""
    src = with_group_lengths("emri_small.dcm", tmp_path)
    monkeypatch.setattr(_compress_bytes, "MAX_OFFSET", 100)
    ours = tmp_path / "ours.dcm"
    write_plan(src, ours)
    assert "ExtendedOffsetTable" in read(ours)
    assert_group_lengths_right(ours)
    assert_dcmtk_reads_quietly(ours, tmp_path)


def test_a_group_length_too_small_is_left_out(tmp_path, monkeypatch):
    """A (7FE0,0000) that 4 bytes might not hold is left out (PS3.5 7.2)."""
    src = with_group_lengths("emri_small.dcm", tmp_path)
    monkeypatch.setattr(_compress_bytes, "MAX_GROUP_LENGTH", 1000)
    ours = tmp_path / "ours.dcm"
    write_plan(src, ours)
    lengths = assert_group_lengths_right(ours)
    assert "7FE0" not in lengths and "0028" in lengths
    assert_dcmtk_reads_quietly(ours, tmp_path)
    np.testing.assert_array_equal(
        FILE_DECODERS["dcmtk"](ours), read(find("emri_small.dcm")).pixel_array
    )


@pytest.mark.parametrize("name", ["693_UNCR.dcm", "color-pl.dcm"])
def test_group_lengths_of_decompress(name, tmp_path):
    """``dicomrle.decompress`` of DCMTK's RLE copy: the group lengths
    dcmdrle writes."""
    rle = dcmcrle(find(name), tmp_path / "rle.dcm")
    ds = dicomrle.decompress(read(rle))
    native = tmp_path / "native.dcm"
    result = run(require_tool("dcmdrle"), rle, native)
    assert result.returncode == 0, result.stderr
    expected = assert_group_lengths_right(native)
    expected.pop("0002")
    ours = {f"{t.group:04X}": ds[t].value for t in ds.keys() if t.element == 0}
    assert ours == expected
