"""The pydicom plugin, called the pydicom 3.x way (through pydicom's own
encoder API) and the pydicom 2.x way (``encode_pixel_data(src, **kwargs)``)."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    UID,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLSLossless,
    RLELossless,
)

import dicomrle
from dicomrle import encode_frame
from dicomrle.plugin import ENCODER_DEPENDENCIES, encode_pixel_data, is_available
from support import decoders
from support.decoders import FRAME_DECODERS, PYDICOM_3

if PYDICOM_3:
    from pydicom.pixels.encoders import RLELosslessEncoder
else:
    from pydicom.encoders import RLELosslessEncoder

PLUGIN = "dicomrle"

@pytest.fixture(autouse=True, scope="module")
def registered():
    dicomrle.register()


def as_unsigned(arr: np.ndarray, rows: int, columns: int, samples: int) -> np.ndarray:
    """`arr` as frame decoders return it: (rows, columns, samples), unsigned."""
    arr = np.ascontiguousarray(arr).reshape(rows, columns, samples)
    return arr.view(arr.dtype.str.replace("i", "u"))


def check_frame(frame: bytes, expected: np.ndarray, segments: int | None = None):
    """Decode `frame` with both frame decoders and compare with `expected`
    of shape (rows, columns[, samples])."""
    rows, columns = expected.shape[:2]
    samples = expected.shape[2] if expected.ndim == 3 else 1
    bits = expected.dtype.itemsize * 8
    if segments is not None:
        assert int.from_bytes(frame[:4], "little") == segments
    for name, decode in FRAME_DECODERS.items():
        if name == "pylibjpeg-rle" and samples not in (1, 3):
            continue  # it decodes 1 or 3 samples only
        decoded = decode(frame, rows, columns, samples, bits)
        np.testing.assert_array_equal(
            decoded, as_unsigned(expected, rows, columns, samples), err_msg=name
        )


PLANAR_2X = pytest.mark.xfail(
    not PYDICOM_3,
    strict=True,
    reason="pydicom 2.x passes no Planar Configuration to plugins, so a planar "
    "dataset reads as pixel-interleaved unless the caller passes "
    "planar_configuration (README; tested below) or uses dicomrle.compress",
)
FILES = [
    "CT_small.dcm",
    pytest.param("color-pl.dcm", marks=PLANAR_2X),  # Planar Configuration 1
    "color-px.dcm",
    "SC_rgb_16bit.dcm",
    "MR_small.dcm",
]


def read(name: str) -> pydicom.Dataset:
    return pydicom.dcmread(get_testdata_file(name))


# (a) pydicom's own API on pydicom's test files.


@pytest.mark.parametrize("name", FILES)
def test_encoder_encode(name):
    ds = read(name)
    frame = RLELosslessEncoder.encode(ds, encoding_plugin=PLUGIN)
    check_frame(frame, ds.pixel_array, ds.SamplesPerPixel * ds.BitsAllocated // 8)


@pytest.mark.parametrize(
    "name", [*FILES, "SC_rgb_2frame.dcm", "SC_rgb_16bit_2frame.dcm"]
)
def test_encoder_iter_encode(name):
    ds = read(name)
    frames = list(RLELosslessEncoder.iter_encode(ds, encoding_plugin=PLUGIN))
    expected = ds.pixel_array
    count = int(ds.get("NumberOfFrames") or 1)
    assert len(frames) == count
    if count == 1:
        expected = expected[None]
    for frame, pixels in zip(frames, expected):
        check_frame(frame, pixels)


@pytest.mark.parametrize("name", FILES)
def test_dataset_compress(name, tmp_path):
    ds = read(name)
    expected = ds.pixel_array.copy()
    ds.compress(RLELossless, encoding_plugin=PLUGIN)
    path = tmp_path / name
    ds.save_as(path)
    out = pydicom.dcmread(path)
    assert out.file_meta.TransferSyntaxUID == RLELossless
    np.testing.assert_array_equal(out.pixel_array, expected)
    np.testing.assert_array_equal(decoders.decode_file_pylibjpeg(path), expected)


def test_dataset_compress_matches_encode_frame():
    """What pydicom stores is exactly the plugin's frame."""
    ds = read("SC_rgb_16bit.dcm")
    frame = encode_frame(ds.PixelData, rows=ds.Rows, columns=ds.Columns,
                         samples_per_pixel=3, bits_allocated=16)
    ds.compress(RLELossless, encoding_plugin=PLUGIN)
    if PYDICOM_3:
        from pydicom.encaps import generate_frames

        stored = list(generate_frames(ds.PixelData, number_of_frames=1))
    else:
        from pydicom.encaps import generate_pixel_data_frame

        stored = list(generate_pixel_data_frame(ds.PixelData, 1))
    assert stored == [frame]


