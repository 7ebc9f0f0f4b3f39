"""Run a child process under a memory limit that counts the page cache: a
child cgroup of the test's own, cgroup v2 or the v1 memory controller.

A cgroup's memory is its processes' anonymous memory and the file pages
they bring in (read or written), so a child that converts a file many times
larger than the limit shows that memory does not grow with the file, and
that the file pages it leaves behind are reclaimed as it goes.

Where no cgroup can be made (no permission, no delegated memory
controller) ``memory_cgroup`` raises ``Unavailable`` with the reason.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


class Unavailable(Exception):
    """No memory cgroup can be made here; the message says why."""


@dataclass
class Cgroup:
    """A child cgroup with a memory limit."""

    path: Path
    version: int
    limit: int

    def run(self, command: list[str], **kw) -> subprocess.CompletedProcess:
        """Run `command` inside the cgroup from its first instruction on."""
        procs = self.path / "cgroup.procs"
        shell = f'echo $$ > "{procs}" && exec "$@"'
        return subprocess.run(["sh", "-c", shell, "sh", *command], **kw)

    def peak(self) -> int:
        """The most memory the cgroup ever held, page cache included."""
        name = "memory.peak" if self.version == 2 else "memory.max_usage_in_bytes"
        return int((self.path / name).read_text())


def _own(controller: str) -> tuple[int, str]:
    """(version, path) of this process's cgroup for `controller`."""
    lines = Path("/proc/self/cgroup").read_text().splitlines()
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return 1, path
    for line in lines:
        number, controllers, path = line.split(":", 2)
        if number == "0" and controllers == "":
            return 2, path
    raise Unavailable("this process is in no cgroup")


def _mount(version: int) -> Path:
    """Where the v2 hierarchy, or the v1 memory controller, is mounted."""
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        point, rest = fields[4], fields[fields.index("-") + 1 :]
        if version == 2 and rest[0] == "cgroup2":
            return Path(point)
        if version == 1 and rest[0] == "cgroup" and "memory" in rest[2].split(","):
            return Path(point)
    raise Unavailable(f"no cgroup v{version} memory hierarchy is mounted")


@contextlib.contextmanager
def memory_cgroup(limit: int) -> Iterator[Cgroup]:
    """A new child cgroup of this process's own, limited to `limit` bytes
    of memory (page cache included) and no swap; removed on exit."""
    if not Path("/proc/self/cgroup").exists():
        raise Unavailable("no /proc/self/cgroup (not Linux)")
    version, own = _own("memory")
    parent = _mount(version) / own.lstrip("/")
    if version == 2:
        controllers = parent / "cgroup.subtree_control"
        if not controllers.exists() or "memory" not in controllers.read_text().split():
            raise Unavailable(
                f"cgroup v2: the memory controller is not delegated to {parent}'s "
                "children (cgroup.subtree_control)"
            )
    path = parent / f"dicomrle-test-{os.getpid()}"
    try:
        path.mkdir()
    except OSError as error:
        raise Unavailable(f"cannot create a cgroup under {parent}: {error}") from None
    try:
        if version == 2:
            (path / "memory.max").write_text(str(limit))
            if (path / "memory.swap.max").exists():
                (path / "memory.swap.max").write_text("0")
            if not (path / "memory.peak").exists():
                raise Unavailable("cgroup v2 without memory.peak (Linux < 5.19)")
        else:
            try:
                (path / "memory.limit_in_bytes").write_text(str(limit))
                swap = path / "memory.memsw.limit_in_bytes"
                if swap.exists():
                    swap.write_text(str(limit))
            except OSError as error:
                raise Unavailable(f"cannot set a limit on {path}: {error}") from None
        yield Cgroup(path, version, limit)
    finally:
        # The child has exited; its page cache is moved to the parent.
        path.rmdir()
