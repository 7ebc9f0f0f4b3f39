"""A pydicom 2.4 pixel data handler for RLE Lossless.

pydicom 2.4 decodes through the modules in
``pydicom.config.pixel_data_handlers``; put this one first::

    import pydicom.config
    import dicomrle.pixel_data_handler

    pydicom.config.pixel_data_handlers.insert(0, dicomrle.pixel_data_handler)

pydicom 3 has decoding plugins instead: see :func:`dicomrle.register`.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from pydicom.uid import RLELossless

if TYPE_CHECKING:
    import numpy as np
    from pydicom.dataset import Dataset

HANDLER_NAME = "dicomrle"
DEPENDENCIES = {"numpy": ("https://numpy.org/", "NumPy")}


def is_available() -> bool:
    """Return True if NumPy and the C extension import."""
    try:
        import numpy  # noqa: F401

        from dicomrle.codec import rle  # noqa: F401
    except ImportError:
        return False
    return True


def supports_transfer_syntax(transfer_syntax: str) -> bool:
    """Return True for RLE Lossless only."""
    return transfer_syntax == RLELossless


def needs_to_convert_to_RGB(ds: Dataset) -> bool:
    """Return False: RLE Lossless keeps the colour space as stored."""
    return False


def should_change_PhotometricInterpretation_to_RGB(ds: Dataset) -> bool:
    """Return False: the Photometric Interpretation stays as it is."""
    return False


def get_pixeldata(ds: Dataset, rle_segment_order: str = ">") -> np.ndarray:
    """Return the RLE Lossless Pixel Data of `ds` decoded, as a 1-D array.

    What pydicom 2.4 expects of an RLE handler: native byte order, the
    samples of each frame plane by plane (pydicom reshapes RLE data as
    Planar Configuration 1), single-bit pixels one byte (0 or 1) each.
    Frames are decoded on all usable cores.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        A dataset with RLE Lossless Pixel Data.
    rle_segment_order : {">", "<"}
        ">" for segments of the most significant byte first (PS3.5 G.2),
        "<" for non-conformant data of the least significant byte first.

    Returns
    -------
    numpy.ndarray
        The pixels, one dimension.

    Raises
    ------
    NotImplementedError
        If the dataset is not RLE Lossless.
    ValueError
        If an Image Pixel element is missing or out of range, or the Pixel
        Data is not valid RLE for it.
    """
    import numpy as np

    from dicomrle.codec.frame import as_bytes_view
    from dicomrle.dicom.decompress import NotDecodable, decode_all, plan

    if rle_segment_order not in ("<", ">"):
        raise ValueError(
            f"'rle_segment_order' must be '<' or '>', not {rle_segment_order!r}"
        )
    try:
        p = plan(ds)
    except NotDecodable as exc:
        raise NotImplementedError(
            f"dicomrle cannot decode this dataset: {exc}"
        ) from None
    frame = p.decoded_as(
        byteorder=">" if sys.byteorder == "big" else "<",
        planar=True,
        lsb_first=rle_segment_order == "<",
    )
    arr = np.empty(
        frame.frame_length // frame.bytes_allocated * len(p.frames), p.dtype()
    )
    decode_all(p.frames, frame, as_bytes_view(arr.view(np.uint8)), threads=None)
    return arr
