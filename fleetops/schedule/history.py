"""Every scheduled run, one row each, in SQLite: when, how long, the exit code, the state, a
summary, and the notifications sent (so throttling and "what changed" are queries)."""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from fleetops.fileutil import private_dir
from fleetops.paths import state_dir

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    schedule TEXT NOT NULL,
    started REAL NOT NULL,
    duration_s REAL NOT NULL,
    exit_code INTEGER NOT NULL,
    state TEXT NOT NULL,
    summary TEXT NOT NULL,
    notified TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS runs_by_schedule ON runs (schedule, id);
"""


@dataclass(frozen=True)
class Run:
    id: int
    schedule: str
    started: float
    duration_s: float
    exit_code: int
    state: str
    summary: str
    notified: str  # "" or the channels told ("webhook,email"), or "suppressed"

    def to_dict(self) -> dict:
        return {**self.__dict__}


def database(path: Path | None = None) -> sqlite3.Connection:
    path = path or private_dir(state_dir() / "schedules") / "history.db"
    connection = sqlite3.connect(path, timeout=30)
    connection.executescript(SCHEMA)
    owner = path.parent.stat()
    if os.geteuid() == 0 and path.stat().st_uid != owner.st_uid:
        os.chown(path, owner.st_uid, owner.st_gid)  # root asked first: the schedules' user still writes it
    os.chmod(path, 0o600)
    return connection


def record(db: sqlite3.Connection, schedule: str, started: float, duration_s: float, exit_code: int, state: str,
           summary: str) -> int:  # fmt: skip
    with db:
        cursor = db.execute(
            "INSERT INTO runs (schedule, started, duration_s, exit_code, state, summary) VALUES (?, ?, ?, ?, ?, ?)",
            (schedule, started, duration_s, exit_code, state, summary),
        )
    return int(cursor.lastrowid or 0)


def mark_notified(db: sqlite3.Connection, run_id: int, channels: str) -> None:
    with db:
        db.execute("UPDATE runs SET notified = ? WHERE id = ?", (channels, run_id))


def runs(db: sqlite3.Connection, schedule: str, last: int = 20) -> list[Run]:
    rows = db.execute(
        "SELECT id, schedule, started, duration_s, exit_code, state, summary, notified FROM runs "
        "WHERE schedule = ? ORDER BY id DESC LIMIT ?",
        (schedule, last),
    ).fetchall()
    return [Run(*row) for row in reversed(rows)]


def previous_state(db: sqlite3.Connection, schedule: str, before_id: int) -> str | None:
    row = db.execute(
        "SELECT state FROM runs WHERE schedule = ? AND id < ? ORDER BY id DESC LIMIT 1", (schedule, before_id)
    ).fetchone()
    return row[0] if row else None


def last_notified(db: sqlite3.Connection, schedule: str) -> tuple[str, float] | None:
    """(state, time) of the last run whose state was sent, or None."""
    row = db.execute(
        "SELECT state, started + duration_s FROM runs WHERE schedule = ? AND notified NOT IN ('', 'suppressed') "
        "ORDER BY id DESC LIMIT 1",
        (schedule,),
    ).fetchone()
    return (row[0], row[1]) if row else None


def suppressed_since(db: sqlite3.Connection, schedule: str, since: float) -> int:
    row = db.execute(
        "SELECT COUNT(*) FROM runs WHERE schedule = ? AND notified = 'suppressed' AND started >= ?", (schedule, since)
    ).fetchone()
    return int(row[0])


def now() -> float:
    return time.time()
