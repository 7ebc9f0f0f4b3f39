"""Hostile and mistaken input through every public entry point: a clear
error naming the problem, never a crash, never a changed input."""

from __future__ import annotations

import array
import copy
import hashlib
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.uid import ExplicitVRLittleEndian

import dicomrle
from dicomrle.codec import rle as _rle
from dicomrle.plugin import encode_pixel_data
from support.decoders import FRAME_DECODERS, PYDICOM_3

FRAME = dict(rows=16, columns=16, samples_per_pixel=1, bits_allocated=16)


pytestmark = pytest.mark.usefixtures("frame_per_job")


def ct_pixels() -> np.ndarray:
    return pydicom.dcmread(get_testdata_file("CT_small.dcm")).pixel_array


def dataset(arr: np.ndarray, **elements) -> pydicom.Dataset:
    ds = pydicom.Dataset()
    ds.file_meta = pydicom.dataset.FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.Rows, ds.Columns = arr.shape[-2:]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 8 * arr.dtype.itemsize
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = int(arr.dtype.kind == "i")
    if arr.ndim == 3:
        ds.NumberOfFrames = arr.shape[0]
    ds.PixelData = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
    for keyword, value in elements.items():
        setattr(ds, keyword, value)
    return ds


def digest(buffer) -> str:
    return hashlib.sha256(memoryview(buffer).cast("B")).hexdigest()


class TestBuffers:
    def test_every_buffer_type_gives_the_same_frame(self):
        arr = ct_pixels()[:16, :16].astype("<u2")
        expected = dicomrle.encode_frame(arr.tobytes(), **FRAME)
        readonly = arr.copy()
        readonly.flags.writeable = False
        sources = [
            arr.tobytes(),
            bytearray(arr.tobytes()),
            memoryview(arr.tobytes()),
            memoryview(bytearray(arr.tobytes())).toreadonly(),
            readonly,
            arr.view("<i2"),
            arr.view("u1").reshape(16, 32),
            array.array("H", arr.tobytes()),
            memoryview(b"\x00" + arr.tobytes())[1:],  # unaligned
        ]
        for src in sources:
            before = digest(src)
            assert dicomrle.encode_frame(src, **FRAME) == expected, type(src)
            assert digest(src) == before  # the input is untouched

    @pytest.mark.parametrize(
        "src",
        [
            memoryview(bytes(1024))[::2],
            np.zeros((16, 32), "<u2")[:, ::2],
            np.zeros((16, 16), "<u2", order="F").T[::1, ::-1],
        ],
        ids=["strided-memoryview", "sliced-array", "reversed-array"],
    )
    def test_non_contiguous_is_refused(self, src):
        with pytest.raises(ValueError, match="'src' must be a C-contiguous"):
            dicomrle.encode_frame(src, **FRAME)

    @pytest.mark.parametrize("src", ["text", 42, None, [1, 2, 3], 1.5])
    def test_not_a_buffer(self, src):
        with pytest.raises(TypeError, match="'src' must be a bytes-like"):
            dicomrle.encode_frame(src, **FRAME)


class TestSizes:
    def test_near_65535(self):
        for rows, columns in ((65535, 1), (1, 65535), (2, 65535)):
            src = np.arange(rows * columns, dtype=np.uint32).astype("u1")
            out = dicomrle.encode_frame(
                src, rows=rows, columns=columns, samples_per_pixel=1, bits_allocated=8
            )
            for decode in FRAME_DECODERS.values():
                np.testing.assert_array_equal(
                    decode(out, rows, columns, 1, 8).ravel(), src
                )

    @pytest.mark.parametrize("name", ["rows", "columns"])
    def test_above_65535(self, name):
        params = dict(FRAME, **{name: 65536})
        with pytest.raises(ValueError, match=f"'{name}' must be between 1 and 65535"):
            dicomrle.encode_frame(bytes(10), **params)

    def test_short_buffer_for_a_huge_frame(self):
        with pytest.raises(ValueError, match="'src' holds 10 bytes"):
            dicomrle.encode_frame(
                bytes(10), rows=65535, columns=65535, samples_per_pixel=3, bits_allocated=8
            )

    def test_worst_case_past_32_bits(self):
        with pytest.raises(ValueError, match="4 GiB"):
            _ = _rle.Frame(65535, 65535, 1, 8).encode_bound

    def test_frames_overflowing_32_bits(self):
        ds = dataset(np.zeros((4, 4), "<u2"), Rows=65535, Columns=65535, NumberOfFrames=2)
        with pytest.raises(ValueError, match="Pixel Data holds 32 bytes"):
            dicomrle.compress(ds)


