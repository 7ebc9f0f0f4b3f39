"""The C element walker (csrc/dcm_walk.c through dicomrle.dicom.walk) against
pydicom: on every file of the corpus folders, on truncated copies and on
byte-corrupted copies it never crashes, and whenever it accepts a file,
what it reports agrees with what pydicom reads from the same bytes."""

from __future__ import annotations

import io
import random
import struct
import warnings

import pydicom
import pytest
from pydicom.tag import Tag

from dicomrle.dicom import walk as _walk
from support.corpus import _folders

OK = _walk.OK
STATUS = {name: code for code, name in _walk.STATUS_NAMES.items()}
PIXEL_DATA = 0x7FE00010
# Tags of the elements that are not keywords of pydicom's dictionary.
SPECIAL = {"PixelDataGroupLength": 0x7FE00000}
META = {
    "FileMetaInformationVersion",
    "MediaStorageSOPClassUID",
    "MediaStorageSOPInstanceUID",
    "TransferSyntaxUID",
    "ImplementationClassUID",
}


def corpus_files() -> list:
    return [
        p for folder in _folders() for p in sorted(folder.rglob("*")) if p.is_file()
    ]


FILES = corpus_files()


def walk(data: bytes, size: int | None = None) -> tuple[int, dict]:
    return _walk.walk_file(data, len(data) if size is None else size)


def read(data: bytes) -> pydicom.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(io.BytesIO(data))


def tag_of(name: str) -> int:
    return SPECIAL.get(name) or int(Tag(name))


