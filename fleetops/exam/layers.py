"""Reading a lab seat's layers from the controller: what the candidate changed, proof of a
clean reset, and the integrity flags (tampered tools, removed grader key, after-window edits,
copied answers).

The candidate's upper layer holds exactly their changes (the seat's identity, the baseline and
the task setup are in the frozen baseline layer below it). It is read here from outside the
container, so nothing a candidate does inside, root or not, can hide a change from it. Paths
that a running system rewrites by itself (journals, caches, systemd state) are on an allow-list.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from fleetops.fileutil import sha256_file

# What any running host writes by itself: not the candidate's work, not a leftover.
VOLATILE = (
    "var/log/",
    "var/cache/",
    "var/tmp/",
    "tmp/",
    "run/",
    "var/lib/systemd/",
    "var/lib/private/",
    "var/lib/sudo/",
    "var/lib/dhcp/",
    "var/lib/logrotate/",
    "var/spool/",
    "root/.cache/",
    "root/.ansible/",
    "root/.fleetops/",
    "etc/.pwd.lock",
    "etc/resolv.conf",  # nspawn --resolv-conf=copy-host rewrites it at every boot
    "var/lib/fleetops-probe",
)
# Tools the host-side probes run: replaced or removed by hand, the seat is held for review.
GRADER_TOOLS = (
    "usr/bin/systemctl",
    "usr/bin/sudo",
    "usr/bin/python3",
    "usr/bin/python3.11",
    "usr/bin/dash",
    "usr/bin/sh",
    "bin/sh",
    "usr/bin/getent",
    "usr/bin/id",
    "usr/sbin/sshd",
    "usr/bin/dpkg",
    "usr/bin/dpkg-query",
    "usr/bin/systemd-analyze",
)
GRADER_KEY = "root/.ssh/authorized_keys"


@dataclass(frozen=True)
class Change:
    path: str  # relative to the root, no leading slash
    kind: str  # added | modified | removed
    mtime: float = 0.0

    def __str__(self) -> str:
        mark = {"added": "+", "modified": "~", "removed": "-"}[self.kind]
        return f"{mark} /{self.path}"


def volatile(relative: str) -> bool:
    return any(relative == p.rstrip("/") or relative.startswith(p) for p in VOLATILE)


def is_whiteout(info: os.stat_result) -> bool:
    return stat.S_ISCHR(info.st_mode) and info.st_rdev == 0


def changes(upper: Path, lowers: list[Path], include_volatile: bool = False) -> list[Change]:
    """Every file the upper layer adds, modifies or removes relative to the layers below."""
    found: list[Change] = []
    for dirpath, dirnames, filenames in os.walk(upper):
        base = Path(dirpath)
        for name in sorted(dirnames + filenames):
            path = base / name
            relative = path.relative_to(upper).as_posix()
            if not include_volatile and volatile(relative + ("/" if path.is_dir() and not path.is_symlink() else "")):
                if name in dirnames:
                    dirnames.remove(name)
                continue
            info = os.lstat(path)
            if stat.S_ISDIR(info.st_mode):
                if any((lower / relative).is_dir() for lower in lowers) or any(path.iterdir()):
                    continue  # copied up or new, and holding files: the files say it
                found.append(Change(relative, "added", max(info.st_mtime, info.st_ctime)))
                continue
            if is_whiteout(info):
                # a whiteout's ctime moves when the container boots again; its mtime is when
                # the file was removed (and nobody can touch a whiteout from inside)
                found.append(Change(relative, "removed", info.st_mtime))
                continue
            below = lower_file(lowers, relative)
            if below is not None and same_file(path, info, below):
                continue  # copied up but unchanged (systemd rewrites /etc/machine-id at boot)
            found.append(Change(relative, "modified" if below else "added", max(info.st_mtime, info.st_ctime)))
    return sorted(found, key=lambda c: c.path)


def same_file(path: Path, info: os.stat_result, other: Path) -> bool:
    """Same type, mode, owner and content (or link target)."""
    theirs = os.lstat(other)
    if (info.st_mode, info.st_uid, info.st_gid) != (theirs.st_mode, theirs.st_uid, theirs.st_gid):
        return False
    if info.st_size != theirs.st_size and stat.S_ISREG(info.st_mode):
        return False
    return file_digest(path) == file_digest(other)


def lower_file(lowers: list[Path], relative: str) -> Path | None:
    for lower in lowers:
        if os.path.lexists(lower / relative):
            return lower / relative
    return None


def file_digest(path: Path) -> str | None:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(info.st_mode):
        return "link:" + os.readlink(path)
    if not stat.S_ISREG(info.st_mode):
        return f"type:{stat.S_IFMT(info.st_mode)}"
    return sha256_file(path)


def dpkg_md5(upper: Path, lowers: list[Path], relative: str) -> str | None:
    """The md5 dpkg recorded for ``relative`` in the host's package database as its layers
    hold it (a package upgrade rewrites both the file and its .md5sums), or None."""
    suffix = f"  {relative}"
    seen: set[str] = set()
    for layer in [upper, *lowers]:
        info = layer / "var/lib/dpkg/info"
        if not info.is_dir():
            continue
        for md5sums in sorted(info.glob("*.md5sums")):
            if md5sums.name in seen:
                continue
            seen.add(md5sums.name)
            if is_whiteout(os.lstat(md5sums)):
                continue
            for line in md5sums.read_text(encoding="utf-8", errors="replace").splitlines():
                if line.endswith(suffix):
                    return line.split()[0]
    return None


def tampered_tools(upper: Path, lowers: list[Path]) -> list[str]:
    """Grader tools the candidate replaced or removed. A tool rewritten by a package upgrade
    matches the md5 dpkg recorded for it and is not flagged; faking that takes editing dpkg's
    database too (documented: the flag is evidence for review, not a proof)."""
    found = []
    for tool in GRADER_TOOLS:
        path = upper / tool
        if not os.path.lexists(path):
            continue
        info = os.lstat(path)
        if is_whiteout(info):
            found.append(f"/{tool} removed")
            continue
        below = lower_file(lowers, tool)
        if below is not None and file_digest(path) == file_digest(below):
            continue
        if stat.S_ISREG(info.st_mode):
            recorded = dpkg_md5(upper, lowers, tool)
            if recorded is not None and hashlib.md5(path.read_bytes()).hexdigest() == recorded:  # noqa: S324 - dpkg's own digest
                continue
        elif stat.S_ISLNK(info.st_mode) and below is not None and stat.S_ISLNK(os.lstat(below).st_mode):
            if os.readlink(path) == os.readlink(below):
                continue
        found.append(f"/{tool}")
    return found


def grader_key_changed(upper: Path, lowers: list[Path]) -> bool:
    path = upper / GRADER_KEY
    if not os.path.lexists(path):
        return False
    below = lower_file(lowers, GRADER_KEY)
    return is_whiteout(os.lstat(path)) or below is None or file_digest(path) != file_digest(below)


def after(changes_: list[Change], moment: datetime, grace_s: float = 2.0) -> list[Change]:
    """Changes made after ``moment`` (mtime or ctime; ctime cannot be set back with touch)."""
    limit = moment.timestamp() + grace_s
    return [c for c in changes_ if c.mtime > limit]


def accounts(text: str) -> dict[str, str]:
    """name -> second field of each line of a passwd/shadow-style file."""
    out = {}
    for line in text.splitlines():
        parts = line.split(":")
        if len(parts) > 1 and parts[0]:
            out[parts[0]] = parts[1]
    return out


def read_layered(layers: list[Path], relative: str) -> str:
    """A text file as the host sees it (the first layer that has it, top first); empty when
    absent or removed by a whiteout."""
    for layer in layers:
        path = layer / relative
        if os.path.lexists(path):
            info = os.lstat(path)
            if is_whiteout(info):
                return ""
            return path.read_text(encoding="utf-8", errors="replace")
    return ""


def account_changes(upper: Path, lowers: list[Path]) -> list[str]:
    """``+ user x`` / ``- user y`` / ``+ group g`` relative to the layers below."""
    out = []
    for relative, what in (("etc/passwd", "user"), ("etc/group", "group")):
        if not os.path.lexists(upper / relative):
            continue
        before = accounts(read_layered(lowers, relative))
        now_ = accounts(read_layered([upper, *lowers], relative))
        out += [f"+ {what} {name}" for name in sorted(set(now_) - set(before))]
        out += [f"- {what} {name}" for name in sorted(set(before) - set(now_))]
    return out


def new_password_hashes(upper: Path, lowers: list[Path]) -> set[str]:
    """Password hashes set by the candidate (salted: two seats sharing one copied them)."""
    if not os.path.lexists(upper / "etc/shadow"):
        return set()
    before = set(accounts(read_layered(lowers, "etc/shadow")).values())
    now_ = accounts(read_layered([upper, *lowers], "etc/shadow")).values()
    return {h for h in now_ if h.startswith("$") and h not in before}


def layer_hash(root: Path) -> tuple[str, int]:
    """A hash of a whole layer (paths, types, modes, owners, contents, link targets, whiteouts)
    and how many entries it has: the baseline's identity, recorded at provision."""
    digest = hashlib.sha256()
    count = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            path = Path(dirpath) / name
            info = os.lstat(path)
            relative = path.relative_to(root).as_posix()
            content = ""
            if stat.S_ISREG(info.st_mode):
                content = file_digest(path) or ""
            elif stat.S_ISLNK(info.st_mode):
                content = os.readlink(path)
            elif stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode):
                content = str(info.st_rdev)
            digest.update(f"{relative}\0{info.st_mode:o}\0{info.st_uid}\0{info.st_gid}\0{content}\n".encode())
            count += 1
    return digest.hexdigest(), count


def utc(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="seconds")
