"""Bits Allocated 1: each pixel of a single-bit frame becomes one byte, 0 or
1, of the frame's one segment (PS3.5 G.2, the Padded Composite Pixel Code),
for monochrome data only (PS3.5 Table 8.2.2-1).

The decoder is pylibjpeg-rle (2.2 or later), called directly and through
pydicom 3's pylibjpeg plugin. DCMTK 3.6.7 and GDCM refuse single-bit RLE
("The RLE decoder only supports images where BitsAllocated is a multiple
of 8"), and pydicom's own decoder too, so none of them can check it.
"""

from __future__ import annotations

import copy
import re
import struct
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, RLELossless

import dicomrle
from dicomrle import plugin
from dicomrle.dicom.compress import write_dataset
from dicomrle.dicom.files import WRITTEN, compress_file
from support.corpus import find
from support.decoders import PYDICOM_3, decode_file_pydicom, require, require_tool

SEGMENTATION = "1.2.840.10008.5.1.4.1.1.66.4"


pytestmark = pytest.mark.usefixtures("frame_per_job")


def decode_frame(frame: bytes, rows: int, columns: int) -> np.ndarray:
    """pylibjpeg-rle's decoding of a single-bit frame, one byte per pixel."""
    try:
        from rle.utils import decode_frame as rle_decode_frame
    except ImportError:
        require(False, "pylibjpeg-rle")
    data = rle_decode_frame(frame, rows * columns, 1, "<")
    return np.frombuffer(bytes(data), np.uint8).reshape(rows, columns)


def frames_of(value: bytes, count: int) -> list[bytes]:
    try:
        from pydicom.encaps import generate_frames  # pydicom 3

        return list(generate_frames(value, number_of_frames=count))
    except ImportError:
        from pydicom.encaps import generate_pixel_data_frame

        return list(generate_pixel_data_frame(value, count))


def assert_encodes(ds: Dataset, expected: np.ndarray) -> None:
    """`ds` after ``dicomrle.compress``: single-bit RLE frames, each one
    segment, that decode to `expected` (frames, rows, columns)."""
    frames, rows, columns = expected.shape
    assert ds.file_meta.TransferSyntaxUID == RLELossless
    assert ds.BitsAllocated == 1
    got = frames_of(ds.PixelData, frames)
    assert len(got) == frames
    for i, frame in enumerate(got):
        assert struct.unpack_from("<2I", frame) == (1, 64), "one segment at 64"
        np.testing.assert_array_equal(decode_frame(frame, rows, columns), expected[i])


def single_bit(bits: np.ndarray, *, big_endian: bool = False, vr: str = "OB") -> Dataset:
    """A single-bit Segmentation dataset of `bits` (frames, rows, columns),
    packed as PS3.5 8.1.1 says: frames not padded, pixel k in bit k % 8 of
    byte k // 8, the value padded to even length; OW in big endian swaps
    the bytes of each 16-bit word."""
    frames, rows, columns = bits.shape
    packed = np.packbits(bits.reshape(-1), bitorder="little")
    if packed.size % 2:
        packed = np.append(packed, np.uint8(0))
    if big_endian and vr == "OW":
        packed = packed.view("<u2").astype(">u2").view(np.uint8)
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRBigEndian if big_endian else ExplicitVRLittleEndian
    ds.SOPClassUID = SEGMENTATION
    ds.SOPInstanceUID = pydicom.uid.generate_uid()
    ds.Rows, ds.Columns = rows, columns
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 1, 1, 0
    ds.PixelRepresentation = 0
    ds.NumberOfFrames = frames
    ds.PixelData = packed.tobytes()
    ds["PixelData"].VR = vr
    return ds


CORPUS = ["liver.dcm", "liver_expb.dcm", "liver_1frame.dcm", "liver_expb_1frame.dcm"]


@pytest.mark.parametrize("name", CORPUS)
def test_corpus_round_trip(name, tmp_path):
    ds = pydicom.dcmread(find(name))
    expected = ds.pixel_array.reshape(-1, ds.Rows, ds.Columns)
    assert expected.max() == 1 and expected.min() == 0
    path = tmp_path / "rle.dcm"
    write_dataset(path, dicomrle.compress(ds, threads=2))
    out = pydicom.dcmread(path)
    assert_encodes(out, expected)
    assert out.SOPInstanceUID == ds.SOPInstanceUID
    decoded = decode_file_pydicom(path, "pylibjpeg")
    np.testing.assert_array_equal(decoded.reshape(expected.shape), expected)


@st.composite
def bit_frames(draw: st.DrawFn) -> np.ndarray:
    """Frames whose pixel counts are rarely a multiple of 8, of runs and
    isolated pixels."""
    frames = draw(st.integers(1, 6))
    rows = draw(st.integers(1, 12))
    columns = draw(st.integers(1, 140))
    size = frames * rows * columns
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    runs = rng.geometric(draw(st.sampled_from([0.02, 0.3, 0.9])), size=size)
    values = np.repeat(np.arange(runs.size) % 2, runs)[:size]
    return values.astype(np.uint8).reshape(frames, rows, columns)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bits=bit_frames(), threads=st.sampled_from([1, 3]))
