"""dicomrle: a fast, correct DICOM RLE Lossless codec for pydicom."""

from __future__ import annotations

from importlib import import_module

TYPE_CHECKING = False  # typing takes longer to import than the command to start
if TYPE_CHECKING:
    from typing import Any

    from dicomrle.codec.arrays import encode_array
    from dicomrle.codec.frame import decode_frame, encode_frame
    from dicomrle.dicom.compress import NotEncodable, compress
    from dicomrle.dicom.decompress import decompress, pixel_array
    from dicomrle.dicom.files import FileResult, compress_file, decompress_file
    from dicomrle.plugin import register

    __version__: str

# Each public name and its module, imported on first use: the command line
# needs only the file functions, and starts faster without the rest.
_HOMES = {
    "encode_array": "codec.arrays",
    "NotEncodable": "dicom.compress",
    "compress": "dicom.compress",
    "decode_frame": "codec.frame",
    "decompress": "dicom.decompress",
    "pixel_array": "dicom.decompress",
    "FileResult": "dicom.files",
    "compress_file": "dicom.files",
    "decompress_file": "dicom.files",
    "encode_frame": "codec.frame",
    "register": "plugin",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is not None:
        value = getattr(import_module(f"dicomrle.{home}"), name)
    elif name == "__version__":
        # importlib.metadata takes longer to import than the rest of
        # dicomrle: read the version when it is asked for.
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("dicomrle")
        except PackageNotFoundError:  # pragma: no cover - a source tree
            value = "unknown"
    else:
        raise AttributeError(f"module 'dicomrle' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "FileResult",
    "NotEncodable",
    "__version__",
    "compress",
    "compress_file",
    "decode_frame",
    "decompress",
    "decompress_file",
    "encode_array",
    "encode_frame",
    "pixel_array",
    "register",
]
