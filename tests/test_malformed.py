"""Our decoder against every malformation of tests/support/malformed.py: accepted
variants give exactly the policy's pixels (and the `extra` flag of
``_rle.decode_into``), rejected ones raise ValueError naming what is wrong;
the plain-Python policy and the C kernel agree on random damage too; and
GDCM's RLE copy of MR_small_padded.dcm decodes as DCMTK's dcmdrle does."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dicomrle
from dicomrle.codec import rle as _rle
from support import malformed
from support.corpus import find
from support.decoders import decode_file_dcmtk, require_tool

VARIANTS = malformed.variants()
ACCEPTED = [v for v in VARIANTS if v.accept]
REJECTED = [v for v in VARIANTS if not v.accept]


def kernel(v: malformed.Variant) -> _rle.Frame:
    return _rle.Frame(
        v.rows, v.columns, v.samples, v.bits, byteorder="<", planar_configuration=1
    )


def length(v: malformed.Variant) -> int:
    return v.rows * v.columns * v.samples * (v.bits // 8)


def frame_kwargs(v: malformed.Variant, **more: object) -> dict:
    return {
        "rows": v.rows,
        "columns": v.columns,
        "samples_per_pixel": v.samples,
        "bits_allocated": v.bits,
        **more,
    }


def test_the_policy_is_consistent() -> None:
    """Each variant's verdict is what the policy's reference decoder gives."""
    malformed.verify()
    assert {v.name for v in ACCEPTED} & {v.name for v in REJECTED} == set()


@pytest.mark.parametrize("v", ACCEPTED, ids=lambda v: v.id)
def test_accepted(v: malformed.Variant) -> None:
    assert _rle.decode(kernel(v), v.frame) == v.planar_bytes()
    dst = bytearray(length(v) + 5)
    dst[-5:] = b"guard"
    assert _rle.decode_into(kernel(v), v.frame, dst) is v.extra
    assert dst[:-5] == v.planar_bytes() and dst[-5:] == b"guard"

    # The public function: either layout, either byte order.
    assert v.pixels is not None
    for order in "<>":
        dtype = np.dtype(f"{order}u{v.bits // 8}")
        interleaved = np.ascontiguousarray(v.pixels.astype(dtype)).tobytes()
        planar = np.ascontiguousarray(
            v.pixels.transpose(2, 0, 1).astype(dtype)
        ).tobytes()
        got = dicomrle.decode_frame(v.frame, **frame_kwargs(v, byteorder=order))
        assert got == interleaved
        if v.samples > 1:
            got = dicomrle.decode_frame(
                v.frame, **frame_kwargs(v, byteorder=order, planar_configuration=1)
            )
            assert got == planar


def expected_message(v: malformed.Variant) -> str:
    """A regex of what our message must name, from the reference's numbers."""
    try:
        malformed.reference_decode(v.frame, v.rows, v.columns, v.samples, v.bits)
    except ValueError as exc:
        kind, _, numbers = exc.args
    else:  # pragma: no cover - test_the_policy_is_consistent fails first
        raise AssertionError(f"{v.id} is accepted by the reference")
    assert kind == v.error
    need = v.samples * (v.bits // 8)
    if kind == "header":
        (length,) = numbers
        return rf"^the RLE frame is {length} bytes, shorter than its 64-byte header$"
    if kind == "segment_count":
        count, needed = numbers
        word = "segment" if count == 1 else "segments"
        return rf"^the RLE header says {count} {word}, but .* needs {needed}$"
    if kind == "offset":
        k, at = numbers
        return (
            rf"^RLE segment {k + 1} (of {need} starts at offset {at}, "
            rf"(inside the 64-byte header|past the end of the {len(v.frame)}-byte "
            rf"frame)|offset {at} is not after segment {k}'s offset \d+)$"
        )
    k, decoded, plane = numbers
    word = "byte" if decoded == 1 else "bytes"
    return (
        rf"^RLE segment {k + 1} of {need} decodes to {decoded} {word}, "
        rf"but its plane needs {plane} \(rows x columns\)$"
    )


@pytest.mark.parametrize("v", REJECTED, ids=lambda v: v.id)
def test_rejected(v: malformed.Variant) -> None:
    message = expected_message(v)
    with pytest.raises(ValueError, match=message):
        _rle.decode(kernel(v), v.frame)
    with pytest.raises(ValueError, match=message):
        _rle.decode_into(kernel(v), v.frame, bytearray(length(v)))
    with pytest.raises(ValueError, match=message):
        dicomrle.decode_frame(v.frame, **frame_kwargs(v))


def test_out_of_order_message_names_both_offsets() -> None:
    """The one message whose second offset the reference does not give."""
    (v,) = [x for x in REJECTED if x.id == "offset-out-of-order[grey16]"]
    first, second = malformed.offsets_of(v.frame)[:2]
    with pytest.raises(ValueError) as info:
        _rle.decode(kernel(v), v.frame)
    assert str(info.value) == (
        f"RLE segment 2 offset {second} is not after segment 1's offset {first}"
    )


# Damage to a variant: (position as a fraction of the frame, new byte) pairs
# and a cut; the C kernel must give the reference's verdict, pixels, extra.
DAMAGE = st.tuples(
    st.sampled_from(VARIANTS),
    st.lists(
        st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)),
        max_size=4,
    ),
    st.floats(0, 1),
)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(DAMAGE)
def test_kernel_agrees_with_the_policy_on_damaged_frames(damage) -> None:
    v, changes, keep = damage
    frame = bytearray(v.frame)
    for where, value in changes:
        frame[int(where * len(frame))] = value
    frame = bytes(frame[: max(int(keep * len(frame) * 1.25), 0)])
    try:
        want = malformed.reference_decode(frame, v.rows, v.columns, v.samples, v.bits)
    except ValueError as exc:
        with pytest.raises(ValueError) as info:
            _rle.decode(kernel(v), frame)
        assert re.match(expected_kind(exc.args[0]), str(info.value)), (
            exc.args,
            str(info.value),
        )
        return
    dst = bytearray(length(v))
    extra = _rle.decode_into(kernel(v), frame, dst)
    assert (bytes(dst), extra) == want


