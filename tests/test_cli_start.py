"""The command's start-up: a plain command line is read without argparse,
exactly as argparse reads it, and the byte route imports only what it
needs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dicomrle import cli
from support.corpus import find

PLAIN = [
    ["compress"],
    ["compress", "a.dcm", "b", "-o", "out"],
    ["compress", "in", "-r", "-j", "3", "--overwrite", "--verify", "-v"],
    ["compress", "in", "--recursive", "--jobs", "2", "--output", "x", "--verbose"],
    ["compress", "in", "--jobs=4", "--output=o", "--fsync"],
    ["compress", "-j2", "in", "-o", "o"],
    ["compress", "name=with=equals", "-o", "o"],
    ["decompress", "in", "-o", "out", "-j", "1", "-r", "--fsync"],
    ["decompress", "in", "--overwrite", "-v"],
    ["compress", "in", "-j", "07"],
]
# Left to argparse: help, errors, forms the quick reader does not take.
OTHER = [
    [],
    ["-h"],
    ["compress", "-h"],
    ["compress", "--help"],
    ["compress", "in", "-j", "0"],
    ["compress", "in", "-j", "x"],
    ["compress", "in", "-j"],
    ["compress", "in", "-o"],
    ["compress", "in", "-rv"],
    ["compress", "in", "--rec"],
    ["compress", "in", "--", "-x"],
    ["compress", "in", "-oout"],
    ["compress", "in", "-o", "-x"],
    ["decompress", "in", "--verify"],
    ["compres", "in"],
    ["compress", "in", "--jobs=0"],
    ["compress", "in", "--unknown"],
]


@pytest.mark.parametrize("argv", PLAIN, ids=" ".join)
def test_quick_parse_reads_as_argparse(argv):
    quick = cli.quick_parse(argv)
    assert quick is not None
    assert vars(quick) == vars(cli._parser().parse_args(argv))


@pytest.mark.parametrize("argv", OTHER, ids=" ".join)
def test_quick_parse_leaves_the_rest_to_argparse(argv):
    assert cli.quick_parse(argv) is None


def test_argparse_still_answers_errors(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["compress", "in", "-j", "0"])
    assert exc.value.code == 2
    assert "must be at least 1" in capsys.readouterr().err


def test_the_byte_route_starts_lean(tmp_path):
    """One file through the command imports neither argparse, typing,
    dataclasses, pathlib nor multiprocessing: each costs milliseconds of
    start-up, and a single file needs none of them."""
    code = (
        "import sys; before = set(sys.modules); import dicomrle.cli as c;"
        f"c.main(['compress', {str(find('CT_small.dcm'))!r}, '-o', {str(tmp_path)!r}]);"
        "print(*sorted(m for m in ('argparse', 'typing', 'dataclasses', 'pathlib',"
        " 'multiprocessing', 'pydicom', 'numpy') if m in set(sys.modules) - before))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines()[-1] == ""
    assert (tmp_path / "CT_small.dcm").exists()
