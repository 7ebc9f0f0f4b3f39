"""``dicomrle.dask.compress_bag``: files across Dask workers, through the
plain, picklable ``dicomrle.compress_file``."""

from __future__ import annotations

import importlib.util
import os
import pickle
import shutil
from pathlib import Path

import pytest

import dicomrle
from dicomrle import cli
from support.corpus import find
from support.decoders import require


def dask_module():
    """dicomrle.dask; skips without dask, fails without it in CI."""
    require(importlib.util.find_spec("dask") is not None, "dask (the dask extra)")
    import dicomrle.dask

    return dicomrle.dask


def compress_bag(*args, **kwargs):
    return dask_module().compress_bag(*args, **kwargs)


def files_under(folder: Path) -> dict[str, bytes]:
    """{relative path: contents} of every file under `folder`."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for root, _, names in os.walk(folder)
        for path in (Path(root) / name for name in names)
    }


WRITTEN = {
    "CT_small.dcm": "CT_small.dcm",
    "a/MR_small_bigendian.dcm": "MR_small_bigendian.dcm",
    "a/b/emri_small.dcm": "emri_small.dcm",
    "a/b/color-pl.dcm": "color-pl.dcm",
}
STATUS = {
    **{rel: "written" for rel in WRITTEN},
    "notes.txt": "skipped",
    "a/JPEG2000.dcm": "skipped",
    "a/b/corrupt.dcm": "failed",
}


@pytest.fixture
def tree(tmp_path) -> Path:
    root = tmp_path / "tree"
    for rel, name in WRITTEN.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(find(name), root / rel)
    (root / "notes.txt").write_text("not DICOM\n")
    shutil.copy(find("JPEG2000.dcm"), root / "a/JPEG2000.dcm")
    data = find("emri_small.dcm").read_bytes()
    (root / "a/b/corrupt.dcm").write_bytes(data[: len(data) // 2])
    return root


@pytest.fixture
def cli_outputs(tree, tmp_path) -> dict[str, bytes]:
    out = tmp_path / "cli"
    assert cli.main(["compress", str(tree), "-o", str(out), "-r", "-j", "1"]) == 1
    outputs = files_under(out)
    assert set(outputs) == set(WRITTEN)
    return outputs


def statuses(results, tree: Path) -> dict[str, str]:
    return {Path(r.src).relative_to(tree).as_posix(): r.status for r in results}


def test_compress_file_pickles():
    for func in (dicomrle.compress_file, dask_module()._compress_pair):
        assert pickle.loads(pickle.dumps(func)) is func
    result = dicomrle.FileResult("a", "b", "failed", "why", 1, 2, 0.5)
    assert pickle.loads(pickle.dumps(result)) == result


def test_nothing_runs_until_computed(tree, tmp_path):
    bag = compress_bag([tree], tmp_path / "out", recursive=True, npartitions=3)
    assert bag.npartitions == 3
    assert not (tmp_path / "out").exists()


def test_missing_path_raises_at_once(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        compress_bag([tmp_path / "missing"], tmp_path / "out")


@pytest.mark.parametrize("scheduler", ["processes", "threads", "sync"])
def test_schedulers_match_the_cli(tree, tmp_path, cli_outputs, scheduler):
    out = tmp_path / "dask"
    bag = compress_bag([tree], out, recursive=True, npartitions=4)
    results = bag.compute(scheduler=scheduler)
    assert all(isinstance(r, dicomrle.FileResult) for r in results)
    assert statuses(results, tree) == STATUS
    assert files_under(out) == cli_outputs  # the same bytes, the same tree
    assert {r.dst for r in results if r.status == "written"} == {
        str(out / rel) for rel in WRITTEN
    }


def test_not_recursive_overwrite_and_verify(tree, tmp_path):
    out = tmp_path / "dask"
    results = compress_bag([tree], out).compute(scheduler="processes")
    top = {"CT_small.dcm": "written", "notes.txt": "skipped"}
    assert statuses(results, tree) == top
    (out / "CT_small.dcm").write_bytes(b"spoiled")
    again = compress_bag([tree], out).compute(scheduler="processes")
    assert [r.reason for r in again if r.src.endswith("CT_small.dcm")] == [
        "output exists (use --overwrite)"
    ]
    assert (out / "CT_small.dcm").read_bytes() == b"spoiled"
    bag = compress_bag([tree], out, overwrite=True, verify=True, threads=2)
    results = bag.compute(scheduler="processes")
    assert statuses(results, tree)["CT_small.dcm"] == "written"
    assert (out / "CT_small.dcm").read_bytes() != b"spoiled"


def test_distributed_local_cluster(tree, tmp_path, cli_outputs):
    distributed = pytest.importorskip("distributed")
    out = tmp_path / "dask"
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=50,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        results = client.compute(
            compress_bag([tree], out, recursive=True, npartitions=4)
        ).result()
        # Two worker processes, apart from this one: the tasks were pickled.
        workers = set(client.run(os.getpid).values())
        assert os.getpid() not in workers and len(workers) == 2
    assert statuses(results, tree) == STATUS
    assert files_under(out) == cli_outputs