def expected_kind(kind: str) -> str:
    return {
        "header": r"^the RLE frame is",
        "segment_count": r"^the RLE header says",
        "offset": r"^RLE segment \d+ (of \d+ starts at|offset)",
        "short": r"^RLE segment \d+ of \d+ decodes to",
    }[kind]


def test_gdcm_copy_of_mr_small_padded(tmp_path: Path) -> None:
    """GDCM's RLE copy of MR_small_padded.dcm (Pixel Data one row longer
    than the image; every segment decodes past its plane, odd segments
    without pad bytes): dicomrle.pixel_array gives what dcmdrle gives."""
    src = find("MR_small_padded.dcm")
    copy = tmp_path / "gdcm-rle.dcm"
    subprocess.run(
        [require_tool("gdcmconv"), "--rle", str(src), str(copy)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    ds = pydicom.dcmread(copy)
    assert ds.file_meta.TransferSyntaxUID == pydicom.uid.RLELossless
    ours = dicomrle.pixel_array(ds)
    theirs = decode_file_dcmtk(copy)
    np.testing.assert_array_equal(ours, theirs)
    assert ours.dtype == theirs.dtype and ours.shape == (ds.Rows, ds.Columns)
    # Its frame is what tests/support/malformed.py's gdcm-padded variant copies:
    # each segment longer than its plane, which the binding reports.
    value = ds.PixelData  # Basic Offset Table item, then the frame's item
    at = 8 + int.from_bytes(value[4:8], "little")
    frame = value[at + 8 : at + 8 + int.from_bytes(value[at + 4 : at + 8], "little")]
    dst = bytearray(ds.Rows * ds.Columns * 2)
    assert _rle.decode_into(
        _rle.Frame(ds.Rows, ds.Columns, 1, 16, byteorder="<", planar_configuration=0),
        frame,
        dst,
    )
