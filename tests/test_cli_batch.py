"""``dicomrle compress`` as a batch tool, through the installed console
script, on real folder trees: mirrored outputs, skips and failures with
their reasons, the summary, exit codes, atomic writes and Ctrl-C."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
import pytest

import dicomrle
from dicomrle.dicom.compress import write_dataset
from support.cli import (
    SUMMARY,
    TREES,
    assert_copy,
    digest,
    files_under,
    part_files,
    reasons,
    summary,
)
from support.cli import run as run_command
from support.corpus import find
from support.decoders import console_script


def run(*args: object, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    """``dicomrle compress ARGS...``."""
    return run_command("compress", *args, timeout=timeout, **kwargs)


TOTALS = re.compile(
    r"^in: (?P<in>[\d.]+ [kMG]?B), out: (?P<out>[\d.]+ [kMG]?B), "
    r"ratio: (?P<ratio>[\d.]+)x, time: [\d.]+ s, [\d.]+ files/s, [\d.]+ MB/s "
    r"-> (?P<dst>.+)$",
    re.MULTILINE,
)


def assert_size(text: str, actual: int) -> None:
    """`text`, as the summary prints a size ("39.2 kB"), is `actual` bytes."""
    number, unit = text.split()
    scale = {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}[unit]
    # One decimal, or none for bytes: off by half the last digit at most.
    error = (0.5 if unit == "B" else 0.05) * scale
    assert abs(float(number) * scale - actual) <= error + 1e-6, (text, actual)


# The tree: the files it must write, skip and fail (support.cli.TREES).
TREE = TREES["compress"]
WRITTEN, SKIPPED, FAILED = TREE.written, TREE.skipped, TREE.failed


@pytest.fixture
def tree(tmp_path) -> Path:
    return TREE.make(tmp_path / "tree")


@pytest.fixture(params=list(TREES))
def command(request) -> str:
    """Each command, for the tests both share."""
    return request.param


@pytest.fixture
def command_tree(command, tmp_path) -> Path:
    """The tree of `command` (support.cli.TREES)."""
    return TREES[command].make(tmp_path / "tree")


@pytest.mark.parametrize(
    ("command", "jobs"), [("compress", 2), ("decompress", 1), ("decompress", 2)]
)
def test_recursive_tree(command, command_tree, tmp_path, jobs):
    tree, spec = command_tree, TREES[command]
    written, skipped, failed = spec.written, spec.skipped, spec.failed
    out = tmp_path / "out"
    before = {rel: digest(tree / rel) for rel in files_under(tree)}
    result = run_command(command, tree, "-o", out, "--recursive", "-j", jobs)
    # The corrupt file failed.
    assert result.returncode == 1, result.stdout + result.stderr

    # The tree is mirrored: one output per written file, at the same path,
    # and nothing partial either.
    assert files_under(out) == set(written)
    for rel in written:
        spec.assert_copy(tree / rel, out / rel)
    # The inputs are only read.
    assert {rel: digest(tree / rel) for rel in files_under(tree)} == before

    counts = summary(result.stdout)
    assert counts == {
        "files": len(written) + len(skipped) + len(failed),
        "written": len(written),
        "skipped": len(skipped),
        "failed": len(failed),
    }
    found = reasons(result.stdout)
    expected = {Path(r).name: ("skipped", why) for r, why in skipped.items()}
    expected.update({Path(r).name: ("failed", why) for r, why in failed.items()})
    assert set(found) == set(expected)
    for name, (status, why) in expected.items():
        assert found[name][0] == status, name
        assert why in found[name][1], (name, found[name])
    # The failure: one line on stderr too, as it happens.
    (line,) = [x for x in result.stderr.splitlines() if "corrupt.dcm" in x]
    assert re.search(spec.failure, line), line

    # The totals are those of the written files.
    (totals,) = TOTALS.finditer(result.stdout)
    size_in = sum((tree / rel).stat().st_size for rel in written)
    size_out = sum((out / rel).stat().st_size for rel in written)
    assert_size(totals["in"], size_in)
    assert_size(totals["out"], size_out)
    assert float(totals["ratio"]) == pytest.approx(size_in / size_out, abs=0.006)
    assert Path(totals["dst"]) == out
    # One line per written file, with its sizes.
    for rel in written:
        line = rf"{re.escape(rel)}: .* -> .* \([\d.]+x\) in [\d.]+ ms"
        assert re.search(line, result.stdout), rel


def test_same_outputs_with_one_and_two_jobs(command, command_tree, tmp_path):
    """-j 1 (one process, frames on one thread) writes the same bytes as -j 2."""
    tree, written = command_tree, TREES[command].written
    one, two = tmp_path / "one", tmp_path / "two"
    assert run_command(command, tree, "-o", one, "-r", "-j", 1).returncode == 1
    assert run_command(command, tree, "-o", two, "-r", "-j", 2).returncode == 1
    assert files_under(one) == files_under(two) == set(written)
    for rel in written:
        assert (one / rel).read_bytes() == (two / rel).read_bytes(), rel


def test_not_recursive_takes_top_level_files_only(command, command_tree, tmp_path):
    out = tmp_path / "out"
    result = run_command(command, command_tree, "-o", out, "-j", 2)
    top = {rel for rel in TREES[command].written if "/" not in rel}
    assert len(top) == 1
    assert files_under(out) == top
    counts = summary(result.stdout)
    assert counts == {"files": 2, "written": 1, "skipped": 1, "failed": 0}
    assert counts["skipped"] == 1  # notes.txt
    assert reasons(result.stdout) == {"notes.txt": ("skipped", "not a DICOM file")}
    assert result.returncode == 0


def test_files_and_folders_together(tree, tmp_path):
    """Files go to OUTDIR/name; folders are mirrored under OUTDIR."""
    out = tmp_path / "out"
    result = run(
        tree / "CT_small.dcm",
        tree / "mr" / "big" / "emri_small.dcm",
        tree / "colour",
        "-o",
        out,
        "-r",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert files_under(out) == {
        "CT_small.dcm",
        "emri_small.dcm",
        "color-pl.dcm",
        "deep/er/SC_rgb_32bit_2frame.dcm",
    }
    assert_copy(tree / "colour/color-pl.dcm", out / "color-pl.dcm")


def clean_tree(root: Path) -> Path:
    for rel, name in WRITTEN.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(find(name), root / rel)
    shutil.copy(find("JPEG2000.dcm"), root / "JPEG2000.dcm")
    return root


def test_exit_code_0_when_nothing_fails(tmp_path):
    tree = clean_tree(tmp_path / "tree")
    result = run(tree, "-o", tmp_path / "out", "-r", "-j", 2)
    assert result.returncode == 0, result.stdout + result.stderr
    counts = summary(result.stdout)
    assert counts == {
        "files": len(WRITTEN) + 1,
        "written": len(WRITTEN),
        "skipped": 1,
        "failed": 0,
    }
    assert result.stderr.strip() == ""  # no bar off a terminal, no failure


def test_folder_of_folders_without_recursive_converts_nothing(tmp_path):
    """No file at the top level and no --recursive: nothing to do, exit 0."""
    (tmp_path / "in" / "sub").mkdir(parents=True)
    shutil.copy(find("CT_small.dcm"), tmp_path / "in" / "sub")
    result = run(tmp_path / "in", "-o", tmp_path / "out", "-j", 2)
    assert result.returncode == 0, result.stdout + result.stderr
    assert summary(result.stdout) == {"files": 0, "written": 0, "skipped": 0, "failed": 0}
    assert not (tmp_path / "out").exists()


def test_existing_outputs_skipped_unless_overwrite(tmp_path):
    tree = clean_tree(tmp_path / "tree")
    out = tmp_path / "out"
    assert run(tree, "-o", out, "-r", "-j", 2).returncode == 0
    # Spoil one output: a second run must leave it alone by default...
    spoiled = out / "mr/MR_small.dcm"
    spoiled.write_bytes(b"old output")
    untouched = {rel: digest(out / rel) for rel in WRITTEN}
    result = run(tree, "-o", out, "-r", "-j", 2)
    assert result.returncode == 0
    assert summary(result.stdout)["written"] == 0
    assert summary(result.stdout)["skipped"] == len(WRITTEN) + 1
    found = reasons(result.stdout)
    assert all(
        found[Path(rel).name] == ("skipped", "output exists (use --overwrite)")
        for rel in WRITTEN
    )
    assert {rel: digest(out / rel) for rel in WRITTEN} == untouched
    # ...and replace every output with --overwrite.
    result = run(tree, "-o", out, "-r", "-j", 2, "--overwrite")
    assert result.returncode == 0
    assert summary(result.stdout)["written"] == len(WRITTEN)
    assert_copy(tree / "mr/MR_small.dcm", spoiled)
    assert files_under(out) == set(WRITTEN)


def test_verify(tree, tmp_path):
    out = tmp_path / "out"
    result = run(tree, "-o", out, "-r", "-j", 2, "--verify")
    assert result.returncode == 1  # still the corrupt file
    assert summary(result.stdout)["written"] == len(WRITTEN)
    assert files_under(out) == set(WRITTEN)
    for rel in WRITTEN:
        assert_copy(tree / rel, out / rel)


def test_an_interrupt_that_c_code_swallows_still_stops_the_batch(
    tmp_path, monkeypatch, capsys
):
    """SIGINT whose KeyboardInterrupt some code swallows (a Cython module's
    initialisation does): the batch still stops, exit code 130, and no file
    is started after it. In process (-j 1), so the worker can be wrapped."""
    from dicomrle import cli

    folder = tmp_path / "in"
    folder.mkdir()
    for k in range(5):
        shutil.copy(find("MR_small.dcm"), folder / f"{k}.dcm")
    real = cli.compress_file
    calls = []

    def worker(src, dst, **options):
        calls.append(src)
        if len(calls) == 2:
            try:
                signal.raise_signal(signal.SIGINT)
            except KeyboardInterrupt:
                pass  # swallowed
        return real(src, dst, **options)

    monkeypatch.setattr(cli, "compress_file", worker)
    out = tmp_path / "out"
    assert cli.main(["compress", str(folder), "-o", str(out), "-j", "1"]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert len(calls) == 2
    assert part_files(out) == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_verify_refuses_a_wrong_copy(tmp_path, monkeypatch, capsys):
    """With an encoder that gets the pixels wrong, --verify keeps no output
    and fails the file; without it the wrong copy is written. In process
    (-j 1), so that the encoder can be replaced. A big-endian file: the
    pydicom route, which calls dicomrle.compress."""
    import dicomrle.dicom.compress as dataset
    from dicomrle import cli

    real = dataset.compress

    def wrong(ds, **kwargs):
        arr = np.frombuffer(ds.PixelData, dtype="u1").copy()
        arr[len(arr) // 2] ^= 0x10
        ds.PixelData = arr.tobytes()
        return real(ds, **kwargs)

    monkeypatch.setattr(dataset, "compress", wrong)
    src = tmp_path / "CT_small.dcm"
    shutil.copy(find("MR_small_bigendian.dcm"), src)
    out = tmp_path / "out"
    assert cli.main(["compress", str(src), "-o", str(out), "-j", "1", "--verify"]) == 1
    stdout = capsys.readouterr().out
    assert summary(stdout)["failed"] == 1
    assert reasons(stdout)["CT_small.dcm"] == (
        "failed",
        "verification failed: decoded pixels differ",
    )
    assert files_under(out) == set()  # no output, no .part
    assert cli.main(["compress", str(src), "-o", str(out), "-j", "1"]) == 0
    assert files_under(out) == {"CT_small.dcm"}


def test_bad_arguments(command, tmp_path):
    result = run_command(command, tmp_path / "missing", "-o", tmp_path / "out")
    assert result.returncode == 2 and "no such file or folder" in result.stderr
    result = run_command(command, tmp_path / "missing.dcm", "-o", tmp_path / "out")
    assert result.returncode == 2
    for jobs in ("0", "-3", "x"):
        result = run_command(command, tmp_path, "-o", tmp_path / "out", "-j", jobs)
        assert result.returncode == 2, jobs
    assert run_command(command, "-j", 0, "-o", tmp_path).returncode == 2
    assert not (tmp_path / "out").exists()


def test_two_inputs_one_output_refused(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        shutil.copy(find("CT_small.dcm"), tmp_path / folder / "CT_small.dcm")
    a, b = tmp_path / "a/CT_small.dcm", tmp_path / "b/CT_small.dcm"
    result = run(a, b, "-o", tmp_path / "out")
    assert result.returncode == 2
    assert "would both be written to" in result.stderr
    assert not (tmp_path / "out").exists()


def test_image_truncated_before_pixel_data_fails(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    src = find("CT_small.dcm")
    data = src.read_bytes()
    # Cut in the middle of the elements before the Pixel Data.
    cut = data.rindex(b"\xe0\x7f\x10\x00") // 2
    (tree / "cut.dcm").write_bytes(data[:cut])
    result = run(tree, "-o", tmp_path / "out")
    assert summary(result.stdout)["failed"] == 1, result.stdout
    assert result.returncode == 1


def test_progress_bar_on_a_terminal(tree, tmp_path):
    """On a terminal, stderr shows a progress bar with files/s and MB/s."""
    master, slave = os.openpty()
    # 160 columns: a terminal of 0 columns gets an empty bar.
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    proc = subprocess.Popen(
        [console_script(), "compress", str(tree), "-o", str(tmp_path / "out"), "-r"],
        stdout=subprocess.PIPE,
        stderr=slave,
        text=True,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO once the child has closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    stdout = proc.communicate(timeout=60)[0]
    shown = b"".join(chunks).decode()
    total = len(WRITTEN) + len(SKIPPED) + len(FAILED)
    bar = rf"100%\|.*\| {total}/{total} \[.*file/s, [\d.]+ MB/s\]"
    assert re.search(bar, shown), shown
    assert summary(stdout)["files"] == total


# ------------------------------------------------------------ interrupts


def _multi_frame(path: Path, frames: int = 16) -> Path:
    """A 512 x 512 16-bit multi-frame file made of the real CT 693_UNCR."""
    ds = pydicom.dcmread(find("693_UNCR.dcm"))
    ct = ds.pixel_array.astype("<u2")
    ds.NumberOfFrames = frames
    arr = np.stack([np.roll(ct, 7 * i, axis=1) for i in range(frames)])
    ds.PixelData = arr.tobytes()
    write_dataset(path, ds)
    return path


@pytest.fixture(scope="module")
def many(tmp_path_factory) -> Path:
    """200 files of 16 frames (8 MB each): hard links to one file, so the
    disk holds one; a run takes seconds, far more than the interrupt."""
    folder = tmp_path_factory.mktemp("many")
    first = _multi_frame(folder / "f000.dcm")
    for i in range(1, 200):
        os.link(first, folder / f"f{i:03d}.dcm")
    return folder


@pytest.fixture(scope="module")
def reference(many, tmp_path_factory) -> bytes:
    """The one right output for every file of `many`."""
    path = tmp_path_factory.mktemp("reference") / "f000.dcm"
    assert dicomrle.compress_file(many / "f000.dcm", path).status == "written"
    assert_copy(many / "f000.dcm", path)
    return path.read_bytes()


def _group_gone(pgid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def start_and_signal(
    many: Path, out: Path, jobs: int, send: Callable[[int], None]
) -> tuple[subprocess.Popen, str, str]:
    """Run the command on `many`; once 2 outputs are there, in the middle of
    the batch, call ``send(pid)``; return the process and its output."""
    proc = subprocess.Popen(
        [console_script(), "compress", str(many), "-o", str(out), "-j", str(jobs)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a shell job
    )
    try:
        deadline = time.monotonic() + 60
        while len([n for n in files_under(out) if not n.startswith(".")]) < 2:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no output after 60 s"
            time.sleep(0.02)
        send(proc.pid)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    return proc, stdout, stderr


SENDERS = {
    # Ctrl-C: SIGINT to the whole process group.
    "ctrl-c": lambda pid: os.killpg(pid, signal.SIGINT),
    # kill -INT of the command alone.
    "kill-int": lambda pid: os.kill(pid, signal.SIGINT),
}


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("how", list(SENDERS))
def test_interrupted_run(many, reference, tmp_path, jobs, how):
    """Exit code 130, the message, no .part file, no process left behind,
    and every output there is complete."""
    out = tmp_path / "out"
    proc, stdout, stderr = start_and_signal(many, out, jobs, SENDERS[how])
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr
    assert "Traceback" not in stderr
    assert _group_gone(proc.pid, timeout=10)
    written = files_under(out)
    assert part_files(out) == []
    assert 2 <= len(written) < 200
    for name in written:
        assert (out / name).read_bytes() == reference, f"{name} is not complete"
    # The command printed no summary: it was interrupted.
    assert not SUMMARY.search(stdout)


@pytest.mark.parametrize("jobs", [1, 2])
def test_killed_run_leaves_no_truncated_output(many, reference, tmp_path, jobs):
    """SIGKILL, which nothing can catch: temporary .part files may be left
    (hidden), but every output under its own name is complete."""
    out = tmp_path / "out"
    proc, _, _ = start_and_signal(
        many, out, jobs, lambda pid: os.killpg(pid, signal.SIGKILL)
    )
    assert proc.returncode == -signal.SIGKILL
    assert _group_gone(proc.pid, timeout=10)
    outputs = [n for n in files_under(out) if not n.endswith(".part")]
    assert all(not Path(n).name.startswith(".") for n in outputs), outputs
    assert 2 <= len(outputs) < 200
    for name in outputs:
        assert (out / name).read_bytes() == reference, f"{name} is not complete"
