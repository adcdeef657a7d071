"""The backup host's side: an append-only store behind an SSH forced command, and its pruner.

``store-serve CLIENT`` is the only program the store account runs (``restrict,command=...`` in
its authorized_keys, one line per client host, so a client can reach only its own directory).
It reads the request from ``SSH_ORIGINAL_COMMAND``:

    put SET ID NAME SHA256       stdin -> ROOT/CLIENT/SET/ID/NAME, checked on arrival
    seal SET ID                  the directory matches its SHA256SUMS: it counts from now on
    binlog SET NAME SHA256       stdin -> ROOT/CLIENT/SET/binlogs/NAME
    list SET | binlogs SET       JSON lines
    get SET ID NAME | get-binlog SET NAME

Nothing deletes or overwrites: a name that exists is accepted again only with the same content,
and a sealed backup takes no more files. So a compromised client can add junk, never destroy a
copy. Deletion is ``store-prune``, run as root by the backup host's own timer (GFS per client).
"""

from __future__ import annotations

import datetime
import os
import shutil
import sys
import time
from pathlib import Path
from typing import IO

from . import retention
from .common import (
    BACKUP_ID,
    BINLOG_NAME,
    CHUNK,
    FILE_NAME,
    MANIFEST,
    SET_NAME,
    AgentError,
    backup_ids,
    checked,
    copy_hashed,
    emit,
    read_json,
    sha256_file,
    sums_problem,
)

SEALED = ".sealed"
HEX64 = "0123456789abcdef"
STALE_UNSEALED_S = 86400


def serve(config: dict, client: str, request: str, stdin: IO[bytes], stdout: IO[bytes]) -> None:
    """Answer one request of ``client`` (its name comes from the forced command, not from it)."""
    if client not in config.get("clients", {}):
        raise AgentError(f"unknown client {client!r}")
    words = request.split()
    if not words:
        raise AgentError("refused: no request (this account runs the backup store only)")
    verb, args = words[0], words[1:]
    base = Path(config["root"]) / client
    handlers = {
        "put": (4, lambda: _put(_backup_dir(base, args[0], args[1]), args[2], args[3], stdin)),
        "seal": (2, lambda: _seal(_backup_dir(base, args[0], args[1]))),
        "binlog": (3, lambda: _put(_binlog_dir(base, args[0]), _binlog(args[1]), args[2], stdin, sidecar=True)),
        "list": (1, lambda: _list(base / _set(args[0]))),
        "binlogs": (1, lambda: _binlogs(_binlog_dir(base, args[0]))),
        "get": (3, lambda: _get(_sealed(_backup_dir(base, args[0], args[1]), _file(args[2])), stdout)),
        "get-binlog": (2, lambda: _get(_binlog_dir(base, args[0]) / _binlog(args[1]), stdout)),
    }
    if verb not in handlers:
        raise AgentError(f"refused: {verb!r} is not a store request (nothing here deletes)")
    count, handler = handlers[verb]
    if len(args) != count:
        raise AgentError(f"refused: {verb} takes {count} arguments")
    if args and args[0] not in config["clients"][client]:
        raise AgentError(f"refused: {client} keeps no {args[0]!r} backups here (not in the store's config)")
    handler()


def _set(name: str) -> str:
    return checked(SET_NAME, name, "backup set")


def _file(name: str) -> str:
    return checked(FILE_NAME, name, "file name")


def _binlog(name: str) -> str:
    return checked(BINLOG_NAME, name, "binlog name")


def _backup_dir(base: Path, set_name: str, backup_id: str) -> Path:
    return base / _set(set_name) / checked(BACKUP_ID, backup_id, "backup id")


def _binlog_dir(base: Path, set_name: str) -> Path:
    return base / _set(set_name) / "binlogs"


def _sealed(directory: Path, name: str) -> Path:
    if not (directory / SEALED).exists():
        raise AgentError(f"no sealed backup {directory.name}")
    return directory / name


def _put(directory: Path, name: str, digest: str, stdin: IO[bytes], sidecar: bool = False) -> None:
    name = _file(name)
    if len(digest) != 64 or set(digest) - set(HEX64):
        raise AgentError("refused: not a sha256")
    if (directory / SEALED).exists():
        raise AgentError(f"refused: backup {directory.name} is sealed")
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    incoming = directory.parent / ".incoming"
    incoming.mkdir(mode=0o700, exist_ok=True)
    temporary = incoming / f"{directory.name}.{name}.{os.getpid()}"
    with open(temporary, "wb") as sink:
        received, size = copy_hashed(stdin, sink)
        os.fsync(sink.fileno())
    try:
        if received != digest:
            raise AgentError(f"refused: {name} arrived with sha256 {received[:12]}..., not {digest[:12]}...")
        target = directory / name
        if target.exists():
            if sha256_file(target) != digest:
                raise AgentError(f"refused: {name} exists with other content (copies are never overwritten)")
        else:
            os.link(temporary, target)  # fails if a racing put created it: never a silent overwrite
            os.chmod(target, 0o440)
            if sidecar:
                (directory / f".{name}.sha256").write_text(digest + "\n")
    finally:
        temporary.unlink(missing_ok=True)
    emit(stored=name, bytes=size)


