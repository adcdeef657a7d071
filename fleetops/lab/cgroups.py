"""Per-host cgroups so that each container's systemd gets a clean hierarchy of its own.

With ``--keep-unit`` nspawn nests the container under the launcher's cgroup; hosts started from a
shared cgroup boot "degraded". Each launcher therefore moves itself into
``<hierarchy>/fleetops/<lab>/<host>`` in the named systemd tree and the unified tree.
"""

from __future__ import annotations

import os
from pathlib import Path

# The memory and cpu v1 hierarchies too (on a hybrid machine): otherwise every host shares one v1
# memory cgroup, and a host's own memory use (what the memory check reads in a container) would be
# the sum of all of them.
HIERARCHIES = (
    Path("/sys/fs/cgroup/systemd"),
    Path("/sys/fs/cgroup/unified"),
    Path("/sys/fs/cgroup/memory"),
    Path("/sys/fs/cgroup/cpu,cpuacct"),
    Path("/sys/fs/cgroup"),
)


def _roots() -> list[Path]:
    """Writable cgroup trees that track processes (hybrid v1 + v2, or pure v2)."""
    # on a pure v2 machine /sys/fs/cgroup/memory does not exist, so only the unified root is used
    roots: list[Path] = []
    for root in HIERARCHIES:
        if (root / "cgroup.procs").exists() and os.access(root, os.W_OK):
            if root == Path("/sys/fs/cgroup") and roots:
                continue  # hybrid: the named trees above already cover it
            roots.append(root)
    return roots


def host_cgroups(lab: str, host: str) -> list[Path]:
    return [root / "fleetops" / lab / host for root in _roots()]


def enter(lab: str, host: str, memory_max: int | None = None) -> None:
    """Create the host's cgroups (with its memory limit, bytes) and move the calling process in."""
    for path in host_cgroups(lab, host):
        path.mkdir(parents=True, exist_ok=True)
        if memory_max is not None:
            for name in ("memory.limit_in_bytes", "memory.max"):  # cgroup v1, v2
                if (path / name).exists():
                    (path / name).write_text(f"{memory_max}\n")
        (path / "cgroup.procs").write_text(f"{os.getpid()}\n")


def pids(lab: str, host: str) -> set[int]:
    """Every process still inside the host's cgroups (recursively)."""
    found: set[int] = set()
    for path in host_cgroups(lab, host):
        if not path.exists():
            continue
        for procs in path.rglob("cgroup.procs"):
            try:
                found.update(int(line) for line in procs.read_text().split())
            except OSError:
                continue
    return found


def remove(lab: str, host: str) -> list[Path]:
    """Remove the host's cgroup trees bottom-up; return what could not be removed."""
    left: list[Path] = []
    for path in host_cgroups(lab, host):
        if not path.exists():
            continue
        for dirpath, _dirnames, _files in sorted(os.walk(path), key=lambda x: -len(x[0])):
            try:
                os.rmdir(dirpath)
            except OSError:
                left.append(Path(dirpath))
    for root in _roots():
        for parent in (root / "fleetops" / lab, root / "fleetops"):
            try:
                parent.rmdir()
            except OSError:
                pass
    return left
