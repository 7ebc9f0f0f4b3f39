"""pydicom's own RLE tests, from the sdist of the installed pydicom on PyPI,
run against dicomrle's plugins.

``pydicom_suite/adapter.py`` puts our plugins where pydicom's tests look for
pydicom's; ``pydicom_suite/differences-<version>.txt`` lists the tests that
may fail, each with the reason it is pydicom-specific. A listed test that
passes, an unlisted one that fails, and a line that matches no test all
fail here. Nothing of pydicom's test code is kept in this repository.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pydicom
import pytest

from support.decoders import PYDICOM_3, require

HERE = Path(__file__).parent / "pydicom_suite"
# The RLE test modules of each pydicom release line, as its sdist holds them.
MODULES = ["tests/pixels/test_encoder_pydicom.py", "tests/pixels/test_decoder_rle.py"]


@pytest.fixture(scope="module")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pydicom's sdist of the installed version, unpacked."""
    folder = tmp_path_factory.mktemp("pydicom-sdist")
    download = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--no-binary",
            ":all:",
            f"pydicom=={pydicom.__version__}",
            "-d",
            str(folder),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    require(
        download.returncode == 0,
        f"pydicom's sdist from PyPI ({download.stderr.strip()})",
    )
    (archive,) = folder.glob("pydicom-*.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    return folder / f"pydicom-{pydicom.__version__}"


def allowed_failures() -> dict[str, str]:
    """Pattern -> reason, from the differences file of this pydicom."""
    major_minor = ".".join(pydicom.__version__.split(".")[:2])
    path = HERE / f"differences-{major_minor}.txt"
    allowed = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            pattern, _, reason = line.partition(" | ")
            assert reason.strip(), f"{path.name}: no reason given for {pattern}"
            allowed[pattern.strip()] = reason.strip()
    return allowed


def glob(pattern: str) -> re.Pattern[str]:
    """`pattern` with ``*`` for any text; nothing else is special (node ids
    hold brackets)."""
    return re.compile(".*".join(map(re.escape, pattern.split("*"))))


def run_suite(sdist: Path, tmp_path: Path) -> dict[str, str]:
    report = tmp_path / "outcomes.json"
    env = dict(os.environ, DICOMRLE_SUITE_REPORT=str(report))
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(HERE), env.get("PYTHONPATH")])
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            *MODULES,
            "-p",
            "adapter",
            # Plain asserts: pytest's diff of two large unequal buffers (the
            # listed failures) can take many minutes.
            "--assert=plain",
            "-q",
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=",
            "--rootdir",
            str(sdist),
        ],
        cwd=sdist,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert report.exists(), result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(report.read_text())


@pytest.mark.skipif(
    not PYDICOM_3, reason="pydicom 2.4's sdists ship no tests (the test below)"
)
def test_pydicom_rle_tests_pass_against_dicomrle(sdist: Path, tmp_path: Path) -> None:
    outcomes = run_suite(sdist, tmp_path)
    allowed = allowed_failures()
    assert len(outcomes) > 100, f"only {len(outcomes)} tests ran"
    failed = {test for test, outcome in outcomes.items() if outcome != "passed"}

    matchers = {pattern: glob(pattern) for pattern in allowed}

    def listed(test: str) -> bool:
        return any(m.fullmatch(test) for m in matchers.values())

    unexpected = sorted(test for test in failed if not listed(test))
    now_passing = sorted(
        test for test in outcomes if listed(test) and test not in failed
    )
    stale = sorted(
        p for p, m in matchers.items() if not any(map(m.fullmatch, outcomes))
    )
    assert not unexpected, "new failures (fix them or list them):\n" + "\n".join(
        unexpected
    )
    assert not now_passing, "listed but passing now (unlist them):\n" + "\n".join(
        now_passing
    )
    assert not stale, "lines that match no test:\n" + "\n".join(stale)


@pytest.mark.skipif(PYDICOM_3, reason="pydicom 3's sdists ship their tests (above)")
def test_pydicom_2_sdist_ships_no_rle_tests(sdist: Path) -> None:
    """pydicom 2.4's sdists on PyPI (2.4.0 to 2.4.5) hold no tests, so there
    are none of its RLE tests to run against our plugins. This fails the day
    a 2.4 sdist ships them: run them then."""
    found = sorted(
        str(path.relative_to(sdist))
        for path in sdist.rglob("test_*.py")
        if "rle" in path.name or "encod" in path.name
    )
    assert not found, f"pydicom {pydicom.__version__}'s sdist now has {found}"
