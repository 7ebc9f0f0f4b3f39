"""The file route around each conversion: worker processes for many files,
the strict check of every copy before it gets its name, a source changing
under us, and --fsync."""

from __future__ import annotations

import multiprocessing
import os
import random
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pydicom
import pytest

import dicomrle
from dicomrle import cli
from dicomrle.dicom import file_pool as _file_pool
from dicomrle.dicom import files as _files
from dicomrle.dicom import compress_bytes as _compress_bytes
from support.corpus import find, images
from support.decoders import require_tool

SMALL = ["CT_small.dcm", "MR_small.dcm", "emri_small.dcm", "SC_rgb_small_odd.dcm"]


def no_part_files(folder: Path) -> bool:
    return not [p for p in folder.rglob("*") if p.name.endswith(".part")]


# ------------------------------------------------------------ the pool


@pytest.mark.parametrize(("count", "workers"), [(1, 1), (7, 2), (100, 3), (5, 5)])
def test_parts_hand_out_every_file_once(count, workers):
    parts = _file_pool._Parts(count, workers)
    # Contiguous parts, one per worker, in order.
    assert [p[0] for p in parts.parts] == sorted(p[0] for p in parts.parts)
    taken: list[int] = []
    rng = random.Random(count)
    active = list(range(workers))
    while active:
        worker = rng.choice(active)
        run = parts.take(worker)
        if run is None:
            active.remove(worker)
            continue
        assert 1 <= len(run) <= _file_pool.RUN
        taken.extend(run)
    assert sorted(taken) == list(range(count))


def test_parts_given_back_are_taken_by_the_others():
    parts = _file_pool._Parts(40, 2)
    first = parts.take(0)
    second = parts.take(0)
    assert first is not None and second is not None
    parts.give_back(0, [*first[1:], *second])  # first[0] was under way
    taken = []
    while (run := parts.take(1)) is not None:
        taken.extend(run)
    assert sorted(taken) == [i for i in range(40) if i != first[0]]


def pairs_of(folder: Path, out: Path) -> list[tuple[str, str]]:
    return [(str(p), str(out / p.name)) for p in sorted(folder.iterdir())]


