"""The sitting's ledger: one hash-chained JSON line per action, so any edit is found.

Each entry holds seq, time (controller clock, UTC), operator, action, its arguments, the sha256
of what it produced (a grading version, a manifest) and the previous entry's hash; its own hash
covers all of that. ``verify`` recomputes the chain and re-hashes every file an entry names.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from fleetops.fileutil import sha256_file as file_sha256

GENESIS = "0" * 64


def _digest(entry: dict) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass
class Problem:
    line: int
    message: str


class Ledger:
    def __init__(self, path: Path) -> None:
        self.path = path

    def entries(self) -> list[dict]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def head(self) -> str:
        entries = self.entries()
        return entries[-1]["hash"] if entries else GENESIS

    def append(self, action: str, args: dict[str, Any] | None = None, files: dict[str, str] | None = None) -> dict:
        """Add an entry; ``files`` maps paths (relative to the sitting) to their sha256."""
        entries = self.entries()
        entry = {
            "seq": len(entries) + 1,
            "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            "operator": _operator(),
            "action": action,
            "args": args or {},
            "files": files or {},
            "prev": entries[-1]["hash"] if entries else GENESIS,
        }
        entry["hash"] = _digest(entry)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, sort_keys=True, ensure_ascii=False) + "\n")
        return entry

    def verify(self, root: Path, check_files: bool = True) -> list[Problem]:
        """Every break in the chain and every file that no longer has its recorded hash.
        A file recorded by an older entry may be replaced later only through a newer entry
        that records the same path (regrade writes a new version, never over an old one)."""
        problems: list[Problem] = []
        previous = GENESIS
        latest: dict[str, tuple[int, str]] = {}
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return [Problem(0, "no ledger")]
        for number, line in enumerate(lines, 1):
            try:
                entry = json.loads(line)
            except ValueError:
                problems.append(Problem(number, "not JSON"))
                previous = "broken"
                continue
            if entry.get("seq") != number:
                problems.append(Problem(number, f"seq {entry.get('seq')} out of order"))
            if entry.get("prev") != previous:
                problems.append(Problem(number, "does not chain to the line before"))
            if _digest(entry) != entry.get("hash"):
                problems.append(Problem(number, f"{entry.get('action')}: content does not match its hash"))
            previous = entry.get("hash", "broken")
            for name, sha in (entry.get("files") or {}).items():
                latest[name] = (number, sha)
        if check_files:
            for name, (number, sha) in sorted(latest.items()):
                path = root / name
                if not path.is_file():
                    problems.append(Problem(number, f"{name} is missing"))
                elif file_sha256(path) != sha:
                    problems.append(Problem(number, f"{name} was changed after it was recorded"))
        return problems


def _operator() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return os.environ.get("SUDO_USER") or user
