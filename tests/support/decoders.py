"""Independent RLE Lossless decoders for the tests: pydicom's own decoder,
pylibjpeg-rle, GDCM (python-gdcm and gdcmconv) and DCMTK (dcmdrle).

Frame decoders return an array of shape (rows, columns, samples) of
unsigned integers of Bits Allocated; file decoders return the pixel array
pydicom makes of the decoded, uncompressed file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pydicom
import pytest

CI = bool(os.environ.get("CI"))
PYDICOM_3 = int(pydicom.__version__.split(".")[0]) >= 3


def require(ok: bool, what: str) -> None:
    """Skip when `what` is missing, but fail in CI, where it is installed."""
    if ok:
        return
    if CI:
        pytest.fail(f"{what} is missing, and CI installs it")
    pytest.skip(f"{what} is not installed")


def console_script(name: str = "dicomrle") -> str:
    """The console script `name` installed for the interpreter running the
    tests, never one that happens to be on PATH."""
    path = Path(sysconfig.get_path("scripts")) / name
    require(path.is_file(), f"the {name} console script of {sys.executable}")
    return str(path)


def require_tool(name: str) -> str:
    path = shutil.which(name)
    require(path is not None, f"the command {name!r}")
    return str(path)


def _planar_to_array(
    data: bytes | bytearray, rows: int, columns: int, samples: int, bits: int, order: str
) -> np.ndarray:
    dtype = np.dtype(f"{order}u{bits // 8}")
    planes = np.frombuffer(bytes(data), dtype=dtype, count=rows * columns * samples)
    return planes.reshape(samples, rows, columns).transpose(1, 2, 0).astype(dtype.newbyteorder("="))


def decode_frame_pydicom(
    frame: bytes, rows: int, columns: int, samples: int, bits: int
) -> np.ndarray:
    """Decode with pydicom's pure-Python RLE decoder."""
    try:
        from pydicom.pixels.decoders.rle import _rle_decode_frame  # pydicom 3
    except ImportError:
        from pydicom.pixel_data_handlers.rle_handler import _rle_decode_frame
    data = _rle_decode_frame(frame, rows, columns, samples, bits)
    return _planar_to_array(data, rows, columns, samples, bits, "<")


def decode_frame_pylibjpeg(
    frame: bytes, rows: int, columns: int, samples: int, bits: int
) -> np.ndarray:
    """Decode with pylibjpeg-rle (Rust)."""
    try:
        from rle.utils import decode_frame
    except ImportError:
        require(False, "pylibjpeg-rle")
    data = decode_frame(frame, rows * columns, bits, "<")
    return _planar_to_array(data, rows, columns, samples, bits, "<")


FRAME_DECODERS = {
    "pydicom": decode_frame_pydicom,
    "pylibjpeg-rle": decode_frame_pylibjpeg,
}


def pixels(path: Path | str) -> np.ndarray:
    """Return the pixel array pydicom makes of an uncompressed file."""
    return pydicom.dcmread(path).pixel_array


def decode_file_pydicom(path: Path, plugin: str = "pydicom") -> np.ndarray:
    """Decode an RLE file with one of pydicom's decoding plugins."""
    if PYDICOM_3:
        from pydicom.pixels import pixel_array

        return pixel_array(str(path), decoding_plugin=plugin)
    handler = {"pydicom": "rle_handler", "pylibjpeg": "pylibjpeg_handler"}[plugin]
    ds = pydicom.dcmread(path)
    ds.decompress(handler_name=handler)
    return ds.pixel_array


def decode_file_pylibjpeg(path: Path) -> np.ndarray:
    try:
        import rle  # noqa: F401
    except ImportError:
        require(False, "pylibjpeg-rle")
    return decode_file_pydicom(path, "pylibjpeg")