def _seal(directory: Path) -> None:
    if (directory / SEALED).exists():
        emit(sealed=directory.name, already=True)
        return
    if not directory.is_dir():
        raise AgentError(f"refused: no files for backup {directory.name}")
    problem = sums_problem(directory)
    if problem:
        raise AgentError(f"refused to seal {directory.name}: {problem}")
    (directory / SEALED).write_text(f"{time.time()}\n")
    os.chmod(directory, 0o500)
    emit(sealed=directory.name)


def _list(set_dir: Path) -> None:
    for backup_id in backup_ids(set_dir):
        directory = set_dir / backup_id
        if (directory / SEALED).exists():
            size = sum(p.stat().st_size for p in directory.iterdir() if p.is_file())
            emit(id=backup_id, bytes=size, manifest=read_json(directory / MANIFEST))


def _binlogs(directory: Path) -> None:
    if not directory.is_dir():
        return
    for path in sorted(directory.glob(".*.sha256")):
        emit(name=path.name[1:-7], sha256=path.read_text().strip())


def _get(path: Path, stdout: IO[bytes]) -> None:
    if not path.is_file():
        raise AgentError(f"no such file: {path.name}")
    with open(path, "rb") as source:
        shutil.copyfileobj(source, stdout, CHUNK)
    stdout.flush()


def serve_main(config: dict, client: str) -> int:
    """The forced command's entry: the request is SSH_ORIGINAL_COMMAND, never argv."""
    os.umask(0o077)
    request = os.environ.get("SSH_ORIGINAL_COMMAND", "")
    serve(config, client, request, sys.stdin.buffer, sys.stdout.buffer)
    return 0


def prune(config: dict, now: datetime.datetime | None = None) -> list[str]:
    """Per client and set: GFS over sealed backups, unsealed leftovers older than a day, and
    binlog copies older than the oldest kept backup's position."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    removed = []
    for client, sets in sorted(config.get("clients", {}).items()):
        for set_name, policy in sorted(sets.items()):
            set_dir = Path(config["root"]) / client / set_name
            ids = backup_ids(set_dir)
            sealed = [i for i in ids if (set_dir / i / SEALED).exists()]
            for backup_id in retention.to_remove(sealed, policy, now):
                _remove(set_dir / backup_id)
                removed.append(f"{client}/{set_name}/{backup_id}")
            for backup_id in set(ids) - set(sealed):
                if time.time() - (set_dir / backup_id).stat().st_mtime > STALE_UNSEALED_S:
                    _remove(set_dir / backup_id)
                    removed.append(f"{client}/{set_name}/{backup_id} (never sealed)")
            removed += _prune_binlogs(set_dir, f"{client}/{set_name}")
    for item in removed:
        emit(removed=item)
    return removed


def _prune_binlogs(set_dir: Path, label: str) -> list[str]:
    kept = [i for i in backup_ids(set_dir) if (set_dir / i / SEALED).exists()]
    directory = set_dir / "binlogs"
    if not kept or not directory.is_dir():
        return []
    positions = (read_json(set_dir / kept[0] / MANIFEST) or {}).get("positions") or {}
    files = [p["dump"][0] for p in positions.values() if p.get("dump")]
    if not files:
        return []
    floor = min(int(name.rsplit(".", 1)[1]) for name in files)
    gone = []
    for path in sorted(directory.glob(".*.sha256")):
        name = path.name[1:-7]
        if int(name.rsplit(".", 1)[1]) < floor:
            (directory / name).unlink(missing_ok=True)
            path.unlink()
            gone.append(f"{label}/binlogs/{name}")
    return gone


def _remove(path: Path) -> None:
    os.chmod(path, 0o700)
    shutil.rmtree(path)


def describe(config: dict) -> None:
    """``store-status``: what the store holds per client and set."""
    for client in sorted(config.get("clients", {})):
        for set_name in sorted(config["clients"][client]):
            set_dir = Path(config["root"]) / client / set_name
            sealed = [i for i in backup_ids(set_dir) if (set_dir / i / SEALED).exists()]
            emit(client=client, set=set_name, backups=sealed, binlogs=len(list(set_dir.glob("binlogs/.*.sha256"))))