class TestArrays:
    @pytest.mark.parametrize("dtype", ["f4", "f8", "c8", "O", "U3"])
    def test_not_integers(self, dtype):
        arr = np.zeros((4, 4), dtype=dtype)
        with pytest.raises(TypeError, match="'arr' must hold integers or booleans"):
            dicomrle.encode_array(arr)

    def test_not_an_array(self):
        with pytest.raises(TypeError, match="'arr' must be a numpy.ndarray"):
            dicomrle.encode_array([[1, 2], [3, 4]])

    @pytest.mark.parametrize(
        "shape, match",
        [((0, 4, 4), "holds no frames"), ((4, 0), "'columns'"), ((0, 4), "'rows'"),
         ((4,), "2, 3 or 4 dimensions"), ((1, 1, 1, 1, 1), "2, 3 or 4 dimensions")],
    )
    def test_bad_shapes(self, shape, match):
        with pytest.raises(ValueError, match=match):
            dicomrle.encode_array(np.zeros(shape, "u1"))

    def test_signed_data_is_kept_bit_for_bit(self):
        """Signed values with Pixel Representation 0 are still bytes: RLE
        keeps them exactly; the sign is the reader's business."""
        arr = (ct_pixels().astype(np.int32) - 2000).astype("<i2")
        assert arr.min() < 0
        (frame,) = dicomrle.encode_array(arr)
        for decode in FRAME_DECODERS.values():
            out = decode(frame, *arr.shape, 1, 16)[..., 0]
            np.testing.assert_array_equal(out.view("i2"), arr)

    def test_array_is_not_modified(self):
        arr = ct_pixels().astype(">u2")
        before = arr.copy()
        dicomrle.encode_array(arr, bits_allocated=32, threads=2)
        np.testing.assert_array_equal(arr, before)
        assert arr.dtype == before.dtype


class TestPlugin:
    def test_pydicom_2_kwargs_missing(self):
        with pytest.raises(TypeError, match="missing encoding option.*'rows'"):
            encode_pixel_data(bytes(16), columns=4, samples_per_pixel=1, bits_allocated=8)

    def test_pydicom_2_kwargs_bad_values(self):
        kwargs = dict(rows=4, columns=4, samples_per_pixel=1, bits_allocated=12,
                      transfer_syntax_uid=pydicom.uid.RLELossless)
        with pytest.raises(ValueError, match="'bits_allocated' must be 8, 16, 32 or 64"):
            encode_pixel_data(bytes(32), **kwargs)
        kwargs.update(bits_allocated=8, byteorder="big")
        with pytest.raises(ValueError, match="'byteorder' must be '<' or '>'"):
            encode_pixel_data(bytes(16), **kwargs)

    @pytest.mark.skipif(not PYDICOM_3, reason="pydicom 3's EncodeRunner")
    def test_pydicom_3_runner_with_wrong_length(self):
        from pydicom.pixels.encoders.base import EncodeRunner

        runner = EncodeRunner(pydicom.uid.RLELossless)
        runner.set_options(rows=4, columns=4, samples_per_pixel=1, bits_allocated=16,
                           bits_stored=16, pixel_representation=0,
                           photometric_interpretation="MONOCHROME2", number_of_frames=1)
        runner.set_source(bytes(24))
        with pytest.raises(ValueError, match="'src' holds 24 bytes"):
            encode_pixel_data(bytes(24), runner)


class TestDatasets:
    @pytest.mark.parametrize(
        "change, match",
        [
            (lambda ds: delattr(ds, "Rows"), "lacks Rows"),
            (lambda ds: delattr(ds, "BitsAllocated"), "lacks BitsAllocated"),
            (lambda ds: setattr(ds, "BitsAllocated", 12), "'bits_allocated' must be"),
            (lambda ds: setattr(ds, "NumberOfFrames", 0), "at least 1"),
            (lambda ds: setattr(ds, "SamplesPerPixel", 16), "'samples_per_pixel'"),
            (lambda ds: setattr(ds, "PixelData", ds.PixelData[:-2]), "Pixel Data holds"),
            (lambda ds: delattr(ds, "file_meta"), "Transfer Syntax UID"),
        ],
        ids=["no-rows", "no-bits", "bits-12", "zero-frames", "16-samples",
             "truncated", "no-file-meta"],
    )
    def test_bad_dataset(self, change, match):
        ds = dataset(ct_pixels().astype("<u2"))
        change(ds)
        with pytest.raises(ValueError, match=match):
            dicomrle.compress(ds)

    def test_failed_compress_leaves_the_dataset_alone(self):
        ds = dataset(ct_pixels().astype("<u2"), NumberOfFrames=3)
        before = ds.PixelData
        with pytest.raises(ValueError):
            dicomrle.compress(ds)
        assert ds.PixelData is before
        assert ds.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian


class TestFiles:
    def test_hostile_files(self, tmp_path):
        good = Path(get_testdata_file("CT_small.dcm"))
        (tmp_path / "in").mkdir()
        text = tmp_path / "in" / "notes.dcm"
        text.write_text("not DICOM at all")
        empty = tmp_path / "in" / "empty.dcm"
        empty.write_bytes(b"")
        half = tmp_path / "in" / "half.dcm"
        half.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
        preamble = tmp_path / "in" / "preamble-only.dcm"
        preamble.write_bytes(bytes(128) + b"DICM")
        hashes = {p: digest(p.read_bytes()) for p in (tmp_path / "in").iterdir()}
        results = [
            dicomrle.compress_file(p, tmp_path / "out" / p.name)
            for p in sorted((tmp_path / "in").iterdir())
        ]
        by_name = {Path(r.src).name: r for r in results}
        assert by_name["notes.dcm"].status == "skipped"
        assert by_name["empty.dcm"].status in ("skipped", "failed")
        assert by_name["half.dcm"].status == "failed"
        assert by_name["preamble-only.dcm"].status in ("skipped", "failed")
        for r in results:
            assert r.reason
        leftovers = list((tmp_path / "out").rglob("*")) if (tmp_path / "out").exists() else []
        assert [p for p in leftovers if p.is_file()] == []
        assert {p: digest(p.read_bytes()) for p in (tmp_path / "in").iterdir()} == hashes


class TestThreads:
    def test_encode_frame_from_many_threads(self):
        rng = np.random.default_rng(5)
        base = ct_pixels().astype("<u2")
        inputs = [np.roll(base, i * 7) // (1 + i % 5) for i in range(32)]
        params = dict(rows=128, columns=128, samples_per_pixel=1, bits_allocated=16)
        expected = [dicomrle.encode_frame(a, **params) for a in inputs]
        barrier = threading.Barrier(8)

        def work(i: int) -> bytes:
            if i < 8:
                barrier.wait()
            return dicomrle.encode_frame(inputs[i], **params)

        order = rng.permutation(32)
        with ThreadPoolExecutor(8) as pool:
            got = dict(zip(order, pool.map(work, order)))
        assert [got[i] for i in range(32)] == expected

    @pytest.mark.filterwarnings("ignore::UserWarning")
    def test_compress_from_many_threads(self):
        names = ["emri_small.dcm", "SC_rgb_32bit_2frame.dcm", "color-pl.dcm",
                 "MR_small_bigendian.dcm", "CT_small.dcm", "OBXXXX1A_expb_2frame.dcm"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sources = [pydicom.dcmread(get_testdata_file(n)) for n in names]
        expected = [dicomrle.compress(copy.deepcopy(ds), threads=1).PixelData for ds in sources]

        def work(i: int) -> bytes:
            return dicomrle.compress(copy.deepcopy(sources[i % 6]), threads=2).PixelData

        with ThreadPoolExecutor(6) as pool:
            got = list(pool.map(work, range(24)))
        assert got == [expected[i % 6] for i in range(24)]


def test_two_one_byte_samples_read_only_their_buffer():
    """Two 8-bit samples per pixel once took the 16-bit wide split and read
    one byte past the source (found by the fuzzer, whose reproducer is in
    fuzz/crashes); here under the sanitizer run too, from a NumPy buffer
    that ends where the frame ends."""
    rows, columns = 3, 37
    src = np.arange(rows * columns * 2, dtype=np.uint8) % 7
    out = dicomrle.encode_frame(
        src, rows=rows, columns=columns, samples_per_pixel=2, bits_allocated=8
    )
    decoded = FRAME_DECODERS["pydicom"](out, rows, columns, 2, 8)
    np.testing.assert_array_equal(decoded.ravel(), src)