_GDCM_SCRIPT = """
import sys, gdcm
reader = gdcm.ImageReader()
reader.SetFileName(sys.argv[1])
if not reader.Read():
    sys.exit("python-gdcm cannot read the file")
image = reader.GetImage()
buffer = image.GetBuffer()
if buffer is None:
    sys.exit("python-gdcm cannot decode the file")
with open(sys.argv[2], "wb") as f:
    f.write(buffer.encode("utf-8", "surrogateescape"))
print(image.GetPlanarConfiguration())
"""


def decode_file_python_gdcm(path: Path) -> np.ndarray:
    """Decode with python-gdcm's ImageReader, in a child process: python-gdcm
    aborts the interpreter on some inputs."""
    try:
        import gdcm  # noqa: F401
    except ImportError:
        require(False, "python-gdcm")
    out = path.with_name(f"{path.stem}.gdcm.raw")
    result = subprocess.run(
        [sys.executable, "-c", _GDCM_SCRIPT, str(path), str(out)],
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise ValueError(
            f"python-gdcm failed ({result.returncode}): {result.stderr.strip()[-200:]}"
        )
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    return _like_pydicom(ds, out.read_bytes(), planar=int(result.stdout))


def _like_pydicom(ds: pydicom.Dataset, buffer: bytes, planar: int) -> np.ndarray:
    rows, columns = ds.Rows, ds.Columns
    samples = ds.get("SamplesPerPixel", 1)
    frames = int(ds.get("NumberOfFrames") or 1)
    kind = "i" if ds.PixelRepresentation else "u"
    dtype = np.dtype(f"<{kind}{ds.BitsAllocated // 8}")
    arr = np.frombuffer(buffer, dtype=dtype, count=frames * rows * columns * samples)
    if planar:
        arr = arr.reshape(frames, samples, rows, columns).transpose(0, 2, 3, 1)
    else:
        arr = arr.reshape(frames, rows, columns, samples)
    # pydicom applies Bits Stored to signed data; do the same to compare.
    bits_stored = ds.get("BitsStored", ds.BitsAllocated)
    if kind == "i" and bits_stored < ds.BitsAllocated:
        shift = ds.BitsAllocated - bits_stored
        arr = (arr << shift) >> shift
    out = arr
    if PYDICOM_3 and ds.PhotometricInterpretation == "YBR_FULL":
        # pydicom 3 returns YBR_FULL as RGB; so must we, to compare.
        from pydicom.pixels import convert_color_space

        out = convert_color_space(out, "YBR_FULL", "RGB")
    if samples == 1:
        out = out[..., 0]
    if frames == 1:
        out = out[0]
    return out


def _convert(tool: list[str], path: Path, suffix: str) -> np.ndarray:
    out = path.with_name(f"{path.stem}.{suffix}.dcm")
    result = subprocess.run(tool + [str(path), str(out)], capture_output=True, text=True)
    # gdcmconv reports some failures on stderr but still exits 0, leaving
    # no file or an empty one.
    if result.returncode or not out.exists() or out.stat().st_size == 0:
        raise ValueError(
            f"{tool[0]} failed ({result.returncode}): {result.stderr.strip()}"
        )
    return pixels(out)


def decode_file_dcmtk(path: Path) -> np.ndarray:
    return _convert([require_tool("dcmdrle")], path, "dcmdrle")


def decode_file_gdcmconv(path: Path) -> np.ndarray:
    return _convert([require_tool("gdcmconv"), "--raw"], path, "gdcmconv")


FILE_DECODERS = {
    "pydicom": decode_file_pydicom,
    "pylibjpeg-rle": decode_file_pylibjpeg,
    "python-gdcm": decode_file_python_gdcm,
    "gdcmconv": decode_file_gdcmconv,
    "dcmtk": decode_file_dcmtk,
}
GDCM_DECODERS = ("python-gdcm", "gdcmconv")


def encode_file_dcmtk(src: Path, dst: Path) -> Path:
    """Encode `src` with DCMTK's dcmcrle, the reference encoder."""
    result = subprocess.run(
        [require_tool("dcmcrle"), str(src), str(dst)], capture_output=True, text=True
    )
    if result.returncode:
        raise ValueError(f"dcmcrle failed: {result.stderr.strip()}")
    return dst