# (b) The pydicom 2.x call: encode_pixel_data(src, **kwargs).


def kwargs_2x(arr: np.ndarray, *, bits_stored=None, photometric=None, **extra) -> dict:
    """Exactly the keyword arguments of the pydicom 2.x plugin contract."""
    samples = arr.shape[2] if arr.ndim == 3 else 1
    return dict(
        transfer_syntax_uid=RLELossless,
        byteorder="<",
        rows=arr.shape[0],
        columns=arr.shape[1],
        samples_per_pixel=samples,
        number_of_frames=1,
        bits_allocated=arr.dtype.itemsize * 8,
        bits_stored=bits_stored or arr.dtype.itemsize * 8,
        pixel_representation=int(arr.dtype.kind == "i"),
        photometric_interpretation=(
            photometric or ("RGB" if samples == 3 else "MONOCHROME2")
        ),
        **extra,
    )


RNG = np.random.default_rng(7)
ARRAYS_2X = {
    "u8": RNG.integers(0, 256, (11, 13), dtype=np.uint8),
    "i16-12bit": RNG.integers(-2048, 2048, (11, 13), dtype=np.int16),
    "u16": RNG.integers(0, 4, (11, 13), dtype=np.uint16) * 0x1001,
    "rgb8": RNG.integers(0, 256, (11, 13, 3), dtype=np.uint8),
    "rgb16": RNG.integers(0, 65536, (11, 13, 3), dtype=np.uint16),
    "u32": RNG.integers(0, 2**32, (11, 13), dtype=np.uint32),
}


@pytest.mark.parametrize("key", list(ARRAYS_2X))
def test_kwargs_call_equals_encode_frame(key):
    arr = ARRAYS_2X[key]
    kwargs = kwargs_2x(arr, bits_stored=12 if key == "i16-12bit" else None)
    expected = encode_frame(arr.tobytes(), rows=arr.shape[0], columns=arr.shape[1],
                            samples_per_pixel=kwargs["samples_per_pixel"],
                            bits_allocated=kwargs["bits_allocated"])
    assert encode_pixel_data(arr.tobytes(), **kwargs) == expected
    check_frame(expected, arr)


@pytest.mark.parametrize("bits", [8, 16])
def test_kwargs_call_planar_configuration_1(bits):
    arr = ARRAYS_2X[f"rgb{bits}"]
    planar = np.ascontiguousarray(arr.transpose(2, 0, 1)).tobytes()
    frame = encode_pixel_data(planar, **kwargs_2x(arr, planar_configuration=1))
    assert frame == encode_frame(planar, rows=11, columns=13, samples_per_pixel=3,
                                 bits_allocated=bits, planar_configuration=1)
    check_frame(frame, arr)


def test_kwargs_call_big_endian():
    arr = ARRAYS_2X["rgb16"]
    src = arr.astype(">u2").tobytes()
    frame = encode_pixel_data(src, **{**kwargs_2x(arr), "byteorder": ">"})
    assert frame == encode_frame(arr.tobytes(), rows=11, columns=13,
                                 samples_per_pixel=3, bits_allocated=16)


def test_kwargs_call_ignores_trailing_padding():
    arr = ARRAYS_2X["u8"]
    assert encode_pixel_data(arr.tobytes() + b"\x00", **kwargs_2x(arr)) == encode_frame(
        arr, rows=11, columns=13, samples_per_pixel=1, bits_allocated=8
    )


