"""User-namespaced lab hosts: root inside is an unprivileged UID range outside.

Exam seats give candidates root; with ``private_users`` in the lab spec their root is UID
``base`` on the controller, not 0 (``systemd-nspawn --private-users=BASE:65536``). The kernel
here cannot idmap an overlayfs mount (nspawn: "ID mapped mounts are apparently not available"),
so instead the golden image is shifted once into a cached copy owned by the range (nspawn's own
``--private-users-ownership=chown``, which keeps setuid bits), and the overlay stacks on that
copy. Files the controller writes into a host (its identity, keys) are shifted the same way.
The layer is still exactly the host's changes, owned by the range: :func:`unshift` reads it back.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import stat
import zlib
from pathlib import Path

from fleetops.lab.system import run

RANGE = 65536
FIRST_BASE = 0x70000000  # where systemd-nspawn's own 'pick' starts; far above real users


def base_for(lab: str) -> int:
    """A stable UID base per lab (seats of one lab share its range)."""
    return FIRST_BASE + (zlib.crc32(lab.encode()) % 4096) * RANGE


def shifted_image(image: Path, base: int) -> Path:
    """The golden image owned by ``base..base+65535`` (built once, then cached)."""
    target = image.with_name(f"{image.name}.userns-{base}")
    if (target / ".fleetops-shifted").exists():
        return target
    with open(image.parent / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / ".fleetops-shifted").exists():
            return target
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        run(["cp", "-a", "--reflink=auto", str(image), str(partial)])
        run(
            [
                "systemd-nspawn",
                "--quiet",
                "--register=no",
                "--keep-unit",
                f"--private-users={base}:{RANGE}",
                "--private-users-ownership=chown",
                f"--directory={partial}",
                "--pipe",
                "/bin/true",
            ]
        )
        if os.stat(partial).st_uid != base:
            raise RuntimeError(f"nspawn did not shift {partial} to UID {base}")
        (partial / ".fleetops-shifted").write_text(f"{base}\n")
        os.chown(partial / ".fleetops-shifted", base, base)
        partial.rename(target)
    return target


def shift_tree(root: Path, base: int) -> None:
    """Give every file under ``root`` owned by a plain UID/GID the shifted one (setuid and
    setgid bits kept: chown clears them, so the mode is put back)."""
    for path in [root, *root.rglob("*")]:
        info = os.lstat(path)
        if info.st_uid >= base and info.st_gid >= base:
            continue
        uid = info.st_uid + base if info.st_uid < RANGE else info.st_uid
        gid = info.st_gid + base if info.st_gid < RANGE else info.st_gid
        os.lchown(path, uid, gid)
        if not stat.S_ISLNK(info.st_mode):
            os.chmod(path, stat.S_IMODE(info.st_mode))


def unshift(uid: int, base: int | None) -> int:
    """The UID a file has inside the host."""
    if base is not None and base <= uid < base + RANGE:
        return uid - base
    return uid
