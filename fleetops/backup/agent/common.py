"""What every part of the agent shares: config, backup ids, checksums, JSON output, subprocesses."""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

CONFIG_DIR = "/etc/fleetops/backup.d"
BACKUP_ID = re.compile(r"^\d{8}T\d{6}Z$")
DATABASE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
TABLE = re.compile(r"^[A-Za-z0-9_$]{1,64}$")
SET_NAME = re.compile(r"^(mysql|app-[a-z][a-z0-9-]{0,30})$")
FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
BINLOG_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}\.\d{6}$")
SUMS = "SHA256SUMS"
MANIFEST = "manifest.json"
CHUNK = 1 << 20


class AgentError(Exception):
    """A refusal or failure: one line on stderr, exit status 1."""


def emit(**fields: Any) -> None:
    """One JSON line on stdout, flushed (the controller reads lines as they come)."""
    sys.stdout.write(json.dumps(fields, sort_keys=True) + "\n")
    sys.stdout.flush()


def load_config(name: str, directory: str = CONFIG_DIR) -> dict:
    """``backup.d/NAME.json`` (written by the role); a missing one names what is not configured."""
    path = Path(directory) / f"{name}.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise AgentError(f"{name} backups are not configured on this host ({path} is missing)") from None
    except ValueError as error:
        raise AgentError(f"{path}: not valid JSON: {error}") from None


def new_id(now: datetime.datetime | None = None) -> str:
    return (now or datetime.datetime.now(datetime.timezone.utc)).strftime("%Y%m%dT%H%M%SZ")


@contextlib.contextmanager
def locked(destination: Path) -> Iterator[None]:
    """One agent at a time per backup set (the timer and a CLI run wait for each other)."""
    destination.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(destination / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def fresh_id(destination: Path) -> str:
    """A new id not taken in ``destination`` (ids have whole seconds: a second backup in the same
    second waits for the next one instead of failing)."""
    import time

    for _ in range(30):
        backup_id = new_id()
        if not (destination / backup_id).exists() and not (destination / f".{backup_id}.partial").exists():
            return backup_id
        time.sleep(0.1)
    raise AgentError(f"backup {backup_id} exists already")


def begin_backup(destination: Path) -> tuple[str, Path]:
    """A new backup's id and its ``.ID.partial`` work directory (leftovers of interrupted runs
    removed first: they never count as backups)."""
    destination.mkdir(mode=0o700, parents=True, exist_ok=True)
    for leftover in destination.glob(".*.partial"):
        remove_tree(leftover)
    backup_id = fresh_id(destination)
    work = destination / f".{backup_id}.partial"
    work.mkdir(mode=0o700)
    return backup_id, work


def id_time(backup_id: str) -> datetime.datetime:
    return datetime.datetime.strptime(backup_id, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)


def checked(pattern: re.Pattern, value: str, what: str) -> str:
    if not pattern.match(value or ""):
        raise AgentError(f"not a {what}: {value!r}")
    return value


def backup_ids(destination: Path) -> list[str]:
    """Complete backups (renamed from ``.ID.partial``), oldest first."""
    try:
        names = os.listdir(destination)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if BACKUP_ID.match(n) and (destination / n).is_dir())


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def write_sums(directory: Path, sums: dict[str, str]) -> None:
    """``SHA256SUMS`` in sha256sum's format, so ``sha256sum -c`` checks a copy anywhere."""
    text = "".join(f"{digest}  {name}\n" for name, digest in sorted(sums.items()))
    write_file(directory / SUMS, text)


def read_sums(directory: Path) -> dict[str, str]:
    sums: dict[str, str] = {}
    for line in (directory / SUMS).read_text().splitlines():
        digest, _, name = line.partition("  ")
        sums[name.lstrip("*")] = digest
    return sums


def sums_problem(directory: Path) -> str | None:
    """Why the files of a backup directory do not match its SHA256SUMS, or None.

    Every listed file must match, and every data file must be listed (a file added beside the
    others, or a list that leaves one out, is a mismatch too); dot files are the agent's markers."""
    try:
        sums = read_sums(directory)
    except OSError:
        return "SHA256SUMS is missing"
    present = {p.name for p in directory.iterdir() if p.is_file() and not p.name.startswith(".") and p.name != SUMS}
    present -= {MANIFEST} - set(sums)  # backups made before round 2 did not list their manifest
    if present - set(sums):
        return f"not in SHA256SUMS: {', '.join(sorted(present - set(sums)))}"
    for name, digest in sorted(sums.items()):
        if name not in present:
            return f"{name} is missing"
        if sha256_file(directory / name) != digest:
            return f"{name} does not match its checksum"
    return None


def write_file(path: Path, text: str, mode: int = 0o600) -> None:
    """Written beside and renamed, so a reader never sees half a file."""
    temporary = path.with_name(f".{path.name}.tmp")
    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def copy_hashed(source: IO[bytes], target: IO[bytes]) -> tuple[str, int]:
    """Copy a stream, hashing while it flows (the checksum costs no second read)."""
    digest, size = hashlib.sha256(), 0
    for block in iter(lambda: source.read(CHUNK), b""):
        digest.update(block)
        target.write(block)
        size += len(block)
    return digest.hexdigest(), size


def run(argv: list[str], *, input_text: str | None = None, check: bool = True) -> str:
    """A command's stdout; on failure its last stderr lines in the error (never its argv's secrets:
    no secret is ever on an argv, passwords live in option files)."""
    proc = subprocess.run(argv, input=input_text, capture_output=True, text=True)
    if check and proc.returncode != 0:
        tail = " ".join(proc.stderr.strip().splitlines()[-3:])
        raise AgentError(f"{Path(argv[0]).name} failed ({proc.returncode}): {tail}")
    return proc.stdout


def pipeline(commands: list[list[str]], sink: IO[bytes], source: IO[bytes] | None = None) -> tuple[str, int]:
    """``cmd1 | cmd2 | ... > sink`` with the last stage's output hashed on its way to ``sink``;
    every stage's exit status is checked (bash's pipefail)."""
    procs: list[subprocess.Popen] = []
    upstream: Any = source if source is not None else subprocess.DEVNULL
    for argv in commands:
        proc = subprocess.Popen(argv, stdin=upstream, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if procs:
            procs[-1].stdout.close()  # type: ignore[union-attr]  # the next stage owns it now
        procs.append(proc)
        upstream = proc.stdout
    errors: dict[int, bytes] = {}
    readers = [threading.Thread(target=_drain, args=(p, i, errors)) for i, p in enumerate(procs)]
    for reader in readers:
        reader.start()
    digest, size = copy_hashed(procs[-1].stdout, sink)  # type: ignore[arg-type]
    for reader in readers:
        reader.join()
    for index, proc in enumerate(procs):
        if proc.wait() != 0:
            tail = " ".join(errors.get(index, b"").decode(errors="replace").strip().splitlines()[-3:])
            raise AgentError(f"{Path(commands[index][0]).name} failed ({proc.returncode}): {tail}")
    return digest, size


def _drain(proc: subprocess.Popen, index: int, errors: dict[int, bytes]) -> None:
    errors[index] = proc.stderr.read()  # type: ignore[union-attr]


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
