"""Bad input raises ValueError or TypeError, and the message names the
parameter at fault."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.uid import ExplicitVRLittleEndian, JPEG2000Lossless, RLELossless

from dicomrle import encode_frame
from dicomrle.codec import rle as _rle
from dicomrle.plugin import encode_pixel_data

GOOD = dict(rows=2, columns=3, samples_per_pixel=1, bits_allocated=16)
SRC = bytes(12)  # 2 x 3 x 1 x 2 bytes


def test_good_call_works():
    """The baseline the cases below change one parameter of."""
    assert len(encode_frame(SRC, **GOOD)) > 64


@pytest.mark.parametrize(
    ("src", "changes"),
    [
        (bytes(11), {}),
        (bytes(17), dict(samples_per_pixel=3)),
        (bytes(23), dict(bits_allocated=32)),
        (bytes(47), dict(bits_allocated=64)),
        (bytes(6 * 3 * 4 - 1), dict(samples_per_pixel=3, bits_allocated=32)),
        (b"", {}),
        (bytearray(), {}),
        (np.zeros(0, np.uint8), {}),
        (np.zeros((2, 2), np.uint16), {}),  # 8 bytes, 12 needed
    ],
    ids=["short", "short-rgb", "short-32", "short-64", "short-rgb32", "empty-bytes",
         "empty-bytearray", "empty-array", "array-too-small"],
)
def test_src_too_short(src, changes):
    with pytest.raises(ValueError, match="'src'"):
        encode_frame(src, **{**GOOD, **changes})


@pytest.mark.parametrize("name", ["rows", "columns", "samples_per_pixel"])
@pytest.mark.parametrize("value", [0, -1, -65535])
def test_size_not_positive(name, value):
    with pytest.raises(ValueError, match=f"'{name}'"):
        encode_frame(SRC, **{**GOOD, name: value})


@pytest.mark.parametrize("name", ["rows", "columns"])
@pytest.mark.parametrize("value", [65536, 2**32, 2**64])
def test_size_too_large(name, value):
    with pytest.raises(ValueError, match=f"'{name}'"):
        encode_frame(SRC, **{**GOOD, name: value})


@pytest.mark.parametrize("name", ["rows", "columns", "samples_per_pixel"])
@pytest.mark.parametrize("value", [True, False, 2.0, 1.5, np.float64(2.0), "2", None,
                                   [2]])
def test_size_not_an_int(name, value):
    with pytest.raises(TypeError, match=f"'{name}'"):
        encode_frame(SRC, **{**GOOD, name: value})


@pytest.mark.parametrize("name", ["rows", "columns", "samples_per_pixel"])
def test_size_numpy_int_is_accepted(name):
    """numpy integers are ints (operator.index); the result is unchanged."""
    assert encode_frame(SRC, **{**GOOD, name: np.uint16(GOOD[name])}) == encode_frame(
        SRC, **GOOD
    )


@pytest.mark.parametrize("value", [0, 7, 12, 24, 48, 128, -16, True, None, "16"])
def test_bits_allocated_invalid(value):
    with pytest.raises(ValueError, match="'bits_allocated'"):
        encode_frame(bytes(64), **{**GOOD, "bits_allocated": value})


@pytest.mark.parametrize(
    "changes",
    [dict(bits_allocated=16.0), dict(samples_per_pixel=3, planar_configuration=1.0)],
    ids=["bits_allocated", "planar_configuration"],
)
def test_float_parameters_rejected(changes):
    name = next(iter(changes.keys() - {"samples_per_pixel"}))
    with pytest.raises((TypeError, ValueError), match=f"'{name}'"):
        encode_frame(bytes(64), **{**GOOD, **changes})


@pytest.mark.parametrize(
    ("samples", "bits"),
    [(16, 8), (8, 16), (4, 32), (2, 64), (15, 16), (255, 8)],
)
def test_more_than_15_segments(samples, bits):
    with pytest.raises(ValueError, match="'samples_per_pixel'") as info:
        encode_frame(bytes(2 * 3 * samples * bits // 8), **{
            **GOOD, "samples_per_pixel": samples, "bits_allocated": bits})
    assert "15" in str(info.value)


@pytest.mark.parametrize(("samples", "bits"), [(15, 8), (7, 16), (3, 32), (1, 64)])
def test_15_segments_or_fewer_accepted(samples, bits):
    frame = encode_frame(bytes(2 * 3 * samples * bits // 8), **{
        **GOOD, "samples_per_pixel": samples, "bits_allocated": bits})
    assert int.from_bytes(frame[:4], "little") == samples * bits // 8


@pytest.mark.parametrize("value", ["=", "|", "little", "big", "", None, 0, b"<", ["<"]])
def test_byteorder_invalid(value):
    with pytest.raises(ValueError, match="'byteorder'"):
        encode_frame(SRC, **GOOD, byteorder=value)


@pytest.mark.parametrize("value", [2, -1, None, True, "1"])
def test_planar_configuration_invalid(value):
    with pytest.raises(ValueError, match="'planar_configuration'"):
        encode_frame(bytes(36), **{**GOOD, "samples_per_pixel": 3},
                     planar_configuration=value)


@pytest.mark.parametrize("src", ["abc" * 4, 12, 12.0, None, [0] * 12, (0,) * 12,
                                 {0: 0}, object()],
                         ids=["str", "int", "float", "None", "list", "tuple", "dict",
                              "object"])
def test_src_not_a_buffer(src):
    with pytest.raises(TypeError, match="'src'"):
        encode_frame(src, **GOOD)


@pytest.mark.parametrize(
    "src",
    [
        memoryview(bytes(24))[::2],
        np.zeros((2, 6), np.uint16)[:, ::2],
        np.zeros((4, 3), np.uint16)[::2],
        np.asfortranarray(np.zeros((2, 3), np.uint16)),
        np.zeros((3, 2), np.uint16).T,
    ],
    ids=["memoryview-step", "array-column-step", "array-row-step", "fortran",
         "transposed"],
)
def test_src_not_contiguous(src):
    with pytest.raises(ValueError, match="'src'.*contiguous"):
        encode_frame(src, **GOOD)


def test_src_datetime_array():
    with pytest.raises((TypeError, ValueError), match="'src'"):
        encode_frame(np.zeros((2, 3), "M8[s]"), **GOOD)


def test_encode_row_empty():
    with pytest.raises(ValueError, match="row"):
        _rle.encode_row(b"")


@pytest.mark.parametrize("src", [None, "ab", 3])
def test_encode_row_not_a_buffer(src):
    with pytest.raises(TypeError):
        _rle.encode_row(src)


@pytest.mark.parametrize(
    "args", [(0, 1, 1, 1), (1, 0, 1, 1), (1, 1, 0, 1), (1, 1, 1, 3), (1, 1, 16, 1),
             (1, 1, 4, 4)],
)
def test_encode_bound_invalid(args):
    rows, columns, samples, bytes_allocated = args
    with pytest.raises(ValueError):
        _ = _rle.Frame(rows, columns, samples, 8 * bytes_allocated).encode_bound


# The pydicom plugin, called with the pydicom 2.x keyword arguments.

PLUGIN_KWARGS = dict(
    transfer_syntax_uid=RLELossless,
    byteorder="<",
    rows=2,
    columns=3,
    samples_per_pixel=1,
    number_of_frames=1,
    bits_allocated=16,
    bits_stored=16,
    pixel_representation=0,
    photometric_interpretation="MONOCHROME2",
)


@pytest.mark.parametrize(
    "uid",
    [ExplicitVRLittleEndian, JPEG2000Lossless, "1.2.3.4", "1.2.840.10008.1.2.5.1"],
)
def test_plugin_wrong_transfer_syntax(uid):
    with pytest.raises(ValueError, match="'transfer_syntax_uid'"):
        encode_pixel_data(SRC, **{**PLUGIN_KWARGS, "transfer_syntax_uid": uid})


@pytest.mark.parametrize(
    ("length", "changes"),
    [
        (1, {}),
        (5, {}),  # 6 samples: not 1 byte each, not 2
        (7, {}),
        (11, {}),
        (0, {}),
        (17, dict(samples_per_pixel=3)),  # 18 samples of 16 bits need 36
        (7, dict(bits_allocated=32)),
        (13, dict(bits_allocated=32)),
        (18, dict(bits_allocated=32)),  # 3 bytes a sample
        (30, dict(bits_allocated=64)),  # 5 bytes a sample
    ],
)
def test_plugin_src_not_whole_samples(length, changes):
    with pytest.raises(ValueError, match="'src'"):
        encode_pixel_data(bytes(length), **{**PLUGIN_KWARGS, **changes})


def test_plugin_bad_sizes_name_the_parameter():
    with pytest.raises(ValueError, match="'rows'"):
        encode_pixel_data(SRC, **{**PLUGIN_KWARGS, "rows": 0})
    with pytest.raises(ValueError, match="'bits_allocated'"):
        encode_pixel_data(SRC, **{**PLUGIN_KWARGS, "bits_allocated": 12})
    with pytest.raises(ValueError, match="'byteorder'"):
        encode_pixel_data(SRC, **{**PLUGIN_KWARGS, "byteorder": "="})


@pytest.mark.parametrize(
    "name", ["rows", "columns", "samples_per_pixel", "bits_allocated"]
)
def test_plugin_missing_option(name):
    kwargs = {k: v for k, v in PLUGIN_KWARGS.items() if k != name}
    with pytest.raises(TypeError, match=f"'{name}'"):
        encode_pixel_data(SRC, **kwargs)