def assert_agrees(data: bytes, info: dict) -> None:
    """What the walker reported for `data` is what pydicom reads there."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # corrupted values
        _assert_agrees(data, info)


def _assert_agrees(data: bytes, info: dict) -> None:
    ds = read(data)
    assert str(ds.file_meta.TransferSyntaxUID) == "1.2.840.10008.1.2.1"
    for name in _walk.ELEMENTS:
        tag = tag_of(name)
        where = ds.file_meta if name in META else ds
        if name not in info:
            assert tag not in where, name
            continue
        _, offset, length, vr = info[name]
        raw = data[offset : offset + length]
        if name in META:
            element = where[tag]
            assert element.VR == vr
            value = element.value
            if isinstance(value, bytes):
                assert value == raw, name
            else:
                assert str(value) == raw.rstrip(b"\0 ").decode("ascii"), name
            assert offset + length <= info["meta_end"]
            continue
        element = where.get_item(tag)
        assert element is not None, name
        assert (element.value or b"") == raw, name
        assert element.VR == vr, name
        if hasattr(element, "value_tell"):
            assert element.value_tell == offset, name
    # Everything pydicom reads after the Pixel Data is in the tail.
    for tag in list(ds.keys()):
        tell = getattr(ds.get_item(tag), "value_tell", None)
        if tag > PIXEL_DATA and tell is not None:
            assert tell >= info["after_pixel"]


def test_the_corpus_is_there():
    statuses = {walk(p.read_bytes())[0] for p in FILES}
    assert OK in statuses and len(FILES) > 100


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_file(path):
    data = path.read_bytes()
    status, info = walk(data)
    assert status != _walk.NEED_MORE
    if status == OK:
        assert_agrees(data, info)
        tail_status, where = _walk.walk_tail(data[info["after_pixel"] :])
        assert tail_status == OK, (_walk.message(tail_status), where)
    else:
        # Refused: either pydicom also finds no plain Explicit VR Little
        # Endian Pixel Data in it, or it is one of the files the walker
        # refuses on purpose (see below).
        try:
            ds = read(data)
        except Exception:  # noqa: BLE001 - pydicom refuses it too
            return
        syntax = ds.file_meta.get("TransferSyntaxUID")
        plain = (
            syntax == "1.2.840.10008.1.2.1"
            and "PixelData" in ds
            and not ds["PixelData"].is_undefined_length
        )
        if plain:
            assert path.name in {"MR_truncated.dcm", "meta_missing_tsyntax.dcm"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_prefixes_and_truncations(path):
    """Walking from a prefix, asking for more as told, gives the same answer
    as the whole file; a file cut anywhere before the end of its Pixel Data
    is refused, and one cut after it agrees with pydicom."""
    data = path.read_bytes()
    whole = walk(data)
    available = min(len(data), 200)
    while (part := walk(data[:available], len(data)))[0] == _walk.NEED_MORE:
        assert len(data) >= part[1]["need"] > available
        available = part[1]["need"]
    assert part[0] == whole[0]
    if whole[0] == OK:
        assert part[1] == whole[1]
    end = whole[1]["after_pixel"] if whole[0] == OK else len(data)
    cuts = {n for n in range(0, len(data), max(1, len(data) // 40))}
    cuts |= {end - 1, end - 2, 131, 132, 133, 300}
    if whole[0] == OK:
        cuts |= {whole[1]["meta_end"] + k for k in (-1, 0, 1, 7, 8, 12)}
    for n in sorted(c for c in cuts if 0 <= c < len(data)):
        status, info = walk(data[:n])
        assert status != _walk.NEED_MORE
        if status == OK:
            assert n >= end
            assert_agrees(data[:n], info)


def opaque_values(data: bytes, start: int) -> list[tuple[int, int]]:
    """The value ranges of the top-level elements pydicom reads from
    `data` from `start` on, sequences left out: the bytes the walker copies
    uninterpreted."""
    from pydicom.filereader import data_element_generator

    fp = io.BytesIO(data)
    fp.seek(start)
    ranges = []
    for raw in data_element_generator(fp, False, True, defer_size=0):
        if raw.VR != "SQ" and raw.length != 0xFFFFFFFF:
            ranges.append((raw.value_tell, raw.value_tell + raw.length))
    return ranges


ACCEPTED = [p for p in FILES if walk(p.read_bytes())[0] == OK]


@pytest.mark.parametrize("path", ACCEPTED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corrupted_copies(path):
    """Bytes of the dataset changed at random: never a crash, and what is
    accepted agrees with pydicom, or pydicom fails on a value (a character
    set it does not know, say) that the walker rightly does not read."""
    data = path.read_bytes()
    status, info = walk(data)
    start, end = (
        info["meta_end"],
        min(info["after_pixel"], info["meta_end"] + (1 << 16)),
    )
    values = opaque_values(data, start)
    rng = random.Random(path.name)
    for _ in range(40):
        copy = bytearray(data)
        changed = [rng.randrange(start, end) for _ in range(rng.randint(1, 4))]
        for position in changed:
            copy[position] = rng.choice((0, 0xFF, rng.randrange(256)))
        status, info = walk(bytes(copy))
        assert status != _walk.NEED_MORE
        if status != OK:
            continue
        try:
            assert_agrees(bytes(copy), info)
        except AssertionError:
            raise
        except Exception as exc:  # noqa: BLE001 - pydicom fails to read it
            inside = all(any(a <= p < b for a, b in values) for p in changed)
            assert inside, f"pydicom: {exc!r}, but the walker accepts it"


# ------------------------------------------------------------- synthetic

LONG = {b"OB", b"OW", b"SQ", b"UN", b"UT", b"UC", b"UR", b"OD", b"OF", b"OL", b"OV"}
UNDEFINED = 0xFFFFFFFF


def element(tag: int, vr: bytes, value: bytes, length: int | None = None) -> bytes:
    length = len(value) if length is None else length
    head = struct.pack("<HH", tag >> 16, tag & 0xFFFF) + vr
    if vr in LONG:
        return head + struct.pack("<HI", 0, length) + value
    return head + struct.pack("<H", length) + value


def item(body: bytes, defined: bool = True) -> bytes:
    if defined:
        return struct.pack("<HHI", 0xFFFE, 0xE000, len(body)) + body
    return (
        struct.pack("<HHI", 0xFFFE, 0xE000, UNDEFINED)
        + body
        + struct.pack("<HHI", 0xFFFE, 0xE00D, 0)
    )


def sequence(tag: int, items: list[bytes], defined: bool = True) -> bytes:
    body = b"".join(items)
    if defined:
        return element(tag, b"SQ", body)
    return element(tag, b"SQ", body, UNDEFINED) + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)


SYNTAX = b"1.2.840.10008.1.2.1\0"
IMAGE = (
    element(0x00280002, b"US", struct.pack("<H", 1))
    + element(0x00280010, b"US", struct.pack("<H", 2))
    + element(0x00280011, b"US", struct.pack("<H", 4))
    + element(0x00280100, b"US", struct.pack("<H", 8))
)
PIXELS = element(PIXEL_DATA, b"OB", bytes(8))


def part10(dataset: bytes, syntax: bytes = SYNTAX) -> bytes:
    meta = element(0x00020001, b"OB", b"\0\1") + element(0x00020010, b"UI", syntax)
    meta = element(0x00020000, b"UL", struct.pack("<I", len(meta))) + meta
    return bytes(128) + b"DICM" + meta + dataset


def nested(depth: int, defined: bool) -> bytes:
    inner = element(0x00100010, b"PN", b"A^B ")
    for _ in range(depth):
        inner = sequence(0x00081140, [item(inner, defined)], defined)
    return inner


@pytest.mark.parametrize("defined", [True, False])
def test_depth_limit(defined):
    levels = _walk.MAX_DEPTH // 2
    data = part10(nested(levels, defined) + IMAGE + PIXELS)
    status, info = walk(data)
    assert status == OK
    assert_agrees(data, info)
    status, info = walk(part10(nested(levels + 1, defined) + IMAGE + PIXELS))
    assert status == STATUS["depth"]


@pytest.mark.parametrize(
    ("dataset", "expected"),
    [
        (IMAGE + element(PIXEL_DATA, b"OB", b"", UNDEFINED), "encapsulated"),
        (IMAGE + element(PIXEL_DATA, b"UN", bytes(8)), "pixel_vr"),
        (element(0x00100010, b"PN", b"ABC") + IMAGE + PIXELS, "odd_length"),
        (element(0x00100010, b"XX", b"AB") + IMAGE + PIXELS, "vr"),
        (element(0x00091010, b"UN", b"", UNDEFINED) + IMAGE + PIXELS, "undefined"),
        (element(0x00300010, b"PN", b"AB") + IMAGE + PIXELS, "order"),
        (element(0x00020001, b"OB", b"AB") + IMAGE + PIXELS, "meta"),
        (IMAGE, "no_pixel_data"),
        (IMAGE + element(PIXEL_DATA, b"OB", bytes(8), 10), "truncated"),
        (sequence(0x00081140, [element(0x00100010, b"PN", b"AB")]) + IMAGE, "item"),
        (IMAGE + PIXELS + b"\0\0", "ok"),  # PixelData found; the tail is walked apart
    ],
)
def test_refusals(dataset, expected):
    status, _ = walk(part10(dataset))
    assert _walk.STATUS_NAMES[status] == expected


def test_group_two_in_the_dataset_is_out_of_order():
    data = part10(b"") + element(0x00080016, b"UI", b"1.2\0")
    data += element(0x00020013, b"SH", b"AB") + IMAGE + PIXELS
    assert walk(data)[0] == STATUS["order"]


def test_other_syntaxes_are_refused():
    for uid in (
        b"1.2.840.10008.1.2\0",
        b"1.2.840.10008.1.2.2\0",
        b"1.2.840.10008.1.2.1.99",
    ):
        assert walk(part10(IMAGE + PIXELS, uid))[0] == STATUS["syntax"]


def test_tail():
    padding = element(0xFFFCFFFC, b"OB", bytes(6))
    data = part10(IMAGE + PIXELS) + padding
    status, info = walk(data)
    assert status == OK
    assert data[info["after_pixel"] :] == padding
    assert _walk.walk_tail(padding) == (OK, 0)
    assert _walk.walk_tail(b"") == (OK, 0)
    assert _walk.walk_tail(PIXELS)[0] == STATUS["order"]
    assert _walk.walk_tail(padding[:-1])[0] == STATUS["truncated"]
    assert_agrees(data, info)


def test_every_status_has_a_message():
    for code in _walk.STATUS_NAMES:
        assert _walk.message(code)


def test_rle_lossless_files_with_rle():
    """walk_file(rle=True), for reading back the copies dicomrle writes:
    RLE Lossless is taken too and its encapsulated Pixel Data reported;
    Explicit VR Little Endian files walk as without it."""
    rle = b"1.2.840.10008.1.2.5\0"
    value = element(0xFFFEE000, b"", b"") + element(0xFFFEE0DD, b"", b"")
    encapsulated = IMAGE + element(PIXEL_DATA, b"OB", b"", UNDEFINED)
    data = part10(encapsulated, rle) + value
    assert walk(data)[0] == STATUS["syntax"]
    status, info = _walk.walk_file(data, len(data), rle=True)
    assert status == STATUS["encapsulated"]
    header, offset, length, vr = info["PixelData"]
    assert (data[header:offset], offset, length, vr) == (
        element(PIXEL_DATA, b"OB", b"", UNDEFINED), len(data) - len(value), 0, "OB"
    )
    for dataset in (IMAGE + PIXELS, encapsulated, IMAGE):
        for syntax in (SYNTAX, rle):
            plain = part10(dataset, syntax)
            expected = walk(part10(dataset, SYNTAX))
            assert _walk.walk_file(plain, len(plain), rle=True) == expected
    for uid in (
        b"1.2.840.10008.1.2\0",
        b"1.2.840.10008.1.2.5.1\0",
        b"1.2.840.10008.1.2.4.50",
    ):
        other = part10(encapsulated, uid)
        assert _walk.walk_file(other, len(other), rle=True)[0] == STATUS["syntax"]


RLE_FILES = [
    p
    for p in FILES
    if "rle" in p.name.lower()
    and read(p.read_bytes()).file_meta.get("TransferSyntaxUID")
    == pydicom.uid.RLELossless
]


def test_the_rle_files_are_there():
    assert len(RLE_FILES) >= 10


@pytest.mark.parametrize("path", RLE_FILES, ids=lambda p: p.name)
def test_corpus_rle_files_with_rle(path):
    data = path.read_bytes()
    status, info = _walk.walk_file(data, len(data), rle=True)
    assert status == STATUS["encapsulated"]
    _, offset, _, vr = info["PixelData"]
    assert vr in ("OB", "OW")  # OW: as some writers have it
    assert data[offset : offset + 4] == b"\xfe\xff\x00\xe0"
    ds = read(data)
    assert data[offset:].startswith(ds.PixelData)  # then only the delimiter
    for name in ("Rows", "Columns", "BitsAllocated"):
        _, at, _, _ = info[name]
        assert int.from_bytes(data[at : at + 2], "little") == ds[name].value
