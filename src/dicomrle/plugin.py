"""pydicom plugins for RLE Lossless: an encoder for pydicom 2.x and 3.x, a
decoder for pydicom 3.x (pydicom 2.4 decodes through
:mod:`dicomrle.pixel_data_handler`).

pydicom 3.x calls ``encode_pixel_data(src, runner)`` and
``decode_pixel_data(src, runner)``; pydicom 2.x calls
``encode_pixel_data(src, **kwargs)``. Add them with :func:`dicomrle.register`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from pydicom.uid import UID, RLELossless

if TYPE_CHECKING:
    from dicomrle.codec.frame import Buffer

ENCODER_DEPENDENCIES = {RLELossless: ("dicomrle",)}
DECODER_DEPENDENCIES = {RLELossless: ("dicomrle",)}
REQUIRED = ("rows", "columns", "samples_per_pixel", "bits_allocated")


def is_available(uid: str) -> bool:
    """Return True if `uid` is RLE Lossless and the C extension imports."""
    if uid != RLELossless:
        return False
    try:
        from dicomrle.codec import rle  # noqa: F401
    except ImportError:
        return False
    return True


def encode_pixel_data(src: Buffer, runner: Any = None, **kwargs: Any) -> bytes:
    """Return one frame of `src` encoded as RLE Lossless.

    Parameters
    ----------
    src : bytes
        One frame of pixel data. pydicom 3.0 passes samples in the smallest
        container that holds Bits Stored (1, 2, 4 or 8 bytes), which may be
        narrower than Bits Allocated; the container size follows from the
        length of `src`, and the frame still gets Bits Allocated / 8
        segments per sample. A single-bit frame (Bits Allocated 1) may come
        packed, as stored, or one byte (0 or 1) per pixel: the length tells.
    runner : pydicom.pixels.encoders.base.EncodeRunner, optional
        Given by pydicom 3.x; its options describe `src`.
    **kwargs
        Given by pydicom 2.x instead of `runner`: ``rows``, ``columns``,
        ``samples_per_pixel``, ``bits_allocated``, ``pixel_representation``
        and optionally ``byteorder`` and ``planar_configuration``.

    Returns
    -------
    bytes
        The encoded frame.
    """
    from dicomrle.codec.frame import (
        as_bytes_view,
        encode,
        is_single_bit,
        single_bit_frame,
    )
    from dicomrle.codec.rle import Frame

    # Read only: the runner's own options mapping, not a copy.
    opts = runner.options if runner is not None else kwargs
    missing = [k for k in REQUIRED if opts.get(k) is None]
    if missing:
        raise TypeError(f"missing encoding option(s): {', '.join(map(repr, missing))}")
    uid = opts.get("transfer_syntax_uid", RLELossless)
    if uid != RLELossless:
        raise ValueError(
            f"'transfer_syntax_uid' must be RLE Lossless ({RLELossless}), "
            f"not {UID(uid).name}"
        )
    rows = opts["rows"]
    columns = opts["columns"]
    samples = opts["samples_per_pixel"]
    bits_allocated = opts["bits_allocated"]
    if is_single_bit(bits_allocated):
        src = single_bit_frame(src, rows, columns, samples)
        bits_allocated = 8
    planar = opts.get("planar_configuration", 0) if samples > 1 else 0
    # pydicom 3 turns an ndarray into pixel-interleaved bytes, whatever the
    # dataset's Planar Configuration says.
    if runner is not None and _is_array(runner):
        planar = 0
    frame = Frame(
        rows,
        columns,
        samples,
        bits_allocated,
        byteorder=opts.get("byteorder") or "<",
        planar_configuration=planar,
        bytes_per_sample=_container_size(
            as_bytes_view(src).nbytes, rows * columns * samples, bits_allocated
        ),
        sign_extend=opts.get("pixel_representation", 0) == 1,
    )
    return encode(src, frame)


def _is_array(runner: Any) -> bool:
    """True if pydicom's runner encodes an ndarray; a runner built by hand,
    with no source set, has no source type at all."""
    try:
        return bool(runner.is_array)
    except AttributeError:
        return False


def decode_pixel_data(src: bytes, runner: Any) -> bytes:
    """Return one RLE Lossless frame decoded, for pydicom 3's decoders.

    The frame is returned little endian, colour by pixel, and the runner's
    ``planar_configuration`` (and with pydicom 3.1, the frame's) is set to 0
    so that pydicom does not reorder it. A single-bit frame gives one byte
    (0 or 1) per pixel, as pydicom's own RLE decoder does.
    ``rle_segment_order="<"`` reads non-conformant frames whose segments
    hold the least significant byte first.

    Parameters
    ----------
    src : bytes
        One RLE Lossless frame.
    runner : pydicom.pixels.decoders.base.DecodeRunner
        Its options give ``rows``, ``columns``, ``samples_per_pixel`` and
        ``bits_allocated``.

    Returns
    -------
    bytes
        The decoded frame.

    Raises
    ------
    TypeError
        If an option is missing.
    ValueError
        If an option is out of range or `src` is not a valid RLE frame.
    """
    opts = runner.options
    rows = opts.get("rows")
    columns = opts.get("columns")
    samples = opts.get("samples_per_pixel")
    bits_allocated = opts.get("bits_allocated")
    order = opts.get("rle_segment_order", ">")
    # The types are part of the key: 16.0 == 16 and True == 1, but only
    # what passed the checks may reuse their result.
    key = (
        rows, columns, samples, bits_allocated, order,
        type(rows), type(columns), type(samples), type(bits_allocated), type(order),
    )  # fmt: skip
    try:
        decode = _DECODERS.get(key)
    except TypeError:  # an unhashable option, refused by the checks
        decode = None
    if decode is None:
        decode = _decoder(rows, columns, samples, bits_allocated, order)
        if len(_DECODERS) >= 64:
            _DECODERS.clear()
        _DECODERS[key] = decode
    frame = decode(src if type(src) is bytes else _as_bytes_view(src))
    if samples != 1:
        runner.set_option("planar_configuration", 0)
        _set_frame_option(runner, "planar_configuration", 0)
    if bits_allocated == 1:  # checked above: 1 here is an int, not True
        _set_frame_option(runner, "bits_allocated", 8)  # one byte per pixel
    return frame


def _set_frame_option(runner: Any, name: str, value: int) -> None:
    """Describe the decoded frame to pydicom 3.1+, which reads the layout of
    each frame from its frame options (set from the dataset before the
    decoder runs), not from the runner's options."""
    setter = getattr(runner, "set_frame_option", None)
    if setter is None:  # pydicom 3.0
        return
    try:
        index = runner.index
    except ValueError:  # a runner built by hand, with no frame under way
        return
    setter(index, name, value)


# Checked frame descriptions, from the runner's options to a function that
# decodes a frame: every frame of a dataset has the same description, so the
# checks run once per dataset instead of once per frame.
_DECODERS: dict[tuple[Any, ...], Callable[[Any], bytes]] = {}


def _as_bytes_view(src: Any) -> memoryview:
    from dicomrle.codec.frame import as_bytes_view

    return as_bytes_view(src)


def _decoder(
    rows: Any, columns: Any, samples: Any, bits_allocated: Any, order: Any
) -> Callable[[Any], bytes]:
    """Check a frame's description (the runner's options); return a
    function decoding such a frame."""
    from dicomrle.codec import rle
    from dicomrle.codec.frame import check_single_bit, is_single_bit

    missing = [
        name
        for name, value in zip(
            REQUIRED, (rows, columns, samples, bits_allocated), strict=True
        )
        if value is None
    ]
    if missing:
        raise TypeError(f"missing decoding option(s): {', '.join(map(repr, missing))}")
    if order not in ("<", ">"):
        raise ValueError(f"'rle_segment_order' must be '<' or '>', not {order!r}")
    if is_single_bit(bits_allocated):
        check_single_bit(samples)
        bits_allocated = 8
    return partial(
        rle.decode,
        rle.Frame(rows, columns, samples, bits_allocated, lsb_first=order == "<"),
    )


def _container_size(length: int, samples: int, bits_allocated: int) -> int | None:
    """Return the bytes per sample of a frame of `length` bytes.

    None means Bits Allocated / 8, also for a frame with trailing padding.
    """
    if not isinstance(bits_allocated, int) or bits_allocated < 8 or samples < 1:
        return None  # left for encode() to reject
    full = bits_allocated // 8
    if length >= samples * full:
        return None
    sizes = [n for n in (1, 2, 4, 8) if n <= full]
    size, remainder = divmod(length, samples)
    if remainder == 0 and size in sizes:
        return size
    allowed = (
        ", ".join(map(str, sizes[:-1])) + f" or {sizes[-1]}" if len(sizes) > 1 else "1"
    )
    raise ValueError(
        f"'src' holds {length} bytes, which is not {samples} samples of {allowed} bytes"
    )


# ---------------------------------------------------- registration
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
    coders: list[tuple[Any, tuple[str, str], object, str]] = [
        (_rle_encoder(), PLUGIN, encode_pixel_data, "encoder")
    ]
    if (decoder := _rle_decoder()) is not None:
        coders.append((decoder, DECODER_PLUGIN, decode_pixel_data, "decoder"))
    # Both are checked before either is added: a clash changes nothing.
    missing = [c for c in coders if not _has(c[0], label, c[2], c[3])]
    for coder, path, _, _ in missing:
        coder.add_plugin(label, path)
