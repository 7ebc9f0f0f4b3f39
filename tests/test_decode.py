"""The decoder's Python layer: decode_frame round trips, the pydicom 3
plugin and register(), the pydicom 2.4 handler, and datasets that compress
and decompress leave writable with a plain save_as."""

from __future__ import annotations

import io

import numpy as np
import pydicom
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydicom.uid import ExplicitVRLittleEndian, RLELossless

import dicomrle
from support.corpus import find
from support.decoders import PYDICOM_3

ORDERS = ("<", ">")


@st.composite
def frames(draw):
    """A frame of every kind encode_frame takes, and its parameters."""
    bits = draw(st.sampled_from([1, 8, 16, 32, 64]))
    size = max(bits // 8, 1)
    samples = 1 if bits == 1 else draw(st.integers(1, 15 // size))
    rows, columns = draw(st.integers(1, 12)), draw(st.integers(1, 40))
    params = {
        "rows": rows,
        "columns": columns,
        "samples_per_pixel": samples,
        "bits_allocated": bits,
        "byteorder": draw(st.sampled_from(ORDERS)),
        "planar_configuration": draw(st.sampled_from([0, 1])),
    }
    length = -(-rows * columns // 8) if bits == 1 else rows * columns * samples * size
    runny = draw(st.booleans())
    alphabet = st.sampled_from([0, 1, 255]) if runny else st.integers(0, 255)
    data = bytes(draw(st.lists(alphabet, min_size=length, max_size=length)))
    if bits == 1 and (rows * columns) % 8:
        # Bits past the last pixel are not part of the frame.
        keep = (1 << (rows * columns) % 8) - 1
        data = data[:-1] + bytes([data[-1] & keep])
    return data, params


@settings(max_examples=300, deadline=None)
@given(frames())
def test_decode_frame_inverts_encode_frame(case):
    data, params = case
    assert (
        dicomrle.decode_frame(dicomrle.encode_frame(data, **params), **params) == data
    )


def test_lsb_first_reads_segments_in_reverse():
    arr = np.arange(60, dtype="<u2").reshape(6, 10) * 257 + 3
    params = dict(rows=6, columns=10, samples_per_pixel=1, bits_allocated=16)
    frame = bytearray(dicomrle.encode_frame(arr.tobytes(), **params))
    # Swap the two segments' offsets: the LSB segment comes first.
    frame[4:8], frame[8:12] = frame[8:12], frame[4:8]
    swapped = bytes(frame[:4]) + bytes(frame[4:12]) + bytes(frame[12:])
    with pytest.raises(ValueError, match="not after"):
        dicomrle.decode_frame(swapped, **params)
    lsb = dicomrle.encode_frame(arr.byteswap().tobytes(), **params)
    assert dicomrle.decode_frame(lsb, lsb_first=True, **params) == arr.tobytes()


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(rows=0), "'rows' must be between 1 and 65535"),
        (dict(bits_allocated=12), "'bits_allocated' must be 8, 16, 32 or 64"),
        (dict(byteorder="="), "'byteorder' must be '<' or '>'"),
        (dict(bits_allocated=1, samples_per_pixel=3), "Samples per Pixel 1"),
    ],
)
def test_decode_frame_names_a_bad_parameter(params, message):
    base = dict(rows=4, columns=4, samples_per_pixel=1, bits_allocated=8)
    with pytest.raises(ValueError, match=message):
        dicomrle.decode_frame(bytes(80), **{**base, **params})


def test_single_bit_values_other_than_0_and_1_are_refused():
    params = dict(rows=1, columns=8, samples_per_pixel=1, bits_allocated=8)
    frame = dicomrle.encode_frame(bytes([0, 1, 2, 1, 0, 0, 0, 1]), **params)
    with pytest.raises(ValueError, match="other than 0 and 1"):
        dicomrle.decode_frame(frame, **{**params, "bits_allocated": 1})


def rle_dataset(name: str) -> pydicom.Dataset:
    return pydicom.dcmread(find(name))


@pytest.mark.skipif(not PYDICOM_3, reason="decoding plugins are new in pydicom 3")
class TestPlugin:
    @pytest.mark.parametrize(
        "name", ["SC_rgb_rle_16bit_2frame.dcm", "MR_small_RLE.dcm", "SC_rgb_rle.dcm"]
    )
    def test_pixel_array_and_decompress_through_pydicom(self, name):
        dicomrle.register()
        expected = rle_dataset(name).pixel_array
        ds = rle_dataset(name)
        ds.pixel_array_options(decoding_plugin="dicomrle")
        assert np.array_equal(ds.pixel_array, expected)
        theirs = rle_dataset(name)
        theirs.decompress(generate_instance_uid=False, as_rgb=False)
        ours = rle_dataset(name)
        ours.decompress(
            decoding_plugin="dicomrle", generate_instance_uid=False, as_rgb=False
        )
        assert ours.PixelData == theirs.PixelData

    def test_rle_segment_order(self):
        from pydicom.pixels.decoders import RLELosslessDecoder

        dicomrle.register()
        arr = np.arange(64, dtype="<u2").reshape(8, 8) * 513
        ds = pydicom.Dataset()
        ds.file_meta = pydicom.dataset.FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = RLELossless
        ds.Rows = ds.Columns = 8
        ds.SamplesPerPixel, ds.BitsAllocated, ds.BitsStored = 1, 16, 16
        ds.HighBit, ds.PixelRepresentation = 15, 0
        ds.PhotometricInterpretation = "MONOCHROME2"
        frame = dicomrle.encode_frame(
            arr.byteswap().tobytes(),
            rows=8,
            columns=8,
            samples_per_pixel=1,
            bits_allocated=16,
        )
        ds.PixelData = pydicom.encaps.encapsulate([frame])
        options = dict(decoding_plugin="dicomrle", rle_segment_order="<")
        out, _ = RLELosslessDecoder.as_array(ds, **options)
        assert np.array_equal(out, arr)
        assert np.array_equal(dicomrle.pixel_array(ds, lsb_first=True), arr)

    def test_bare_runners(self):
        from pydicom.pixels.decoders.base import DecodeRunner
        from pydicom.pixels.encoders.base import EncodeRunner

        from dicomrle.plugin import decode_pixel_data, encode_pixel_data

        encoder = EncodeRunner(RLELossless)
        for key, value in dict(
            rows=3,
            columns=5,
            samples_per_pixel=3,
            bits_allocated=8,
            pixel_representation=0,
            planar_configuration=0,
        ).items():
            encoder.set_option(key, value)
        data = bytes(range(45))
        frame = encode_pixel_data(data, encoder)
        decoder = DecodeRunner(RLELossless)
        for key in ("rows", "columns", "samples_per_pixel", "bits_allocated"):
            decoder.set_option(key, encoder.get_option(key))
        decoder.set_option("planar_configuration", 1)
        assert decode_pixel_data(frame, decoder) == data
        assert decoder.get_option("planar_configuration") == 0

    def test_plugin_checks_every_description_after_caching_one(self):
        # The plugin keeps checked descriptions: a look-alike (16.0, True)
        # of a cached one is still checked and refused.
        from pydicom.pixels.decoders.base import DecodeRunner

        from dicomrle.plugin import decode_pixel_data

        data = bytes(range(40))
        frame = dicomrle.encode_frame(
            data, rows=4, columns=5, samples_per_pixel=1, bits_allocated=16
        )
        options = dict(rows=4, columns=5, samples_per_pixel=1, bits_allocated=16)
        runner = DecodeRunner(RLELossless)
        for key, value in options.items():
            runner.set_option(key, value)
        assert decode_pixel_data(frame, runner) == data
        assert decode_pixel_data(bytearray(frame), runner) == data
        for key, value, error in [
            ("bits_allocated", 16.0, ValueError),
            ("samples_per_pixel", True, TypeError),
            ("rows", [4], TypeError),
            ("rle_segment_order", "=", ValueError),
            ("columns", None, TypeError),
        ]:
            bad = DecodeRunner(RLELossless)
            for k, v in {**options, key: value}.items():
                bad.set_option(k, v)
            with pytest.raises(error):
                decode_pixel_data(frame, bad)
        assert decode_pixel_data(frame, runner) == data

    def test_register_is_idempotent_and_refuses_a_foreign_label(self):
        from pydicom.pixels.decoders import RLELosslessDecoder
        from pydicom.pixels.encoders import RLELosslessEncoder

        dicomrle.register()
        dicomrle.register()
        assert "dicomrle" in RLELosslessDecoder.available_plugins
        assert "dicomrle" in RLELosslessEncoder.available_plugins
        with pytest.raises(ValueError, match="not dicomrle"):
            dicomrle.register("pydicom")
        with pytest.raises(ValueError, match="not dicomrle"):
            dicomrle.register("pylibjpeg")
        dicomrle.register("dicomrle-test-label")
        assert "dicomrle-test-label" in RLELosslessDecoder.available_plugins
        RLELosslessDecoder.remove_plugin("dicomrle-test-label")
        RLELosslessEncoder.remove_plugin("dicomrle-test-label")


@pytest.mark.skipif(PYDICOM_3, reason="pixel data handlers are pydicom 2.4's")
@pytest.mark.parametrize(
    "name", ["SC_rgb_rle_16bit_2frame.dcm", "MR_small_RLE.dcm", "emri_small_RLE.dcm"]
)
def test_pydicom_24_handler(name, monkeypatch):
    import pydicom.config

    import dicomrle.pixel_data_handler as handler

    expected = rle_dataset(name).pixel_array
    monkeypatch.setattr(pydicom.config, "pixel_data_handlers", [handler])
    assert np.array_equal(rle_dataset(name).pixel_array, expected)


@pytest.mark.parametrize(
    "name", ["MR_small_bigendian.dcm", "SC_rgb_expb_16bit.dcm", "CT_small.dcm"]
)
def test_compress_then_decompress_save_as(name):
    ds = pydicom.dcmread(find(name))
    expected = ds.pixel_array
    uid = ds.SOPInstanceUID
    dicomrle.compress(ds)
    written = io.BytesIO()
    ds.save_as(written)
    written.seek(0)
    back = pydicom.dcmread(written)
    assert back.file_meta.TransferSyntaxUID == RLELossless
    assert np.array_equal(dicomrle.pixel_array(back), expected)
    dicomrle.decompress(back)
    written = io.BytesIO()
    back.save_as(written)
    written.seek(0)
    again = pydicom.dcmread(written)
    assert again.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert again.SOPInstanceUID == uid
    assert np.array_equal(again.pixel_array, expected)


def test_single_bit_decompress_packs_bits():
    ds = pydicom.dcmread(find("liver_1frame.dcm"))
    stored = ds.PixelData
    dicomrle.compress(ds)
    dicomrle.decompress(ds)
    assert ds.PixelData[: len(stored)] == stored[: len(ds.PixelData)]
    assert ds.BitsAllocated == 1


def test_threads_give_the_same_array():
    ds = rle_dataset("emri_small_RLE.dcm")
    one = dicomrle.pixel_array(ds, threads=1)
    assert np.array_equal(dicomrle.pixel_array(ds, threads=2), one)
    assert one.flags.writeable and one.flags.c_contiguous


def pydicom_frame(ds: pydicom.Dataset, index: int) -> np.ndarray:
    """Frame `index` as pydicom's own decoder gives it: pydicom 3's
    ``pixel_array(ds, index=index, raw=True)``, else pydicom 2's whole
    array's frame."""
    if PYDICOM_3:
        from pydicom.pixels import pixel_array

        return pixel_array(ds, index=index, raw=True, decoding_plugin="pydicom")
    return ds.pixel_array[index]


@pytest.mark.parametrize("name", ["SC_rgb_rle_16bit_2frame.dcm", "emri_small_RLE.dcm"])
def test_pixel_array_of_one_frame(name):
    ds = rle_dataset(name)
    whole = dicomrle.pixel_array(ds)
    count = int(ds.NumberOfFrames)
    assert count > 1 and len(whole) == count
    for index in range(count):
        one = dicomrle.pixel_array(ds, index)
        assert one.shape == whole.shape[1:] and one.dtype == whole.dtype
        assert np.array_equal(one, whole[index])
        assert one.flags.writeable and one.flags.c_contiguous
        theirs = pydicom_frame(rle_dataset(name), index)
        assert one.shape == theirs.shape and one.dtype == theirs.dtype
        assert np.array_equal(one, theirs)
    assert np.array_equal(dicomrle.pixel_array(ds, count - 1, threads=1), whole[-1])
    assert np.array_equal(dicomrle.pixel_array(ds, index=0, threads=2), whole[0])


@pytest.mark.parametrize("name", ["MR_small_RLE.dcm", "SC_rgb_rle.dcm"])
def test_pixel_array_index_0_of_a_single_frame(name):
    ds = rle_dataset(name)
    whole = dicomrle.pixel_array(ds)
    one = dicomrle.pixel_array(ds, 0)
    assert one.shape == whole.shape and one.dtype == whole.dtype
    assert np.array_equal(one, whole)
    with pytest.raises(IndexError):
        dicomrle.pixel_array(ds, 1)


@pytest.mark.parametrize(
    ("name", "frames"),
    [("SC_rgb_rle_16bit_2frame.dcm", 2), ("emri_small_RLE.dcm", 10)],
)
def test_pixel_array_index_out_of_range(name, frames):
    ds = rle_dataset(name)
    for index in (frames, frames + 1, 2**40, -1):
        with pytest.raises(IndexError):
            dicomrle.pixel_array(ds, index)


@pytest.mark.parametrize("index", [True, False, "0", "1"])
def test_pixel_array_index_of_a_wrong_type(index):
    ds = rle_dataset("emri_small_RLE.dcm")
    with pytest.raises(TypeError):
        dicomrle.pixel_array(ds, index)