def test_processes_give_what_one_process_gives(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for k in range(6):
        for name in SMALL:
            shutil.copy(find(name), folder / f"{k}-{name}")
    (folder / "notes.txt").write_text("not DICOM")
    pairs = pairs_of(folder, tmp_path / "many")
    results = list(
        _file_pool.run_on_processes(pairs, 3, True, {}, threading.Event())
    )
    assert sorted(r.src for r in results) == sorted(src for src, _ in pairs)
    one = [dicomrle.compress_file(src, tmp_path / "one" / Path(src).name) for src, _ in pairs]
    assert {r.src: r.status for r in results} == {r.src: r.status for r in one}
    for src, dst in pairs:
        if src.endswith(".dcm"):
            mine = Path(dst).read_bytes()
            assert mine == (tmp_path / "one" / Path(src).name).read_bytes(), src


def test_a_worker_that_dies_fails_only_its_file(tmp_path):
    """A worker killed while it waits on its first file (a FIFO that nobody
    writes): that file fails with the reason, and the files queued behind
    it are converted by the other worker."""
    folder = tmp_path / "in"
    folder.mkdir()
    os.mkfifo(folder / "0-stuck.dcm")
    for k in range(1, 30):
        shutil.copy(find("CT_small.dcm"), folder / f"{k:02d}.dcm")
    pairs = pairs_of(folder, tmp_path / "out")

    def kill_the_stuck_worker() -> None:
        # The first part, and its FIFO, are worker 0's.
        for process in multiprocessing.active_children():
            if process.name == "dicomrle-0":
                process.kill()

    timer = threading.Timer(3.0, kill_the_stuck_worker)
    timer.start()
    try:
        results = {
            r.src: r
            for r in _file_pool.run_on_processes(pairs, 2, True, {}, threading.Event())
        }
    finally:
        timer.cancel()
    assert sorted(results) == sorted(src for src, _ in pairs)
    stuck = results.pop(str(folder / "0-stuck.dcm"))
    assert (stuck.status, stuck.reason) == (
        "failed",
        "the worker process ended (signal 9)",
    )
    assert {r.status for r in results.values()} == {"written"}
    assert no_part_files(tmp_path)


def test_the_command_on_processes_matches_one_process(tmp_path):
    folder = tmp_path / "in"
    for k in range(3):
        (folder / f"d{k}").mkdir(parents=True)
        for name in SMALL:
            shutil.copy(find(name), folder / f"d{k}" / name)
    assert cli.main(["compress", str(folder), "-r", "-o", str(tmp_path / "a"), "-j2"]) == 0
    assert cli.main(["compress", str(folder), "-r", "-o", str(tmp_path / "b"), "-j1"]) == 0
    a = {p.relative_to(tmp_path / "a"): p.read_bytes() for p in (tmp_path / "a").rglob("*.dcm")}
    b = {p.relative_to(tmp_path / "b"): p.read_bytes() for p in (tmp_path / "b").rglob("*.dcm")}
    assert a == b and len(a) == 3 * len(SMALL)


# ------------------------------------------------- a source that changes


def test_a_source_changed_while_read_fails(tmp_path, monkeypatch):
    src = tmp_path / "src.dcm"
    shutil.copy(find("emri_small.dcm"), src)
    real = _compress_bytes.write

    def write(plan, fd, out, **kwargs):
        size = real(plan, fd, out, **kwargs)
        with open(src, "r+b") as f:  # same size, other bytes
            f.seek(-2, os.SEEK_END)
            f.write(b"\x01\x02")
        os.utime(src, ns=(time.time_ns(), time.time_ns() + 10**9))
        return size

    monkeypatch.setattr(_compress_bytes, "write", write)
    out = tmp_path / "out" / "copy.dcm"
    r = dicomrle.compress_file(src, out)
    assert (r.status, r.reason) == ("failed", "the input changed while it was read")
    assert list((tmp_path / "out").iterdir()) == []


def test_a_source_replaced_while_read_fails(tmp_path, monkeypatch):
    """Renamed over while it was read: the open file is not the path's."""
    src = tmp_path / "src.dcm"
    shutil.copy(find("CT_small.dcm"), src)
    real = _compress_bytes.write

    def write(plan, fd, out, **kwargs):
        os.replace(src, tmp_path / "gone.dcm")
        shutil.copy(find("CT_small.dcm"), src)
        return real(plan, fd, out, **kwargs)

    monkeypatch.setattr(_compress_bytes, "write", write)
    r = dicomrle.compress_file(src, tmp_path / "copy.dcm")
    assert r.status == "written"  # what was read is one whole, unchanged file
    assert pydicom.dcmread(tmp_path / "copy.dcm").SOPInstanceUID == pydicom.dcmread(
        find("CT_small.dcm")
    ).SOPInstanceUID


# ------------------------------------------------- the strict copy check


def flipped(data: bytes, rng: random.Random, flips: int = 3) -> bytes:
    """`data` with `flips` random bits of its first 2 KiB (after the
    preamble) flipped."""
    out = bytearray(data)
    for _ in range(flips):
        at = rng.randrange(128, min(2048, len(out)))
        out[at] ^= 1 << rng.randrange(8)
    return bytes(out)


def corpus_sample(count: int) -> list[Path]:
    explicit = [
        i.path
        for i in images()
        if not i.big_endian and i.bits_allocated in (8, 16) and i.path.stat().st_size < 4 << 20
    ]
    return random.Random(0).sample(explicit, min(count, len(explicit)))


def test_every_copy_of_damaged_sources_reads_in_dcmtk(tmp_path):
    """Sources with bits flipped in their first 2 KiB: whatever route each
    takes, every copy written is read by DCMTK (dcmdrle decodes it), and
    every other file fails or is skipped with its reason, leaving nothing."""
    dcmdrle = require_tool("dcmdrle")
    rng = random.Random(17)
    folder = tmp_path / "in"
    folder.mkdir()
    for k, path in enumerate(corpus_sample(40) * 3):
        (folder / f"{k:03d}-{path.name}").write_bytes(flipped(path.read_bytes(), rng))
    out = tmp_path / "out"
    results = [
        dicomrle.compress_file(src, out / src.name) for src in sorted(folder.iterdir())
    ]
    written = [r for r in results if r.status == "written"]
    refused = [r for r in results if "would not be well-formed" in r.reason]
    assert written and refused, [r.reason for r in results]
    for r in written:
        done = subprocess.run(
            [dcmdrle, r.dst, str(tmp_path / "decoded.dcm")], capture_output=True, text=True
        )
        assert done.returncode == 0, (r.src, r.route, done.stderr)
    for r in results:
        if r.status != "written":
            assert r.reason and not Path(r.dst).exists()
    assert no_part_files(out) if out.exists() else True


def test_every_decompressed_copy_of_damaged_rle_reads_in_dcmtk(tmp_path):
    dcmconv = require_tool("dcmconv")
    rng = random.Random(5)
    rle = tmp_path / "rle"
    for path in corpus_sample(40):
        assert dicomrle.compress_file(path, rle / path.name).status == "written"
    folder = tmp_path / "in"
    folder.mkdir()
    for k, path in enumerate(sorted(rle.iterdir()) * 3):
        (folder / f"{k:03d}-{path.name}").write_bytes(flipped(path.read_bytes(), rng))
    out = tmp_path / "out"
    results = [
        dicomrle.decompress_file(src, out / src.name) for src in sorted(folder.iterdir())
    ]
    written = [r for r in results if r.status == "written"]
    assert written
    for r in written:
        done = subprocess.run(
            [dcmconv, r.dst, str(tmp_path / "again.dcm")], capture_output=True, text=True
        )
        assert done.returncode == 0, (r.src, r.route, done.stderr)
    for r in results:
        if r.status != "written":
            assert r.reason and not Path(r.dst).exists()


def test_an_unknown_vr_that_pydicom_would_copy_is_refused(tmp_path):
    """The walker sends the file to pydicom ("an unknown VR"), pydicom reads
    it leniently and would write the VR back: the copy is refused, with the
    walker's reason, and nothing is left."""
    data = bytearray(find("CT_small.dcm").read_bytes())
    at = data.index(b"\x08\x00\x20\x00DA")  # Study Date
    data[at + 4 : at + 6] = b"CW"
    src = tmp_path / "cw.dcm"
    src.write_bytes(bytes(data))
    r = dicomrle.compress_file(src, tmp_path / "out" / "cw.dcm")
    assert r.route.startswith("pydicom (an unknown VR")
    assert r.status == "failed"
    assert r.reason.startswith("the copy would not be well-formed DICOM: an unknown VR")
    assert not (tmp_path / "out" / "cw.dcm").exists()
    assert no_part_files(tmp_path)


# ------------------------------------------------------------ --fsync


def test_fsync_syncs_the_copy_and_its_folder(tmp_path, monkeypatch):
    synced = []
    real = os.fsync

    def fsync(fd):
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    out = tmp_path / "out"
    for name, route in (("CT_small.dcm", "bytes"), ("MR_small_bigendian.dcm", "pydicom")):
        synced.clear()
        r = dicomrle.compress_file(find(name), out / name, fsync=True)
        assert r.status == "written" and r.route.startswith(route)
        # The temporary file, before its rename, then the folder.
        assert len(synced) == 2
        assert Path(synced[0]).name.endswith(".part")
        assert synced[1] == str(out)
    synced.clear()
    assert dicomrle.compress_file(find("MR_small.dcm"), out / "x.dcm").status == "written"
    assert synced == []


def test_fsync_from_the_command(tmp_path):
    out = tmp_path / "out"
    assert cli.main(["compress", str(find("CT_small.dcm")), "-o", str(out), "--fsync"]) == 0
    assert (out / "CT_small.dcm").exists()
    assert _files.FileResult("a", "b", "written") == _files.FileResult("a", "b", "written")


def test_an_interrupt_just_after_the_temporary_file_is_made(tmp_path, monkeypatch):
    """KeyboardInterrupt the moment the temporary file exists, before its
    name reaches the caller: it is removed all the same."""
    real = os.open

    def interrupted_open(path, flags, *args):
        fd = real(path, flags, *args)
        if str(path).endswith(".part"):
            os.close(fd)
            raise KeyboardInterrupt
        return fd

    monkeypatch.setattr(os, "open", interrupted_open)
    for name in ("CT_small.dcm", "MR_small_bigendian.dcm"):  # both routes
        with pytest.raises(KeyboardInterrupt):
            dicomrle.compress_file(find(name), tmp_path / "out" / name)
        assert list((tmp_path / "out").iterdir()) == []
