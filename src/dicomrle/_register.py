"""Add dicomrle to pydicom's RLE Lossless encoder through ``add_plugin``."""

from __future__ import annotations

from typing import Any

PLUGIN = ("dicomrle.plugin", "encode_pixel_data")


def _rle_encoder() -> Any:
    import importlib

    try:
        module = importlib.import_module("pydicom.pixels.encoders")  # pydicom 3.x
    except ImportError:
        module = importlib.import_module("pydicom.encoders")  # pydicom 2.x
    return module.RLELosslessEncoder


def register(label: str = "dicomrle") -> None:
    """Add dicomrle as a plugin of pydicom's RLE Lossless encoder.

    Calling it again with the same label does nothing.

    Parameters
    ----------
    label : str
        The plugin's name, as given to ``encoding_plugin``.

    Raises
    ------
    ValueError
        If another plugin already has the name `label`.

    Examples
    --------
    >>> import dicomrle
    >>> from pydicom.uid import RLELossless
    >>> dicomrle.register()
    >>> # ds.compress(RLELossless, encoding_plugin="dicomrle")
    """
    from dicomrle.plugin import encode_pixel_data

    encoder = _rle_encoder()
    try:
        encoder.add_plugin(label, PLUGIN)
    except ValueError:
        # Read-only look at the registry: is the plugin under `label` ours?
        if getattr(encoder, "_available", {}).get(label) is not encode_pixel_data:
            raise ValueError(
                f"pydicom's RLE Lossless encoder already has a plugin named "
                f"{label!r} that is not dicomrle; pass another 'label'"
            ) from None
