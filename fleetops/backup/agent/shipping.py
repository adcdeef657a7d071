"""The client side of off-host copies: ``ssh`` to the backup host's restricted account.

The account's only program is ``fleetops-backup store-serve CLIENT`` (a forced command in its
authorized_keys, with ``restrict``): it can add files and read them back, never delete or
overwrite. Each file travels with its sha256 and is checked on arrival; a backup counts on the
store once ``seal`` has checked the whole directory against its SHA256SUMS.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from .common import (
    MANIFEST,
    SUMS,
    AgentError,
    backup_ids,
    copy_hashed,
    read_sums,
    sha256_file,
    sums_problem,
    write_file,
    write_sums,
)

SHIPPED, SHIPPED_BINLOGS = ".shipped", ".shipped-binlogs"
CONTROL_DIR = "/run/fleetops-backup"


def ssh_argv(store: dict, command: str) -> list[str]:
    """One connection per run, shared by every request (ControlMaster: one handshake, not one per file)."""
    os.makedirs(CONTROL_DIR, mode=0o700, exist_ok=True)
    return [
        "ssh", "-i", store["key"], "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
        "-o", f"UserKnownHostsFile={store['known_hosts']}", "-o", "StrictHostKeyChecking=yes",
        "-o", "ConnectTimeout=10", "-o", "ControlMaster=auto", "-o", f"ControlPath={CONTROL_DIR}/%C",
        "-o", "ControlPersist=20", "-p", str(store.get("port", 22)), f"{store['user']}@{store['address']}",
        command,
    ]  # fmt: skip


def call(store: dict, command: str, stdin_path: Path | None = None) -> str:
    """One store command; its stdout. Its first error line is the failure's reason."""
    with open(stdin_path, "rb") if stdin_path else open(os.devnull, "rb") as source:
        proc = subprocess.run(ssh_argv(store, command), stdin=source, capture_output=True)
    if proc.returncode != 0:
        reason = proc.stderr.decode(errors="replace").strip().splitlines()
        raise AgentError(f"backup host: {reason[-1] if reason else f'ssh exit {proc.returncode}'}")
    return proc.stdout.decode()


def ship_directory(store: dict, set_name: str, dest: Path) -> None:
    """Send every complete backup not yet shipped, then binlog copies the store lacks."""
    for backup_id in backup_ids(dest):
        directory = dest / backup_id
        if (directory / SHIPPED).exists() or sums_problem(directory):
            continue
        sums = read_sums(directory)
        for name in [*sorted(sums), SUMS]:
            digest = sums.get(name) or sha256_file(directory / name)
            call(store, f"put {set_name} {backup_id} {name} {digest}", directory / name)
        call(store, f"seal {set_name} {backup_id}")
        write_file(directory / SHIPPED, "sealed on the backup host\n")
    binlog_dir = dest / "binlogs"
    if (binlog_dir / SUMS).exists():
        shipped = shipped_binlogs(dest)
        if set(read_sums(binlog_dir)) - shipped:  # what the store has already counts (a re-made directory)
            shipped |= {json.loads(line)["name"] for line in call(store, f"binlogs {set_name}").splitlines() if line}
        for name, digest in sorted(read_sums(binlog_dir).items()):
            if name not in shipped:
                call(store, f"binlog {set_name} {name} {digest}", binlog_dir / name)
                shipped.add(name)
                write_file(binlog_dir / SHIPPED_BINLOGS, "".join(f"{n}\n" for n in sorted(shipped)))


def shipped_binlogs(dest: Path) -> set[str]:
    try:
        return set((dest / "binlogs" / SHIPPED_BINLOGS).read_text().split())
    except FileNotFoundError:
        return set()


def remote_list(store: dict, set_name: str) -> list[dict]:
    return [json.loads(line) for line in call(store, f"list {set_name}").splitlines() if line.strip()]


def fetch_set(store: dict, set_name: str, backup_id: str, dest: Path) -> None:
    """Bring ``ID`` back from the store into ``dest/ID`` (written beside, checked, renamed)."""
    dest.mkdir(mode=0o700, parents=True, exist_ok=True)
    work = dest / f".{backup_id}.fetch"
    work.mkdir(mode=0o700, exist_ok=True)
    _get(store, f"get {set_name} {backup_id} {SUMS}", work / SUMS)
    for name in [*read_sums(work), MANIFEST]:
        if not (work / name).exists():
            _get(store, f"get {set_name} {backup_id} {name}", work / name)
    problem = sums_problem(work)
    if problem:
        raise AgentError(f"the copy of {backup_id} from the backup host fails its checksums ({problem})")
    write_file(work / SHIPPED, "fetched from the backup host\n")
    os.replace(work, dest / backup_id)


def fetch_binlogs(store: dict, set_name: str, dest: Path) -> list[str]:
    """Binlog copies the store has and this host lacks (after a lost host or directory)."""
    directory = dest / "binlogs"
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    sums = read_sums(directory) if (directory / SUMS).exists() else {}
    fetched = []
    for line in call(store, f"binlogs {set_name}").splitlines():
        item = json.loads(line)
        if item["name"] in sums:
            continue
        digest = _get(store, f"get-binlog {set_name} {item['name']}", directory / item["name"])
        if digest != item["sha256"]:
            (directory / item["name"]).unlink()
            raise AgentError(f"binlog {item['name']} from the backup host does not match its checksum")
        sums[item["name"]] = digest
        fetched.append(item["name"])
    if fetched:
        write_sums(directory, sums)
        shipped = shipped_binlogs(dest) | set(fetched)
        write_file(directory / SHIPPED_BINLOGS, "".join(f"{n}\n" for n in sorted(shipped)))
    return fetched


def _get(store: dict, command: str, target: Path) -> str:
    temporary = target.with_name(f".{target.name}.tmp")
    with open(temporary, "wb") as sink:
        proc = subprocess.Popen(ssh_argv(store, command), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)  # fmt: skip
        digest, _size = copy_hashed(proc.stdout, sink)  # type: ignore[arg-type]
        error = proc.stderr.read().decode(errors="replace").strip()  # type: ignore[union-attr]
        if proc.wait() != 0:
            temporary.unlink(missing_ok=True)
            raise AgentError(f"backup host: {error.splitlines()[-1] if error else 'get failed'}")
    os.replace(temporary, target)
    return digest
