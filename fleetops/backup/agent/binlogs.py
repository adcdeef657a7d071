"""Binary logs: copied off the server after a flush, found by a search, replayed to a point.

The server's closed binlogs are copied (checksummed) to ``DEST/binlogs`` on every ship and on
every backup, so a point-in-time restore needs only the backup directory (or its off-host copy).
Positions are ``(file, offset)`` pairs and compare by the file's sequence number first.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import NamedTuple

from .common import (
    BINLOG_NAME,
    SUMS,
    AgentError,
    copy_hashed,
    pipeline,
    read_sums,
    run,
    sha256_file,
    write_sums,
)

ROOT_CLIENT = ["mysql", "--protocol=socket", "-u", "root", "-N", "-B"]
UNLOGGED = "--init-command=SET SESSION sql_log_bin=0"  # restores and scratch work never enter the binlog
HEADER = re.compile(r"^#(\d{6}\s+\d{1,2}:\d{2}:\d{2}) server id \d+\s+end_log_pos (\d+).*?\t(\w+)")
AT = re.compile(r"^# at (\d+)$")
SKIPPED = ("#", "/*", "DELIMITER", "SET ", "use ", "START TRANSACTION", "COMMIT", "BEGIN")


class Position(NamedTuple):
    file: str
    offset: int

    @property
    def key(self) -> tuple[int, int]:
        return (sequence(self.file), self.offset)


class Event(NamedTuple):
    """One event group (a transaction or a DDL statement) as mysqlbinlog prints it."""

    position: Position  # where the group starts: replay with stop-position here stops before it
    time: str  # the server's local time, as mysqlbinlog prints it
    text: str  # its statements, Annotate_rows queries and decoded rows


def sequence(name: str) -> int:
    return int(name.rsplit(".", 1)[1])


def sql(statement: str, *, logged: bool = False) -> str:
    """Run SQL as root over the socket; unlogged unless ``logged`` (marker writes must be)."""
    return run([*ROOT_CLIENT, *([] if logged else [UNLOGGED]), "-e", statement])


def server_binlogs() -> tuple[Path, list[str]]:
    """The server's binlog directory and its logs, oldest first (the last one is open)."""
    basename = sql("SELECT @@log_bin_basename").strip()
    if not basename or basename == "NULL":
        raise AgentError("binary logging is off on this server (the role turns it on with mysql.backup.pitr)")
    names = [line.split("\t")[0] for line in sql("SHOW BINARY LOGS").splitlines() if line.strip()]
    return Path(basename).parent, names


def ship_local(destination: Path) -> list[str]:
    """Flush, then copy every closed binlog not yet in ``DEST/binlogs``; returns the new names."""
    sql("FLUSH BINARY LOGS")
    directory, names = server_binlogs()
    target = destination / "binlogs"
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    sums = read_sums(target) if (target / SUMS).exists() else {}
    copied = []
    for name in names[:-1]:
        if name in sums or not BINLOG_NAME.match(name):
            continue
        temporary = target / f".{name}.tmp"
        with open(directory / name, "rb") as source, open(temporary, "wb") as sink:
            sums[name], _size = copy_hashed(source, sink)
            os.fsync(sink.fileno())
        os.replace(temporary, target / name)
        copied.append(name)
    if copied:
        write_sums(target, sums)
    return copied


def chain(destination: Path, start: Position) -> list[str]:
    """The copied binlogs from ``start``'s file on, checked to be complete and intact."""
    target = destination / "binlogs"
    sums = read_sums(target) if (target / SUMS).exists() else {}
    names = sorted((n for n in sums if sequence(n) >= sequence(start.file)), key=sequence)
    if not names or names[0] != start.file:
        raise AgentError(f"binlog {start.file} (where the backup starts) is not among the copies")
    for before, after in zip(names, names[1:], strict=False):
        if sequence(after) != sequence(before) + 1:
            raise AgentError(f"binlog chain broken after {before}: the next copy is {after}")
    for name in names:
        if not (target / name).is_file():
            raise AgentError(f"binlog copy {name} is missing")
        if sha256_file(target / name) != sums[name]:
            raise AgentError(f"binlog copy {name} does not match its checksum")
    return names


def events(destination: Path, start: Position) -> list[Event]:
    """Every event group after ``start`` in the copied binlogs, decoded (rows as ``###`` lines)."""
    found: list[Event] = []
    for name in chain(destination, start):
        argv = ["mysqlbinlog", "--base64-output=decode-rows", "--verbose"]
        if name == start.file:
            argv.append(f"--start-position={start.offset}")
        output = run([*argv, str(destination / "binlogs" / name)])
        found.extend(_groups(name, output))
    return found


def _groups(name: str, output: str) -> list[Event]:
    groups: list[Event] = []
    at: int | None = None
    current: tuple[Position, str, list[str]] | None = (
        None  # the latest "# at N", the open group (position, time, lines)
    )
    for line in output.splitlines():
        match = AT.match(line)
        if match:
            at = int(match.group(1))
            continue
        header = HEADER.match(line)
        if header and header.group(3) == "GTID" and at is not None:
            if current:
                groups.append(Event(current[0], current[1], "\n".join(current[2])))
            current = (Position(name, at), header.group(1), [])
            continue
        if current is None:
            continue
        if line.startswith("#Q> "):
            current[2].append(line[4:])
        elif line.startswith("###") or (line and not line.startswith(SKIPPED) and "added by mysqlbinlog" not in line):
            current[2].append(line)
    if current:
        groups.append(Event(current[0], current[1], "\n".join(current[2])))
    return groups


def search(destination: Path, start: Position, pattern: str) -> list[Event]:
    """Event groups after ``start`` whose text matches ``pattern`` (a regex, case-insensitive)."""
    try:
        wanted = re.compile(pattern, re.IGNORECASE)
    except re.error as error:
        raise AgentError(f"not a valid statement pattern {pattern!r}: {error}") from None
    return [event for event in events(destination, start) if wanted.search(event.text)]


def replay(
    destination: Path,
    database: str,
    start: Position,
    *,
    stop_position: Position | None = None,
    stop_datetime: str | None = None,
    into: str | None = None,
) -> None:
    """Apply one database's events from ``start`` up to (not including) the stop, unlogged.

    ``into`` replays into another database (``--rewrite-db``; the filter names the original)."""
    names = chain(destination, start)
    if stop_position is not None:
        names = [n for n in names if sequence(n) <= sequence(stop_position.file)]
        if not names or names[-1] != stop_position.file:
            raise AgentError(f"binlog {stop_position.file} is not among the copies")
    argv = ["mysqlbinlog", f"--database={database}", f"--start-position={start.offset}"]
    if into:
        argv.append(f"--rewrite-db={database}->{into}")
    if stop_position is not None:
        argv.append(f"--stop-position={stop_position.offset}")
    if stop_datetime is not None:
        argv.append(f"--stop-datetime={stop_datetime}")
    argv += [str(destination / "binlogs" / name) for name in names]
    with open(os.devnull, "wb") as sink:
        pipeline([argv, [*ROOT_CLIENT, UNLOGGED]], sink)


def server_running() -> bool:
    return (
        subprocess.run(["mysqladmin", "--protocol=socket", "-u", "root", "ping"], capture_output=True).returncode == 0
    )
