"""``dicomrle decompress`` through the installed console script: pydicom's
RLE examples, mirrored trees, skips and failures with their reasons, -j 1
and -j 2, --verbose, a compress/decompress round trip over the corpus, and
its output read by DCMTK and checked by dciodvfy."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian

from dicomrle.cli import RLE_EXAMPLES
from support.cli import (
    TREES,
    assert_uncompressed_copy,
    corrupt_rle,
    digest,
    files_under,
    part_files,
    reasons,
    run,
    summary,
)
from support.corpus import find, image_id, images
from support.dciodvfy import baseline, dciodvfy
from support.decoders import require_tool

# pydicom warns about an invalid UID in rtdose.dcm and rtdose_expb.dcm, and
# about odd values in a few other corpus files.
CORPUS_WARNINGS = pytest.mark.filterwarnings("ignore::UserWarning")


def decompress(*args: object, **kwargs) -> subprocess.CompletedProcess:
    """``dicomrle decompress ARGS...``."""
    return run("decompress", *args, **kwargs)


def rle_paths() -> list[Path]:
    return [find(name) for name in RLE_EXAMPLES]


def test_default_decompresses_the_rle_examples(tmp_path):
    """No PATH: pydicom's RLE examples, into ./dicomrle-output."""
    before = {p: digest(p) for p in rle_paths()}
    result = decompress(cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    out = tmp_path / "dicomrle-output"
    assert files_under(out) == set(RLE_EXAMPLES)
    assert summary(result.stdout) == {
        "files": len(RLE_EXAMPLES),
        "written": len(RLE_EXAMPLES),
        "skipped": 0,
        "failed": 0,
    }
    for src in rle_paths():
        assert_uncompressed_copy(src, out / src.name)
        # Native Pixel Data holds exactly the frames, padded to even.
        ds = pydicom.dcmread(out / src.name)
        frames = int(ds.get("NumberOfFrames") or 1)
        length = frames * ds.Rows * ds.Columns * ds.SamplesPerPixel
        length *= ds.BitsAllocated // 8
        assert len(ds.PixelData) == length + length % 2
        assert ds.get("PlanarConfiguration", 0) == 0
    assert {p: digest(p) for p in rle_paths()} == before


# The tree: the files it must write, skip and fail (support.cli.TREES).
TREE = TREES["decompress"]
WRITTEN = TREE.written


@pytest.fixture
def tree(tmp_path) -> Path:
    return TREE.make(tmp_path / "tree")


def test_corrupt_file_alone(tmp_path):
    """One corrupt file: exit code 1, one line on stderr, no output, no
    temporary file, the input unchanged."""
    src = corrupt_rle(tmp_path / "corrupt.dcm")
    before = digest(src)
    out = tmp_path / "out"
    result = decompress(src, "-o", out)
    assert result.returncode == 1
    failures = [x for x in result.stderr.splitlines() if "failed" in x]
    assert len(failures) == 1, result.stderr
    assert "RLE segment 1 of 2 decodes to" in failures[0]
    assert "Traceback" not in result.stderr
    assert not files_under(out) and not part_files(tmp_path)
    assert digest(src) == before


def test_existing_outputs_skipped_unless_overwrite(tmp_path):
    paths = rle_paths()
    out = tmp_path / "out"
    assert decompress(*paths, "-o", out).returncode == 0
    spoiled = out / paths[0].name
    spoiled.write_bytes(b"old output")
    untouched = {p.name: digest(out / p.name) for p in paths}

    result = decompress(*paths, "-o", out)
    assert result.returncode == 0
    assert summary(result.stdout)["written"] == 0
    assert set(reasons(result.stdout).values()) == {
        ("skipped", "output exists (use --overwrite)")
    }
    assert {p.name: digest(out / p.name) for p in paths} == untouched

    result = decompress(*paths, "-o", out, "--overwrite")
    assert result.returncode == 0
    assert summary(result.stdout)["written"] == len(paths)
    assert_uncompressed_copy(paths[0], spoiled)


def test_verbose(tree, tmp_path):
    """--verbose names the route of each file and gives the failure's
    traceback."""
    result = decompress(tree, "-o", tmp_path / "out", "-r", "-j", 2, "--verbose")
    assert result.returncode == 1
    for rel in WRITTEN:
        assert re.search(rf"{re.escape(rel)}: .* ms \[(bytes|pydicom.*)\]", result.stdout), rel
    assert re.search(r"notes\.txt: skipped: not a DICOM file \[", result.stdout)
    assert "Traceback" in result.stderr
    assert "ValueError: frame 0: RLE segment 1 of 2" in result.stderr


@CORPUS_WARNINGS
def test_round_trip_over_the_corpus(tmp_path):
    """``compress`` then ``decompress`` gives back every corpus image's
    pixels. Decompress writes Explicit VR Little Endian with Planar
    Configuration 0, so a big-endian or planar source compares as pixel
    values; a little-endian interleaved one byte for byte."""
    src, rle, back = tmp_path / "src", tmp_path / "rle", tmp_path / "back"
    corpus = {image_id(i): i for i in images()}
    for rel, image in corpus.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(image.path, src / rel)

    result = run("compress", src, "-o", rle, "-r", "-j", 2, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    assert summary(result.stdout)["written"] == len(corpus)
    result = decompress(rle, "-o", back, "-r", "-j", 2, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    assert files_under(back) == set(corpus)

    for rel, image in corpus.items():
        ds = pydicom.dcmread(src / rel)
        out = pydicom.dcmread(back / rel)
        assert out.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian, rel
        assert out.get("PlanarConfiguration", 0) == 0, rel
        np.testing.assert_array_equal(out.pixel_array, ds.pixel_array, err_msg=rel)
        length = image.frames * ds.Rows * ds.Columns * image.samples
        length *= image.bits_allocated // 8
        assert len(out.PixelData) == length + length % 2, rel
        if not image.big_endian and image.planar == 0:
            assert out.PixelData[:length] == ds.PixelData[:length], rel


DCMTK_NAMES = ["MR_small_RLE.dcm", "SC_rgb_rle_16bit_2frame.dcm", "emri_small_RLE.dcm"]


@pytest.mark.parametrize("name", DCMTK_NAMES)
def test_dcmtk_reads_our_output(name, tmp_path):
    """DCMTK reads our output as it reads its own decompression of the same
    file (dcmdrle): the same dump but for the file meta group, and
    dcmconv +te rewrites it."""
    src = find(name)
    ours = tmp_path / "ours" / name
    result = decompress(src, "-o", ours.parent)
    assert result.returncode == 0, result.stderr

    theirs = tmp_path / "dcmdrle.dcm"
    subprocess.run([require_tool("dcmdrle"), src, theirs], check=True, timeout=120)

    def dump(path: Path) -> list[str]:
        text = subprocess.run(
            [require_tool("dcmdump"), "-M", "+L", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
        return [x for x in text.splitlines() if not x.startswith("(0002,")]

    # The data sets dump the same, Pixel Data's VR and length included; only
    # the file meta group may differ (DCMTK names itself there).
    assert dump(ours) == dump(theirs)
    assert np.array_equal(
        pydicom.dcmread(ours).pixel_array, pydicom.dcmread(theirs).pixel_array
    )
    converted = tmp_path / "te.dcm"
    subprocess.run(
        [require_tool("dcmconv"), "+te", str(ours), str(converted)],
        check=True,
        timeout=120,
    )
    np.testing.assert_array_equal(
        pydicom.dcmread(converted).pixel_array, pydicom.dcmread(ours).pixel_array
    )


@pytest.mark.parametrize("name", DCMTK_NAMES)
def test_dciodvfy_nothing_new(name, tmp_path):
    """dciodvfy reports no error for our output that it does not report for
    the RLE source."""
    src = find(name)
    result = decompress(src, "-o", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    code, iod, errors = dciodvfy(tmp_path / "out" / name)
    assert code >= 0, f"dciodvfy aborted ({code}) on our file"
    base_iod, base_errors, how = baseline(src, tmp_path)
    assert iod == base_iod
    new = sorted(set(errors) - base_errors)
    assert not new, f"new errors against the {how}:\n" + "\n".join(new)
