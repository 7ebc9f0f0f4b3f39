"""dicomrle: a fast, correct DICOM RLE Lossless codec for pydicom."""

from dicomrle._batch import encode_array
from dicomrle._dataset import NotEncodable, compress
from dicomrle._decode import decode_frame, decompress, pixel_array
from dicomrle._files import FileResult, compress_file, decompress_file
from dicomrle._frame import encode_frame
from dicomrle._register import register

__version__: str  # set by __getattr__ on first use


def __getattr__(name: str) -> str:
    # importlib.metadata takes longer to import than the rest of dicomrle:
    # read the version when it is asked for, not on every start of the CLI.
    if name != "__version__":
        raise AttributeError(f"module 'dicomrle' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    global __version__
    try:
        __version__ = version("dicomrle")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        __version__ = "unknown"
    return __version__


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
