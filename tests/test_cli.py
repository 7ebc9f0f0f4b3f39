"""The ``dicomrle compress`` command: in process through ``cli.main`` and
once through the installed console script."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file

from dicomrle import cli
from support.cli import assert_copy, digest
from support.decoders import console_script

# pydicom warns about an invalid UID in rtdose.dcm, one of its examples.
RTDOSE_UID = pytest.mark.filterwarnings("ignore:Invalid value for VR UI:UserWarning")


def written_count(stdout: str, n: int) -> bool:
    """True if the summary says `n` files were written."""
    return re.search(rf"(\b{n} written\b|\bwritten: {n}\b)", stdout) is not None


def no_partial_files(folder: Path) -> bool:
    names = [n for _, _, files in os.walk(folder) for n in files]
    return not [n for n in names if n.endswith(".part")]


@RTDOSE_UID
def test_default_compresses_the_examples(tmp_path, capsys):
    examples = cli.example_paths()
    assert examples and "CT_small.dcm" in {p.name for p in examples}
    before = {p: digest(p) for p in examples}
    out = tmp_path / "out"

    assert cli.main(["compress", "-o", str(out)]) == 0

    stdout = capsys.readouterr().out
    assert written_count(stdout, len(examples)), stdout
    for src in examples:
        assert_copy(src, out / src.name)
        assert digest(src) == before[src]
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in examples)
    assert no_partial_files(tmp_path)


@pytest.fixture
def inputs(tmp_path):
    """Two good files, a non-DICOM file and a truncated DICOM file."""
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("CT_small.dcm", "color-pl.dcm", "MR_truncated.dcm"):
        shutil.copy(get_testdata_file(name), folder / name)
    (folder / "notes.txt").write_text("not a DICOM file\n")
    return folder


def test_skips_and_failures(inputs, tmp_path, capsys):
    files = sorted(inputs.iterdir())
    before = {p: digest(p) for p in files}
    out = tmp_path / "out"

    assert cli.main(["compress", *map(str, files), "-o", str(out)]) == 1

    captured = capsys.readouterr()
    assert written_count(captured.out, 2), captured.out
    assert re.search(r"notes\.txt.*skipped", captured.out), captured.out
    assert "MR_truncated.dcm" in captured.err
    assert_copy(inputs / "CT_small.dcm", out / "CT_small.dcm")
    assert_copy(inputs / "color-pl.dcm", out / "color-pl.dcm")
    assert not (out / "notes.txt").exists()
    assert not (out / "MR_truncated.dcm").exists()
    assert {p: digest(p) for p in files} == before
    assert no_partial_files(tmp_path)


def test_compressed_input_is_skipped(tmp_path, capsys):
    src = Path(get_testdata_file("MR_small_RLE.dcm"))
    out = tmp_path / "out"
    assert cli.main(["compress", str(src), "-o", str(out)]) == 0
    assert re.search(r"MR_small_RLE\.dcm.*skipped", capsys.readouterr().out)
    assert not (out / src.name).exists()


def test_console_script(inputs, tmp_path):
    """The installed command: one good file written, one failure, exit 1."""
    script = console_script()
    good, bad = inputs / "CT_small.dcm", inputs / "MR_truncated.dcm"
    before = digest(good), digest(bad)
    out = tmp_path / "out"
    result = subprocess.run([script, "compress", str(good), str(bad), "-o", str(out)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stderr
    assert written_count(result.stdout, 1), result.stdout
    assert "MR_truncated.dcm" in result.stderr
    assert_copy(good, out / good.name)
    assert not (out / bad.name).exists()
    assert (digest(good), digest(bad)) == before
    assert no_partial_files(tmp_path)
