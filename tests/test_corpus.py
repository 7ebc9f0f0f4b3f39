"""Round trips of every corpus image: encode with dicomrle, decode with
pydicom, pylibjpeg-rle, GDCM (python-gdcm, gdcmconv) and DCMTK (dcmdrle)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.encaps import encapsulate
from pydicom.uid import ExplicitVRLittleEndian, RLELossless

import dicomrle
from dicomrle.dicom.compress import write_dataset
from dicomrle.plugin import encode_pixel_data
from support.corpus import Image, image_id, images
from support.decoders import (
    FILE_DECODERS,
    GDCM_DECODERS,
    PYDICOM_3,
    encode_file_dcmtk,
    pixels,
)

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

IMAGES = images()


def read(path: Path) -> pydicom.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(path)


def write(ds: pydicom.Dataset, path: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_dataset(path, ds)
    return path


def frames_of(path: Path, count: int) -> list[bytes]:
    """The encapsulated frames of an RLE file."""
    data = read(path).PixelData
    if PYDICOM_3:
        from pydicom.encaps import generate_frames

        return list(generate_frames(data, number_of_frames=count))
    from pydicom.encaps import generate_pixel_data_frame

    return list(generate_pixel_data_frame(data, count))


def compress_with_plugin(ds: pydicom.Dataset) -> pydicom.Dataset:
    """Encode through pydicom's own API with the dicomrle plugin.

    ``ds.compress`` where pydicom allows it (pydicom 2.x passes no Planar
    Configuration, so the caller adds it). pydicom hands a big-endian
    dataset's bytes over as if little-endian and refuses Bits Allocated 32
    in its RLE profile: those frames go to the plugin with ``byteorder``
    set, through ``iter_encode`` on pydicom 3 and called as pydicom 2.x
    calls it on 2.x.
    """
    dicomrle.register()
    big_endian = not ds.file_meta.TransferSyntaxUID.is_little_endian
    samples = ds.get("SamplesPerPixel", 1)
    planar = ds.get("PlanarConfiguration", 0) if samples > 1 else 0
    if not big_endian and ds.BitsAllocated in (8, 16):
        extra = {} if PYDICOM_3 else {"planar_configuration": planar}
        ds.compress(RLELossless, encoding_plugin="dicomrle", **extra)
        return ds
    if big_endian and ds.BitsAllocated == 8 and ds["PixelData"].VR == "OW":
        # 8-bit samples in big-endian OW are swapped in 16-bit words.
        ds.PixelData = np.frombuffer(ds.PixelData, ">u2").astype("<u2").tobytes()
        ds["PixelData"].VR = "OB"
    byteorder = ">" if big_endian else "<"
    if PYDICOM_3:
        from pydicom.pixels.encoders import RLELosslessEncoder

        frames = list(
            RLELosslessEncoder.iter_encode(
                ds, encoding_plugin="dicomrle", validate=False, byteorder=byteorder
            )
        )
    else:
        count = int(ds.get("NumberOfFrames") or 1)
        length = ds.Rows * ds.Columns * samples * ds.BitsAllocated // 8
        kwargs = dict(
            transfer_syntax_uid=RLELossless,
            byteorder=byteorder,
            rows=ds.Rows,
            columns=ds.Columns,
            samples_per_pixel=samples,
            number_of_frames=count,
            bits_allocated=ds.BitsAllocated,
            bits_stored=ds.BitsStored,
            pixel_representation=ds.PixelRepresentation,
            photometric_interpretation=ds.PhotometricInterpretation,
            planar_configuration=planar,
        )
        frames = [
            encode_pixel_data(ds.PixelData[i * length : (i + 1) * length], **kwargs)
            for i in range(count)
        ]
    ds.PixelData = encapsulate(frames)
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    ds.file_meta.TransferSyntaxUID = RLELossless
    return ds


@pytest.fixture(scope="module")
def encoded(tmp_path_factory):
    """Encode each image once per route; return {(route, image): path}."""
    folder = tmp_path_factory.mktemp("corpus")
    cache: dict[tuple[str, Image], tuple[Path, np.ndarray]] = {}

    def get(route: str, image: Image) -> tuple[Path, np.ndarray]:
        if (route, image) not in cache:
            ds = read(image.path)
            expected = ds.pixel_array.copy()
            encode = dicomrle.compress if route == "dataset" else compress_with_plugin
            name = image_id(image).replace("/", "_")
            path = write(encode(ds), folder / f"{route}-{name}")
            cache[route, image] = path, expected
        return cache[route, image]

    return get


def little_endian_copy(path: Path, folder: Path) -> Path:
    """Write the image as Explicit VR Little Endian, Planar Configuration 0:
    dcmcrle mis-encodes some big-endian sources (32-bit rtdose_expb.dcm)."""
    ds = read(path)
    arr = ds.pixel_array
    ds.PixelData = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
    ds["PixelData"].VR = "OB" if ds.BitsAllocated == 8 else "OW"
    if ds.get("SamplesPerPixel", 1) > 1:
        ds.PlanarConfiguration = 0
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return write(ds, folder / "little-endian.dcm")


def assert_gdcm_agrees(decoder: str, ours: Path, image: Image, tmp_path: Path):
    """GDCM misreads some valid RLE files (16-bit RGB, 3x3 RGB). Where it
    also misreads DCMTK's encoding of the same image, require only that it
    reads ours exactly as it reads DCMTK's."""
    decode = FILE_DECODERS[decoder]
    expected = pixels(image.path)

    def attempt(path: Path) -> np.ndarray | Exception:
        try:
            return decode(path)
        except Exception as exc:  # GDCM's failures take many forms
            return exc

    on_ours = attempt(ours)
    if isinstance(on_ours, np.ndarray) and np.array_equal(on_ours, expected):
        return
    # GDCM misreads ours: that is GDCM's fault only if it misreads DCMTK's
    # encoding of the same image in the same way.
    source = little_endian_copy(image.path, tmp_path)
    on_dcmtk = attempt(encode_file_dcmtk(source, tmp_path / "dcmtk.dcm"))
    if isinstance(on_dcmtk, Exception):
        assert isinstance(on_ours, Exception), "GDCM fails on DCMTK's file, misreads ours"
        return
    assert not np.array_equal(on_dcmtk, expected), f"GDCM reads DCMTK's file, not ours: {on_ours}"
    assert isinstance(on_ours, np.ndarray), on_ours
    np.testing.assert_array_equal(on_ours, on_dcmtk)