def test_frames_at_any_bit_offset(bits, threads):
    ds = dicomrle.compress(single_bit(bits), threads=threads)
    assert_encodes(ds, bits)
    # Each frame is the RLE of its pixels as bytes, the same as encode_array's.
    assert frames_of(ds.PixelData, len(bits)) == dicomrle.encode_array(bits.astype(bool))


def test_runs_across_byte_and_frame_boundaries():
    # 129-pixel rows: runs of 127/128/129/130 split over bytes and frames.
    rows = [np.zeros(129, np.uint8) for _ in range(4)]
    rows[1][:128] = 1
    rows[2][1:131] = 1
    rows[3][::2] = 1
    bits = np.stack([np.stack(rows), np.stack(rows[::-1])])
    assert_encodes(dicomrle.compress(single_bit(bits)), bits)


def write_big_endian(ds: Dataset, path: Path) -> Path:
    if PYDICOM_3:
        pydicom.dcmwrite(
            path, ds, implicit_vr=False, little_endian=False, enforce_file_format=True
        )
    else:
        ds.is_little_endian, ds.is_implicit_VR = False, False
        pydicom.dcmwrite(path, ds, write_like_original=False)
    return path


@pytest.mark.parametrize("vr", ["OB", "OW"])
def test_big_endian(vr, tmp_path):
    bits = np.random.default_rng(7).integers(0, 2, (3, 4, 16), dtype=np.uint8)
    path = write_big_endian(single_bit(bits, big_endian=True, vr=vr), tmp_path / "be.dcm")
    # DCMTK's reading of the source is the reference: it swaps OW words
    # (PS3.5 7.3), which pydicom 3.0 does not for single-bit data.
    little = tmp_path / "le.dcm"
    subprocess.run([require_tool("dcmconv"), "+te", str(path), str(little)], check=True)
    np.testing.assert_array_equal(pydicom.dcmread(little).pixel_array.reshape(bits.shape), bits)
    assert_encodes(dicomrle.compress(pydicom.dcmread(path)), bits)


def test_odd_pixel_data_length_without_padding():
    bits = np.ones((1, 3, 3), np.uint8)
    ds = single_bit(bits)
    ds.PixelData = ds.PixelData[:2]  # 9 bits: 2 bytes, as an odd value would be
    assert_encodes(dicomrle.compress(ds), bits)


def _coloured() -> Dataset:
    ds = single_bit(np.zeros((1, 4, 4), np.uint8))
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = "RGB"
    ds.PlanarConfiguration = 0
    ds.PixelData = b"\x00" * 6
    return ds


def _palette() -> Dataset:
    ds = single_bit(np.zeros((1, 4, 4), np.uint8))
    ds.PhotometricInterpretation = "PALETTE COLOR"
    return ds


def _short() -> Dataset:
    ds = single_bit(np.zeros((3, 5, 5), np.uint8))  # 75 bits: 10 bytes
    ds.PixelData = ds.PixelData[:8]
    return ds


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_coloured, r"Bits Allocated 1 needs Samples per Pixel 1, not 3"),
        (_palette, r"MONOCHROME1 and MONOCHROME2, not PALETTE COLOR"),
        (_short, r"holds 8 bytes, .* need 10"),
    ],
    ids=["three-samples", "palette", "short"],
)
def test_clear_errors(make, message):
    ds = make()
    before = copy.deepcopy(ds)
    with pytest.raises(ValueError, match=message):
        dicomrle.compress(ds)
    assert ds == before


def test_encode_array_bool_and_integers():
    bits = np.random.default_rng(1).integers(0, 2, (4, 9, 11), dtype=np.uint8)
    frames = dicomrle.encode_array(bits.astype(bool), threads=2)
    for frame, expected in zip(frames, bits):
        np.testing.assert_array_equal(decode_frame(frame, 9, 11), expected)
    for dtype in ("<u2", ">i4", "u1"):
        assert dicomrle.encode_array(bits.astype(dtype), bits_allocated=1) == frames


@settings(max_examples=60, deadline=None)
@given(bits=bit_frames(), junk=st.binary(max_size=3))
def test_encode_frame_takes_packed_frames(bits, junk):
    frame = bits[0]
    rows, columns = frame.shape
    packed = np.packbits(frame.reshape(-1), bitorder="little").tobytes()
    out = dicomrle.encode_frame(
        packed + junk, rows=rows, columns=columns, samples_per_pixel=1,
        bits_allocated=np.int64(1),
    )
    np.testing.assert_array_equal(decode_frame(out, rows, columns), frame)
    assert out == dicomrle.encode_array(frame.astype(bool))[0]