@pytest.mark.skipif(PYDICOM_3, reason="pydicom 2.x encoder API")
@pytest.mark.parametrize("key", [k for k, a in ARRAYS_2X.items() if a.itemsize <= 2])
def test_pydicom_2x_encoder_array(key):
    """(pydicom 2.x refuses Bits Allocated 32 for RLE Lossless.)"""
    arr = ARRAYS_2X[key]
    frame = RLELosslessEncoder.encode(arr, encoding_plugin=PLUGIN, **kwargs_2x(arr))
    check_frame(frame, arr)


@pytest.mark.skipif(PYDICOM_3, reason="pydicom 2.x passes only the given kwargs")
def test_pydicom_2x_compress_planar_with_explicit_option(tmp_path):
    """The pydicom 2.x workaround: say the planar configuration."""
    ds = read("color-pl.dcm")
    expected = ds.pixel_array.copy()
    ds.compress(RLELossless, encoding_plugin=PLUGIN, planar_configuration=1)
    ds.save_as(tmp_path / "out.dcm")
    np.testing.assert_array_equal(pydicom.dcmread(tmp_path / "out.dcm").pixel_array,
                                  expected)


# (c) pydicom 3.0 passes samples in the smallest container for Bits Stored.


def make_dataset(stored: np.ndarray, *, bits_allocated: int, bits_stored: int,
                 signed: bool, planar: int = 0) -> Dataset:
    """An uncompressed dataset whose Pixel Data is `stored`, (rows, columns
    [, samples]), written in planar configuration `planar`."""
    samples = stored.shape[2] if stored.ndim == 3 else 1
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.Rows, ds.Columns = stored.shape[:2]
    ds.SamplesPerPixel = samples
    ds.PhotometricInterpretation = "RGB" if samples == 3 else "MONOCHROME2"
    if samples > 1:
        ds.PlanarConfiguration = planar
    ds.BitsAllocated = bits_allocated
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = int(signed)
    data = np.ascontiguousarray(stored.transpose(2, 0, 1) if planar else stored)
    ds.PixelData = data.astype(f"<u{bits_allocated // 8}").tobytes()
    ds["PixelData"].VR = "OW"
    return ds


def options(arr: np.ndarray, bits_stored: int, **extra) -> dict:
    samples = arr.shape[2] if arr.ndim == 3 else 1
    return dict(
        rows=arr.shape[0], columns=arr.shape[1], samples_per_pixel=samples,
        number_of_frames=1, bits_allocated=arr.dtype.itemsize * 8,
        bits_stored=bits_stored, pixel_representation=int(arr.dtype.kind == "i"),
        photometric_interpretation="RGB" if samples == 3 else "MONOCHROME2",
        **extra,
    )


GREY_U8_IN_16 = RNG.integers(0, 256, (9, 17), dtype=np.uint16)
GREY_I8_IN_16 = RNG.integers(-128, 128, (9, 17), dtype=np.int16)
RGB_U8_IN_16 = RNG.integers(0, 256, (9, 17, 3), dtype=np.uint16)
U12_IN_32 = RNG.integers(0, 4096, (9, 17), dtype=np.uint32)
I12_IN_32 = RNG.integers(-2048, 2048, (9, 17), dtype=np.int32)
pytest_3x = pytest.mark.skipif(not PYDICOM_3, reason="pydicom 3.x narrows samples")


