"""Add dicomrle to pydicom's RLE Lossless encoder and decoder through
``add_plugin``."""

from __future__ import annotations

from typing import Any

PLUGIN = ("dicomrle.plugin", "encode_pixel_data")
DECODER_PLUGIN = ("dicomrle.plugin", "decode_pixel_data")


def _rle_encoder() -> Any:
    import importlib

    try:
        module = importlib.import_module("pydicom.pixels.encoders")  # pydicom 3.x
    except ImportError:
        module = importlib.import_module("pydicom.encoders")  # pydicom 2.x
    return module.RLELosslessEncoder


def _rle_decoder() -> Any:
    """pydicom 3's RLE Lossless decoder; None for pydicom 2.x, which has
    pixel data handlers instead (:mod:`dicomrle.pixel_data_handler`)."""
    try:
        from pydicom.pixels.decoders import RLELosslessDecoder
    except ImportError:  # pragma: no cover - pydicom 2.x
        return None
    return RLELosslessDecoder


def _has(coder: Any, label: str, func: Any, what: str) -> bool:
    """True if `coder` has `func` as `label` already; refuse another plugin
    of that name (a read-only look at pydicom's registry)."""
    available = getattr(coder, "_available", {})
    if label not in available and label not in getattr(coder, "_unavailable", {}):
        return False
    if available.get(label) is not func:
        raise ValueError(
            f"pydicom's RLE Lossless {what} already has a plugin named "
            f"{label!r} that is not dicomrle; pass another 'label'"
        )
    return True


def register(label: str = "dicomrle") -> None:
    """Add dicomrle as a plugin of pydicom's RLE Lossless encoder and, with
    pydicom 3, decoder.

    Calling it again with the same label does nothing.

    Parameters
    ----------
    label : str
        The plugin's name, as given to ``encoding_plugin`` and
        ``decoding_plugin``.

    Raises
    ------
    ValueError
        If another plugin of the encoder or the decoder already has the
        name `label`; then neither is changed.

    Examples
    --------
    >>> import dicomrle
    >>> from pydicom.uid import RLELossless
    >>> dicomrle.register()
    >>> # ds.compress(RLELossless, encoding_plugin="dicomrle")
    >>> # ds.decompress(decoding_plugin="dicomrle")
    """
    from dicomrle.plugin import decode_pixel_data, encode_pixel_data

    coders: list[tuple[Any, tuple[str, str], object, str]] = [
        (_rle_encoder(), PLUGIN, encode_pixel_data, "encoder")
    ]
    if (decoder := _rle_decoder()) is not None:
        coders.append((decoder, DECODER_PLUGIN, decode_pixel_data, "decoder"))
    # Both are checked before either is added: a clash changes nothing.
    missing = [c for c in coders if not _has(c[0], label, c[2], c[3])]
    for coder, path, _, _ in missing:
        coder.add_plugin(label, path)
