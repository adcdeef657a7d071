"""A sitting: one run of an exam with a roster, its seats and its state on the controller.

``<state>/exams/<sitting>/`` (0700): ``sitting.json`` (exam hash, seats, windows; no secrets,
no names beyond the roster copy), ``secrets.json`` (the variables' secret and the one-time
passwords, 0600), ``roster.json``, ``inventory.py`` (the seats, 0600), ``ledger.jsonl``,
``grades/vN.json``, ``evidence/``, ``handout/``, ``layers/`` (archived candidate layers).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from fleetops.errors import InputError
from fleetops.exam.definition import ExamFolder, load_exam
from fleetops.exam.ledger import Ledger
from fleetops.exam.roster import Candidate
from fleetops.fileutil import atomic_write_text, private_dir
from fleetops.paths import state_dir
from fleetops.secrets import Secret, register_sensitive_values

SITTING_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,47}$")


def exams_dir() -> Path:
    return state_dir() / "exams"


def now() -> datetime:
    return datetime.now(timezone.utc)


def parse_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass
class SeatHost:
    role: str
    host: str
    address: str
    connection: dict | None = None  # inventory seats: the host's ssh_* data (lab seats: the lab's)


@dataclass
class SeatState:
    seat: str
    candidate_id: str
    user: str
    hosts: list[SeatHost]
    started_at: str | None = None
    ends_at: str | None = None
    stopped_at: str | None = None
    extra_minutes: int = 0

    def host_for(self, role: str) -> SeatHost:
        return next(h for h in self.hosts if h.role == role)

    @property
    def state(self) -> str:
        if self.stopped_at:
            return "stopped"
        return "started" if self.started_at else "provisioned"

    def to_dict(self) -> dict:
        data = dict(self.__dict__)
        data["hosts"] = [h.__dict__ for h in self.hosts]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "SeatState":
        return cls(**{**data, "hosts": [SeatHost(**h) for h in data["hosts"]]})


@dataclass
class Sitting:
    id: str
    exam_path: str
    exam_sha256: str
    lab: str
    seats: dict[str, SeatState] = field(default_factory=dict)
    baseline: dict[str, str] = field(default_factory=dict)  # host -> baseline layer hash
    provisioned_at: str | None = None
    uid_base: int | None = None
    mode: str = "lab"  # lab | inventory (seats mapped onto real hosts with seats.csv)
    inventory: str | None = None

    @property
    def on_lab(self) -> bool:
        return self.mode == "lab"

    def lab_or_none(self):
        """The lab the seats run on, or None for seats on real hosts."""
        from fleetops.lab.fleet import Lab

        return Lab(self.lab) if self.on_lab else None

    # ----- storage --------------------------------------------------------------------
    @property
    def dir(self) -> Path:
        return exams_dir() / self.id

    @property
    def ledger(self) -> Ledger:
        return Ledger(self.dir / "ledger.jsonl")

    def save(self) -> None:
        private_dir(self.dir)
        data = {k: v for k, v in self.__dict__.items() if k != "seats"}
        data["seats"] = {seat: state.to_dict() for seat, state in sorted(self.seats.items())}
        atomic_write_text(self.dir / "sitting.json", json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))

    def write_json(self, relative: str, data: Any) -> str:
        """Write a 0600 JSON file in the sitting; returns its sha256 (for the ledger)."""
        from fleetops.exam.ledger import file_sha256

        path = self.dir / relative
        private_dir(path.parent)
        atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))
        return file_sha256(path)

    def read_json(self, relative: str) -> Any:
        return json.loads((self.dir / relative).read_text(encoding="utf-8"))

    # ----- secrets --------------------------------------------------------------------
    def secrets(self) -> dict[str, str]:
        try:
            data = json.loads((self.dir / "secrets.json").read_text())
        except FileNotFoundError:
            return {}
        register_sensitive_values(data)
        return data

    def secret(self, name: str) -> Secret:
        value = self.secrets().get(name)
        if value is None:
            raise InputError(f"sitting {self.id}: no {name} recorded (provision again)")
        return Secret(value)

    def set_secrets(self, updates: dict[str, str]) -> None:
        data = {**self.secrets(), **updates}
        private_dir(self.dir)
        atomic_write_text(self.dir / "secrets.json", json.dumps(data, indent=2, sort_keys=True))

    # ----- roster ---------------------------------------------------------------------
    def candidates(self) -> dict[str, Candidate]:
        rows = self.read_json("roster.json")
        return {row["candidate_id"]: Candidate.from_dict(row) for row in rows}

    def exam(self, check_hash: bool = True) -> ExamFolder:
        folder = load_exam(Path(self.exam_path))
        if check_hash and folder.sha256 != self.exam_sha256:
            raise InputError(
                f"exam {folder.exam.id} changed since sitting {self.id} was provisioned "
                f"({self.exam_sha256[:12]} -> {folder.sha256[:12]}); grade it with "
                "'fleetops exam regrade --task T --reason ...' so the whole cohort is regraded"
            )
        return folder

    def selected(self, seats: tuple[str, ...] = (), candidates: tuple[str, ...] = ()) -> list[SeatState]:
        chosen = list(self.seats.values())
        for name in seats:
            if name not in self.seats:
                raise InputError(f"sitting {self.id}: no seat {name} (seats: {', '.join(sorted(self.seats))})")
        by_candidate = {s.candidate_id: s for s in chosen}
        for cid in candidates:
            if cid not in by_candidate:
                raise InputError(f"sitting {self.id}: no candidate {cid}")
        if seats or candidates:
            chosen = [s for s in chosen if s.seat in seats or s.candidate_id in candidates]
        return sorted(chosen, key=lambda s: s.seat)

    def window_end(self, seat: SeatState, minutes: int) -> datetime | None:
        start = parse_time(seat.started_at)
        return start + timedelta(minutes=minutes + seat.extra_minutes) if start else None


def load_sitting(sitting_id: str | None) -> Sitting:
    """A sitting by id, or the only one on this machine."""
    if sitting_id is None:
        known = sorted(p.parent.name for p in exams_dir().glob("*/sitting.json"))
        if not known:
            raise InputError("no exam sitting on this machine (run 'fleetops exam provision')")
        if len(known) > 1:
            raise InputError(f"several sittings ({', '.join(known)}): pass --sitting")
        sitting_id = known[0]
    if not SITTING_ID.match(sitting_id):
        raise InputError(f"sitting id {sitting_id!r}: use lowercase letters, digits, '-' and '_'")
    path = exams_dir() / sitting_id / "sitting.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"no sitting {sitting_id!r} (run 'fleetops exam provision')") from None
    seats = {seat: SeatState.from_dict(value) for seat, value in data.pop("seats").items()}
    return Sitting(**data, seats=seats)
