"""A local SQLite history of check runs, and the state changes it reveals (ok -> critical ...).

One row per run and one per result. ``transitions`` uses a window function over each
(host, check) series, so "what changed since yesterday" is one query, not a scan in Python.
"""

from __future__ import annotations

import os
import re
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

from fleetops.checking.engine import CheckRun
from fleetops.errors import InputError
from fleetops.fileutil import private_dir
from fleetops.paths import state_dir

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    started REAL NOT NULL,
    duration_s REAL NOT NULL,
    suite TEXT NOT NULL,
    inventory TEXT NOT NULL,
    status TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS results (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    host TEXT NOT NULL,
    check_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    value TEXT,
    message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS results_series ON results (host, check_name, run_id);
"""

TRANSITIONS = """
SELECT started, host, check_name, previous, status, message FROM (
    SELECT runs.started AS started, results.host AS host, results.check_name AS check_name,
           results.status AS status, results.message AS message,
           LAG(results.status) OVER (PARTITION BY results.host, results.check_name
                                     ORDER BY results.run_id) AS previous
    FROM results JOIN runs ON runs.id = results.run_id
    WHERE (:host IS NULL OR results.host = :host)
      AND (:check IS NULL OR results.check_name = :check)
)
WHERE previous IS NOT NULL AND previous != status AND started >= :since
ORDER BY started, host, check_name
"""


def history_path() -> Path:
    return state_dir() / "check-history.sqlite"


def connect(path: Path | None = None) -> sqlite3.Connection:
    path = path or history_path()
    private_dir(path.parent)
    if not path.exists():  # created 0600 before sqlite opens it: results carry host output
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)
    connection = sqlite3.connect(path, timeout=30)
    connection.executescript(SCHEMA)
    return connection


def append(run: CheckRun, path: Path | None = None) -> int:
    """Store a run and its results; returns the run id."""
    with connect(path) as connection:
        cursor = connection.execute(
            "INSERT INTO runs (started, duration_s, suite, inventory, status) VALUES (?, ?, ?, ?, ?)",
            (run.started, run.finished - run.started, run.suite, run.inventory, run.status.label),
        )
        run_id = cursor.lastrowid
        connection.executemany(
            "INSERT INTO results (run_id, host, check_name, kind, status, value, message) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    run_id,
                    result.host,
                    result.check,
                    result.kind,
                    result.status.label,
                    None if result.value is None else str(result.value),
                    result.message,
                )
                for result in run.results
            ],
        )
    connection.close()
    return int(run_id or 0)


_DURATION = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str | None, now: datetime | None = None) -> float:
    """``30m``, ``2h``, ``7d`` or an ISO date/time; None means the beginning of history."""
    if not text:
        return 0.0
    now = now or datetime.now(timezone.utc)
    match = _DURATION.match(text.strip())
    if match:
        try:
            return (now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})).timestamp()
        except (OverflowError, ValueError):
            return 0.0  # further back than any history: everything
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"--since: expected a duration like 30m, 2h, 7d or an ISO time, got {text!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


def transitions(
    host: str | None = None, check: str | None = None, since: float = 0.0, path: Path | None = None
) -> list[dict]:
    """Changes of state per (host, check), oldest first."""
    path = path or history_path()
    if not path.exists():
        return []
    connection = connect(path)
    try:
        rows = connection.execute(TRANSITIONS, {"host": host, "check": check, "since": since})
        return [
            {
                "time": datetime.fromtimestamp(started, timezone.utc).isoformat(timespec="seconds"),
                "host": host_name,
                "check": check_name,
                "from": previous,
                "to": status,
                "message": message,
            }
            for started, host_name, check_name, previous, status, message in rows
        ]
    finally:
        connection.close()


def runs(limit: int = 20, path: Path | None = None) -> list[dict]:
    """The most recent runs, newest first."""
    path = path or history_path()
    if not path.exists():
        return []
    connection = connect(path)
    try:
        rows = connection.execute(
            "SELECT id, started, duration_s, suite, status FROM runs ORDER BY id DESC LIMIT ?", (limit,)
        )
        return [
            {
                "id": run_id,
                "time": datetime.fromtimestamp(started, timezone.utc).isoformat(timespec="seconds"),
                "duration_s": round(duration, 2),
                "suite": suite,
                "status": status,
            }
            for run_id, started, duration, suite, status in rows
        ]
    finally:
        connection.close()