@pytest.mark.parametrize("decoder", list(FILE_DECODERS))
@pytest.mark.parametrize("image", IMAGES, ids=image_id)
def test_compress_dataset_round_trip(encoded, image, decoder, tmp_path):
    """dicomrle's own dataset route, every decoder."""
    path, expected = encoded("dataset", image)
    ds = read(path)
    assert ds.file_meta.TransferSyntaxUID == RLELossless
    if image.samples > 1:  # PS3.5 G.2 note 2
        assert ds.PlanarConfiguration == 0
    if decoder in GDCM_DECODERS:
        assert_gdcm_agrees(decoder, path, image, tmp_path)
        return
    np.testing.assert_array_equal(FILE_DECODERS[decoder](path), expected)


@pytest.mark.parametrize("decoder", list(FILE_DECODERS))
@pytest.mark.parametrize("image", IMAGES, ids=image_id)
def test_plugin_round_trip(encoded, image, decoder, tmp_path):
    """The plugin through pydicom's ds.compress / iter_encode."""
    path, expected = encoded("plugin", image)
    if decoder in GDCM_DECODERS:
        assert_gdcm_agrees(decoder, path, image, tmp_path)
        return
    np.testing.assert_array_equal(FILE_DECODERS[decoder](path), expected)


@pytest.mark.parametrize("image", IMAGES, ids=image_id)
def test_routes_agree(encoded, image):
    """The plugin and the dataset route give the same frames."""
    a, _ = encoded("plugin", image)
    b, _ = encoded("dataset", image)
    assert frames_of(a, image.frames) == frames_of(b, image.frames)


def test_color_pl_is_planar_and_survives():
    """color-pl.dcm (Planar Configuration 1), which the other plugins corrupt."""
    (image,) = [i for i in IMAGES if i.path.name == "color-pl.dcm"]
    assert image.planar == 1
    ds = read(image.path)
    expected = ds.pixel_array.copy()
    compress_with_plugin(ds)
    assert ds.file_meta.TransferSyntaxUID == RLELossless
    np.testing.assert_array_equal(ds.pixel_array, expected)


def narrow_datasets() -> dict[str, pydicom.Dataset]:
    """16-bit datasets whose Bits Stored is 8 or less, from real images."""
    from pydicom.data import get_testdata_file

    out = {}
    ct = read(Path(get_testdata_file("CT_small.dcm")))
    grey = (ct.pixel_array.astype(np.int32) % 256).astype("<u2")
    signed = ((ct.pixel_array.astype(np.int32) % 200) - 100).astype("<i2")
    rgb = read(Path(get_testdata_file("color-px.dcm"))).pixel_array.astype("<u2")
    for name, arr, bits_stored, pr, photometric in (
        ("grey-u16-bs8", grey, 8, 0, "MONOCHROME2"),
        ("grey-u16-bs6", grey >> 2, 6, 0, "MONOCHROME2"),
        ("grey-i16-bs8", signed, 8, 1, "MONOCHROME2"),
        ("rgb-u16-bs8", rgb, 8, 0, "RGB"),
    ):
        ds = pydicom.Dataset()
        ds.file_meta = pydicom.dataset.FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
        ds.SOPInstanceUID = pydicom.uid.generate_uid()
        ds.Rows, ds.Columns = arr.shape[:2]
        ds.SamplesPerPixel = 3 if arr.ndim == 3 else 1
        if arr.ndim == 3:
            ds.PlanarConfiguration = 0
        ds.PhotometricInterpretation = photometric
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, bits_stored, bits_stored - 1
        ds.PixelRepresentation = pr
        ds.PixelData = arr.tobytes()
        out[name] = ds
    return out


NARROW = narrow_datasets()


@pytest.mark.skipif(not PYDICOM_3, reason="pydicom 3 hands narrow containers")
@pytest.mark.parametrize("decoder", list(FILE_DECODERS))
@pytest.mark.parametrize("name", list(NARROW))
def test_bits_stored_8_or_less(name, decoder, tmp_path):
    """pydicom 3 hands the plugin 1 byte per sample; we still write 2."""
    ds = NARROW[name].copy()
    expected = ds.pixel_array.copy()
    src = write(ds, tmp_path / "src.dcm")
    ds = read(src)
    compress_with_plugin(ds)
    out = write(ds, tmp_path / "rle.dcm")
    (frame,) = frames_of(out, 1)
    assert int.from_bytes(frame[:4], "little") == 2 * ds.SamplesPerPixel
    if decoder in GDCM_DECODERS:
        image = Image(src, False, 16, ds.SamplesPerPixel, 0, 1)
        assert_gdcm_agrees(decoder, out, image, tmp_path)
        return
    np.testing.assert_array_equal(FILE_DECODERS[decoder](out), expected)