@pytest.mark.parametrize(
    ("src", "options", "message"),
    [
        (bytes(1), {"rows": 3, "columns": 3}, "holds 1 bytes, .* needs 2"),
        (bytes(2), {"samples_per_pixel": 3}, "Samples per Pixel 1, not 3"),
        (bytes(2), {"rows": 0}, "'rows' must be between 1 and 65535"),
    ],
    ids=["short", "three-samples", "no-rows"],
)
def test_encode_frame_errors(src, options, message):
    kwargs = {"rows": 2, "columns": 2, "samples_per_pixel": 1, "bits_allocated": 1}
    with pytest.raises(ValueError, match=message):
        dicomrle.encode_frame(src, **{**kwargs, **options})


PLUGIN_OPTIONS = {
    "rows": 7,
    "columns": 13,
    "samples_per_pixel": 1,
    "bits_allocated": 1,
    "bits_stored": 1,
    "pixel_representation": 0,
    "photometric_interpretation": "MONOCHROME2",
    "number_of_frames": 1,
}


def plugin_frames() -> tuple[np.ndarray, dict[str, bytes]]:
    """A 7 x 13 single-bit frame as the plugin may be given it."""
    bits = np.random.default_rng(2).integers(0, 2, (7, 13), dtype=np.uint8)
    packed = np.packbits(bits.reshape(-1), bitorder="little").tobytes()
    return bits, {
        "packed": packed,
        "packed and padded": packed + b"\x00",
        "one byte a pixel": bits.tobytes(),
        "one byte a pixel and padded": bits.tobytes() + b"\x00",
    }


def test_plugin_pydicom_2_call():
    bits, sources = plugin_frames()
    for name, src in sources.items():
        out = plugin.encode_pixel_data(src, **PLUGIN_OPTIONS)
        np.testing.assert_array_equal(decode_frame(out, 7, 13), bits, err_msg=name)


@pytest.mark.skipif(not PYDICOM_3, reason="pydicom 3's EncodeRunner")
def test_plugin_pydicom_3_runner():
    from pydicom.pixels.encoders.base import EncodeRunner

    bits, sources = plugin_frames()
    for name, src in sources.items():
        runner = EncodeRunner(RLELossless)
        runner.set_options(**PLUGIN_OPTIONS)
        runner.set_source(src)
        out = plugin.encode_pixel_data(src, runner)
        np.testing.assert_array_equal(decode_frame(out, 7, 13), bits, err_msg=name)


@pytest.mark.parametrize(
    ("src", "message"),
    [(bytes(11), "holds 11 bytes, .* needs 12"), (b"\x02" * 91, "other than 0 and 1")],
    ids=["short", "not-bits"],
)
def test_plugin_errors(src, message):
    with pytest.raises(ValueError, match=message):
        plugin.encode_pixel_data(src, **PLUGIN_OPTIONS)


@pytest.mark.parametrize(
    ("arr", "options", "message"),
    [
        (np.array([[0, 2]]), {"bits_allocated": 1}, "0 or 1"),
        (np.array([[0, -1]]), {"bits_allocated": 1}, "0 or 1"),
        (np.zeros((2, 2), bool), {"bits_allocated": 8}, "must be 1"),
        (np.zeros((2, 2, 3), bool), {"samples_per_pixel": 3}, "Samples per Pixel 1, not 3"),
    ],
    ids=["two", "negative", "bool-as-8", "three-samples"],
)
def test_encode_array_errors(arr, options, message):
    with pytest.raises(ValueError, match=message):
        dicomrle.encode_array(arr, **options)


def test_compress_file_with_verify(tmp_path):
    dst = tmp_path / "out.dcm"
    result = compress_file(find("liver.dcm"), dst, verify=True)
    assert result.status == WRITTEN, result.reason
    assert pydicom.dcmread(dst).file_meta.TransferSyntaxUID == RLELossless


def test_dicomrle_output_refused_by_dcmtk_and_gdcm_today(tmp_path):
    """Why this file checks with pylibjpeg-rle alone: the other decoders
    refuse single-bit RLE. When one of them learns it, this fails, and it
    should join the checks above."""
    path = tmp_path / "rle.dcm"
    write_dataset(path, dicomrle.compress(pydicom.dcmread(find("liver_1frame.dcm"))))
    for tool in (["dcmdrle"], ["gdcmconv", "--raw"]):
        out = tmp_path / f"{tool[0]}.dcm"
        result = subprocess.run(
            [require_tool(tool[0]), *tool[1:], str(path), str(out)],
            capture_output=True,
            text=True,
            check=False,
        )
        made = out.exists() and out.stat().st_size > 0
        assert result.returncode != 0 or not made, f"{tool[0]} decodes it now"
        assert re.search(r"multiple of 8|BitsAllocated\(\) == 8", result.stderr), result.stderr
