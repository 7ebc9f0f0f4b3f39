"""Files written from ``dicomrle.compress`` are no worse DICOM than their
sources: ``dciodvfy`` (Debian's dicom3tools) reports no error for them that
it does not report for the source. dciodvfy checks the attributes against
the IOD and walks the encapsulated items; it does not decode the frames.

No error line is normalised away. Where dciodvfy cannot check a source (it
aborts on uncompressed Bits Allocated 32: ``Assertion `bitsallocated <=
bytesinword*8u' failed``), the baseline is the source with its Pixel Data
removed, written in its own transfer syntax, less the error lines that
removal causes (those naming <PixelData> or "condition unsatisfied"): the
other modules are checked all the same, and the encapsulated Pixel Data of
our file is checked against no baseline at all.
"""

from __future__ import annotations

import pydicom
import pytest

import dicomrle
from dicomrle.dicom.compress import write_dataset
from support.corpus import find
from support.dciodvfy import baseline, dciodvfy

# pydicom warns about an invalid UID in rtdose.dcm and rtdose_expb.dcm.
pytestmark = pytest.mark.filterwarnings("ignore:Invalid value for VR UI:UserWarning")


REPRESENTATIVE = [
    "CT_small.dcm",
    "MR_small.dcm",
    "color-pl.dcm",  # Planar Configuration 1
    "color-px.dcm",
    "SC_rgb_16bit.dcm",
    "US1_UNCR.dcm",
    "emri_small.dcm",  # 10 frames
    "MR_small_bigendian.dcm",
    "rtdose.dcm",  # 32-bit, 15 frames; dciodvfy aborts on the source
    "rtdose_expb.dcm",  # 32-bit big-endian; the same
    "SC_rgb_32bit_2frame.dcm",  # 32-bit RGB; the same
    "liver.dcm",  # Segmentation, Bits Allocated 1, 3 frames
    "liver_expb.dcm",  # the same, big-endian
]


@pytest.mark.parametrize(
    "name",
    # 8-bit in big-endian OW, with OW palette tables that must be swapped.
    [*REPRESENTATIVE, "OBXXXX1A_expb_2frame.dcm"],
)
def test_no_new_errors(name, tmp_path):
    src = find(name)
    ours = tmp_path / name
    write_dataset(ours, dicomrle.compress(pydicom.dcmread(src)))
    code, iod, errors = dciodvfy(ours)
    assert code >= 0, f"dciodvfy aborted ({code}) on our file"
    base_iod, base_errors, how = baseline(src, tmp_path)
    assert iod == base_iod  # empty for both if it finds no IOD (color-pl.dcm)
    new = sorted(set(errors) - base_errors)
    assert not new, f"new errors against the {how}:\n" + "\n".join(new)


def test_an_error_is_seen(tmp_path):
    """The check can fail. dciodvfy checks the attributes and walks the
    encapsulated items, but checks neither the offsets nor the RLE segments
    (test_batch.py and test_corpus.py do): an item whose length runs past
    the end of the value is an error."""
    ds = dicomrle.compress(pydicom.dcmread(find("emri_small.dcm")))
    value = bytearray(ds.PixelData)
    first = 8 + int.from_bytes(value[4:8], "little")  # the first frame's item
    value[first + 4 : first + 8] = (len(value) + 2).to_bytes(4, "little")
    ds.PixelData = bytes(value)
    bad = tmp_path / "bad.dcm"
    write_dataset(bad, ds)
    _, _, errors = dciodvfy(bad)
    _, _, source = dciodvfy(find("emri_small.dcm"))
    assert "Error - Dicom dataset read failed" in set(errors) - set(source)