@pytest_3x
@pytest.mark.parametrize(
    ("arr", "bits_stored", "planar"),
    [
        (GREY_U8_IN_16, 8, 0),
        (GREY_I8_IN_16, 8, 0),
        (RGB_U8_IN_16, 8, 0),
        (RGB_U8_IN_16, 8, 1),
        (GREY_I8_IN_16 // 2, 7, 0),
    ],
    ids=["grey-unsigned", "grey-signed", "rgb", "rgb-planar", "grey-signed-7bit"],
)
def test_smallest_container_dataset(arr, bits_stored, planar):
    assert (arr < 0).any() or arr.dtype.kind == "u"
    ds = make_dataset(arr, bits_allocated=16, bits_stored=bits_stored,
                      signed=arr.dtype.kind == "i", planar=planar)
    (frame,) = RLELosslessEncoder.iter_encode(ds, encoding_plugin=PLUGIN)
    check_frame(frame, arr, segments=2 * ds.SamplesPerPixel)


@pytest_3x
def test_smallest_container_sign_extends_unextended_data():
    """Signed 8-bit samples stored without their sign in the high byte come
    out sign-extended to 16 bits."""
    ds = make_dataset(GREY_I8_IN_16.view(np.uint16) & 0xFF, bits_allocated=16,
                      bits_stored=8, signed=True)
    np.testing.assert_array_equal(ds.pixel_array, GREY_I8_IN_16)  # pydicom agrees
    (frame,) = RLELosslessEncoder.iter_encode(ds, encoding_plugin=PLUGIN)
    check_frame(frame, GREY_I8_IN_16, segments=2)


@pytest_3x
@pytest.mark.parametrize("arr", [GREY_U8_IN_16, GREY_I8_IN_16, RGB_U8_IN_16],
                         ids=["grey-unsigned", "grey-signed", "rgb"])
def test_smallest_container_array(arr):
    (frame,) = RLELosslessEncoder.iter_encode(arr, encoding_plugin=PLUGIN,
                                              **options(arr, 8, planar_configuration=0))
    check_frame(frame, arr, segments=2 * (arr.shape[2] if arr.ndim == 3 else 1))


@pytest_3x
@pytest.mark.parametrize("arr", [U12_IN_32, I12_IN_32], ids=["unsigned", "signed"])
@pytest.mark.parametrize("source", ["dataset", "array"])
def test_smallest_container_32_bit(arr, source):
    """Bits Stored 12 of 32: a 2-byte container, 4 segments. pydicom's RLE
    profile refuses 32 bits, hence validate=False."""
    if source == "dataset":
        src = make_dataset(arr, bits_allocated=32, bits_stored=12,
                           signed=arr.dtype.kind == "i")
        kwargs = {}
    else:
        src, kwargs = arr, options(arr, 12)
    (frame,) = RLELosslessEncoder.iter_encode(src, encoding_plugin=PLUGIN,
                                              validate=False, **kwargs)
    check_frame(frame, arr, segments=4)


@pytest.mark.parametrize(
    ("arr", "bits_allocated", "container"),
    [
        (GREY_U8_IN_16, 16, "u1"),
        (GREY_I8_IN_16, 16, "i1"),
        (RGB_U8_IN_16, 16, "u1"),
        (U12_IN_32, 32, "<u2"),
        (I12_IN_32, 32, "<i2"),
        (I12_IN_32, 64, "<i2"),
        (U12_IN_32, 64, "<u4"),
    ],
    ids=["u8-16", "i8-16", "rgb8-16", "u12-32", "i12-32", "i12-64", "u12-64-in-4"],
)
def test_kwargs_call_narrow_src(arr, bits_allocated, container):
    """A src of fewer bytes per sample than Bits Allocated is widened, with the
    sign for signed data; the container follows from the length of src."""
    src = arr.astype(container).tobytes()
    kwargs = kwargs_2x(arr, bits_stored=8 if container[-1] == "1" else 12)
    kwargs["bits_allocated"] = bits_allocated
    frame = encode_pixel_data(src, **kwargs)
    wide = arr.astype(f"{arr.dtype.kind}{bits_allocated // 8}")
    check_frame(frame, wide, segments=kwargs["samples_per_pixel"] * bits_allocated // 8)


# (d) Registration and availability.


def test_register_twice_is_harmless():
    dicomrle.register()
    dicomrle.register()
    arr = ARRAYS_2X["u8"]
    frame = RLELosslessEncoder.encode(arr, encoding_plugin=PLUGIN, **kwargs_2x(arr))
    assert frame == encode_frame(arr, rows=11, columns=13, samples_per_pixel=1,
                                 bits_allocated=8)


@pytest.mark.parametrize("label", ["gdcm", "pydicom", "pylibjpeg"])
def test_register_label_of_another_plugin(label):
    with pytest.raises(ValueError, match=label):
        dicomrle.register(label)


def test_register_other_label():
    label = "dicomrle-test-label"
    dicomrle.register(label)
    try:
        dicomrle.register(label)
        arr = ARRAYS_2X["u8"]
        frame = RLELosslessEncoder.encode(arr, encoding_plugin=label, **kwargs_2x(arr))
        assert frame == encode_frame(arr, rows=11, columns=13, samples_per_pixel=1,
                                     bits_allocated=8)
    finally:
        RLELosslessEncoder.remove_plugin(label)


@pytest.mark.parametrize(
    "uid", [RLELossless, str(RLELossless), UID("1.2.840.10008.1.2.5")]
)
def test_is_available(uid):
    assert is_available(uid) is True


@pytest.mark.parametrize("uid", [ExplicitVRLittleEndian, JPEG2000Lossless,
                                 JPEGLSLossless, "1.2.3", ""])
def test_is_not_available(uid):
    assert is_available(uid) is False


def test_encoder_dependencies():
    assert list(ENCODER_DEPENDENCIES) == [RLELossless]


# (e) An array source, whatever the dataset's Planar Configuration says.


def test_compress_array_with_planar_dataset(tmp_path):
    ds = read("color-pl.dcm")
    assert ds.PlanarConfiguration == 1
    arr = ds.pixel_array.copy()  # (rows, columns, 3), pixel-interleaved
    ds.compress(RLELossless, arr, encoding_plugin=PLUGIN)
    ds.save_as(tmp_path / "out.dcm")
    out = pydicom.dcmread(tmp_path / "out.dcm")
    np.testing.assert_array_equal(out.pixel_array, arr)


@pytest.mark.skipif(not PYDICOM_3, reason="pydicom 2.x cannot tell an array source")
@pytest.mark.parametrize("bits", [8, 16])
def test_encode_array_with_planar_option(bits):
    arr = ARRAYS_2X[f"rgb{bits}"]
    frame = RLELosslessEncoder.encode(arr, encoding_plugin=PLUGIN,
                                      **options(arr, bits, planar_configuration=1))
    check_frame(frame, arr)


# (f) Our decoding plugin through pydicom's own entry points, on datasets
# whose layout the plugin must describe: colour whose dataset says Planar
# Configuration 0 (as dicomrle.compress writes) or 1 (as other RLE writers
# have), returned by pixel either way, and single-bit frames returned a byte
# per pixel. pydicom 3.1 reads each frame's layout from frame options set
# from the dataset.
@pytest.mark.skipif(not PYDICOM_3, reason="decoding plugins are new in pydicom 3")
@pytest.mark.parametrize(
    ("name", "planar"),
    [
        ("SC_rgb.dcm", 0),
        ("SC_rgb.dcm", 1),
        ("SC_rgb_16bit_2frame.dcm", 0),
        ("SC_rgb_16bit_2frame.dcm", 1),
        ("liver_1frame.dcm", None),
        ("liver.dcm", None),
    ],
)
def test_decoding_plugin_describes_its_frames(name, planar):
    from pydicom.pixels import iter_pixels, pixel_array

    from support.corpus import find

    dicomrle.register()
    expected = pydicom.dcmread(find(name)).pixel_array
    ds = dicomrle.compress(pydicom.dcmread(find(name)))
    if planar is not None:
        assert ds.PlanarConfiguration == 0
        ds.PlanarConfiguration = planar
    frames = int(ds.get("NumberOfFrames") or 1)
    per_frame = list(expected) if frames > 1 else [expected]
    opts = {"decoding_plugin": "dicomrle"}
    assert np.array_equal(pixel_array(ds, **opts), expected)
    for index in range(frames):
        got = pixel_array(ds, index=index, **opts)
        assert np.array_equal(got, per_frame[index]), index
    got_all = list(iter_pixels(ds, **opts))
    assert len(got_all) == frames
    assert all(np.array_equal(a, b) for a, b in zip(got_all, per_frame, strict=True))
    if ds.BitsAllocated == 1 and pydicom.__version__.startswith("3.0."):
        return  # pydicom 3.0's decompress stores single-bit frames unpacked
    ds.decompress(generate_instance_uid=False, as_rgb=False, **opts)
    assert np.array_equal(ds.pixel_array, expected)
