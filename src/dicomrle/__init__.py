"""dicomrle: a fast, correct DICOM RLE Lossless codec for pydicom."""

from importlib.metadata import PackageNotFoundError, version

from dicomrle._batch import encode_array
from dicomrle._dataset import NotEncodable, compress
from dicomrle._decode import decode_frame, decompress, pixel_array
from dicomrle._files import FileResult, compress_file, decompress_file
from dicomrle._frame import encode_frame
from dicomrle._register import register

try:
    __version__ = version("dicomrle")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "unknown"

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
