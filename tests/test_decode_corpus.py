"""Every RLE file pydicom and pydicom-data ship, and RLE copies of the
uncompressed corpus made by DCMTK (dcmcrle), GDCM (gdcmconv --rle),
pylibjpeg-rle and dicomrle, decoded through every entry point and compared
with DCMTK's dcmdrle."""

from __future__ import annotations

import subprocess
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import RLELossless

import dicomrle
from dicomrle.dicom.compress import write_dataset
from support.corpus import _folders, image_id, images
from support.decoders import PYDICOM_3, decode_file_dcmtk, require, require_tool

MAKERS = ("dcmcrle", "gdcmconv", "pylibjpeg", "dicomrle")


def shipped_rle() -> list[Path]:
    found = []
    for folder in _folders():
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or "rle" not in path.name.lower():
                continue
            try:
                ds = pydicom.dcmread(path, stop_before_pixels=True)
            except Exception:  # noqa: BLE001 - not DICOM: not in the corpus
                continue
            if ds.get("file_meta", {}).get("TransferSyntaxUID") == RLELossless:
                found.append(path)
    return found


def _make(maker: str, src: Path, dst: Path) -> Path | None:
    if maker == "dcmcrle":
        cmd = [require_tool("dcmcrle"), str(src), str(dst)]
    elif maker == "gdcmconv":
        cmd = [require_tool("gdcmconv"), "--rle", str(src), str(dst)]
    else:
        ds = pydicom.dcmread(src)
        if maker == "dicomrle":
            dicomrle.compress(ds)
        else:
            if not PYDICOM_3:
                return None
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds.compress(
                    RLELossless,
                    encoding_plugin="pylibjpeg",
                    generate_instance_uid=False,
                )
        with open(dst, "wb") as f:
            write_dataset(f, ds)
        return dst
    result = subprocess.run(cmd, capture_output=True, check=False)
    return (
        dst if result.returncode == 0 and dst.exists() and dst.stat().st_size else None
    )


@pytest.fixture(scope="session")
def copies(tmp_path_factory) -> dict[str, Path]:
    """RLE copies of the uncompressed corpus, made once per session; the
    ones a tool cannot make are left out."""
    folder = tmp_path_factory.mktemp("rle-copies")
    made = {}
    for image in images():
        if image.bits_allocated > 16:
            continue  # DCMTK and GDCM stop at 16 bits
        for maker in MAKERS:
            name = f"{maker}-{image_id(image).replace('/', '_')}"
            try:
                path = _make(maker, image.path, folder / name)
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException:  # noqa: BLE001 - pylibjpeg-rle panics (pyo3)
                path = None
            if path is not None:
                made[name] = path
    return made


def reference(path: Path) -> np.ndarray:
    """DCMTK's decoding, read by pydicom, as pydicom's raw array would be."""
    expected = decode_file_dcmtk(path)
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    stored, allocated = ds.get("BitsStored", ds.BitsAllocated), ds.BitsAllocated
    if PYDICOM_3 and ds.get("PhotometricInterpretation") == "YBR_FULL":
        raw = pydicom.dcmread(path)
        raw.decompress(as_rgb=False, generate_instance_uid=False)
        expected = pydicom.pixels.pixel_array(raw, raw=True)
    if stored < allocated and not PYDICOM_3:
        shift = allocated - stored
        expected = (expected << shift) >> shift
    return expected


def check_all_entry_points(path: Path, tmp_path: Path) -> None:
    # dcmdrle writes beside its input: never beside the shipped files.
    copy = tmp_path / path.name
    copy.write_bytes(path.read_bytes())
    path = copy
    try:
        expected = reference(path)
    except ValueError as exc:
        pytest.skip(f"dcmdrle cannot decode it: {exc}")
    ds = pydicom.dcmread(path)
    ours = dicomrle.pixel_array(ds, threads=2)
    assert ours.shape == expected.shape and np.array_equal(ours, expected)
    if PYDICOM_3:
        from pydicom.pixels import pixel_array as pydicom_array

        with warnings.catch_warnings():
            # pydicom warns of segments longer than their plane (accepted)
            warnings.simplefilter("ignore")
            raw = pydicom_array(
                pydicom.dcmread(path), raw=True, decoding_plugin="pydicom"
            )
        assert ours.dtype == raw.dtype and np.array_equal(ours, raw)
        dicomrle.register()
        ds = pydicom.dcmread(path)
        ds.pixel_array_options(decoding_plugin="dicomrle", as_rgb=False)
        with warnings.catch_warnings():
            # pydicom's checks of the value (e.g. compressed as long as raw)
            warnings.simplefilter("ignore", UserWarning)
            assert np.array_equal(ds.pixel_array, expected)
    out = tmp_path / "decompressed.dcm"
    result = dicomrle.decompress_file(path, out, overwrite=True)
    assert result.status == "written", result.reason
    assert np.array_equal(
        pydicom.dcmread(out).pixel_array,
        pydicom.dcmread(decoded_by_dcmtk(path)).pixel_array,
    )
    # Whatever route it took, the Pixel Data of dicomrle.decompress.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert (
            pydicom.dcmread(out).PixelData
            == dicomrle.decompress(pydicom.dcmread(path)).PixelData
        ), result.route


def decoded_by_dcmtk(path: Path) -> Path:
    return path.with_name(f"{path.stem}.dcmdrle.dcm")


@pytest.mark.parametrize("path", shipped_rle(), ids=lambda p: p.name)
def test_shipped_rle_files(path, tmp_path):
    check_all_entry_points(path, tmp_path)


def test_copies_made_by_every_encoder(copies, tmp_path):
    require(bool(copies), "RLE copies of the corpus")
    makers = {name.split("-")[0] for name in copies}
    assert makers >= {"dcmcrle", "dicomrle"}, makers
    for path in copies.values():
        if "YBR" in str(
            pydicom.dcmread(path, stop_before_pixels=True).get(
                "PhotometricInterpretation", ""
            )
        ):
            continue
        check_all_entry_points(path, tmp_path)
