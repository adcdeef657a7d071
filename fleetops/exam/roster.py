"""The roster: who sits the exam. A UTF-8 CSV (BOM allowed, any script in names).

The whole file is validated before anything happens; every bad row is reported with its line
number (exit 2) and nothing changes. Seat user names come from ``candidate_id``, never from names,
so a name in any script is fine and never reaches a seat.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from fleetops.errors import InputError

COLUMNS = ("candidate_id", "name", "seat", "level", "sitting", "extra_minutes", "org", "id_check")
REQUIRED = ("candidate_id", "name")
CANDIDATE_ID = re.compile(r"^[A-Za-z0-9-]{1,32}$")
SEAT_ID = re.compile(r"^s[0-9]{2}$")
MAX_EXTRA_MINUTES = 240


@dataclass(frozen=True)
class Candidate:
    candidate_id: str
    name: str
    line: int
    seat: str = ""
    level: str = ""
    sitting: str = ""
    extra_minutes: int = 0
    org: str = ""
    id_check: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "candidate_id": self.candidate_id,
            "name": self.name,
            "seat": self.seat,
            "level": self.level,
            "sitting": self.sitting,
            "extra_minutes": self.extra_minutes,
            "org": self.org,
            "id_check": self.id_check,
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Candidate":
        return cls(**{**data, "line": data.get("line", 0)})


class RosterError(InputError):
    """Every problem of a roster file, one per line after a summary line."""


def parse_roster(text: str, source: str) -> list[Candidate]:
    """Validate the whole roster; RosterError listing every bad row otherwise."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader)
    except StopIteration:
        raise RosterError(f"roster {source}: empty file (a header row is required)") from None
    names = [column.strip().lower() for column in header]
    problems: list[str] = []
    for column in names:
        if column not in COLUMNS and not column.startswith("x_"):
            problems.append(f"line 1: unknown column {column!r} (columns: {', '.join(COLUMNS)}; or x_* to carry one)")
    for column in REQUIRED:
        if column not in names:
            problems.append(f"line 1: missing column {column!r}")
    if len(set(names)) != len(names):
        problems.append("line 1: a column appears twice")
    if problems:
        raise RosterError(_summary(source, problems))
    candidates: list[Candidate] = []
    seen_ids: dict[str, int] = {}
    seen_seats: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(names):
            problems.append(f"line {line}: {len(row)} fields, the header has {len(names)}")
            continue
        values = {name: cell.strip() for name, cell in zip(names, row, strict=True)}
        row_problems = _row_problems(values)
        cid = values["candidate_id"]
        if cid.lower() in seen_ids:
            row_problems.append(f"candidate_id {cid} repeats line {seen_ids[cid.lower()]}")
        seat = values.get("seat", "")
        if seat and seat in seen_seats:
            row_problems.append(f"seat {seat} is already given to line {seen_seats[seat]}")
        if row_problems:
            problems.extend(f"line {line}: {problem}" for problem in row_problems)
            continue
        seen_ids[cid.lower()] = line
        if seat:
            seen_seats[seat] = line
        candidates.append(
            Candidate(
                candidate_id=cid,
                name=values["name"],
                line=line,
                seat=seat,
                level=values.get("level", "").upper(),
                sitting=values.get("sitting", ""),
                extra_minutes=int(values.get("extra_minutes") or 0),
                org=values.get("org", ""),
                id_check=values.get("id_check", ""),
                extra={k: v for k, v in values.items() if k.startswith("x_")},
            )
        )
    if problems:
        raise RosterError(_summary(source, problems))
    if not candidates:
        raise RosterError(f"roster {source}: no candidates")
    return candidates


def _row_problems(values: dict[str, str]) -> list[str]:
    problems = []
    if not CANDIDATE_ID.match(values["candidate_id"]):
        problems.append(f"candidate_id {values['candidate_id']!r}: use 1-32 letters, digits and '-'")
    name = values["name"]
    if not name:
        problems.append("name is empty")
    elif any(ord(ch) < 32 for ch in name) or len(name) > 80:
        problems.append("name has control characters or is over 80 characters")
    seat = values.get("seat", "")
    if seat and not SEAT_ID.match(seat):
        problems.append(f"seat {seat!r}: use s01..s99")
    level = values.get("level", "")
    if level and level.upper() not in ("J", "M", "S"):
        problems.append(f"level {level!r}: use J, M or S")
    extra = values.get("extra_minutes", "")
    if extra and (not extra.isdigit() or int(extra) > MAX_EXTRA_MINUTES):
        problems.append(f"extra_minutes {extra!r}: a whole number of minutes, 0-{MAX_EXTRA_MINUTES}")
    sitting = values.get("sitting", "")
    if sitting and not re.match(r"^[A-Za-z0-9_-]{1,32}$", sitting):
        problems.append(f"sitting {sitting!r}: use letters, digits, '-' and '_'")
    return problems


def _summary(source: str, problems: list[str]) -> str:
    count = len(problems)
    return f"roster {source}: {count} problem{'s' if count > 1 else ''}, nothing changed\n  " + "\n  ".join(problems)


def load_roster(path: Path) -> list[Candidate]:
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise RosterError(f"roster not found: {path}") from None
    except UnicodeDecodeError as error:
        raise RosterError(f"roster {path}: not UTF-8 (byte {error.start}); save it as UTF-8 CSV") from None
    return parse_roster(text, str(path))


def assign_seats(candidates: list[Candidate], shuffle_seed: int | None = None) -> list[Candidate]:
    """Give every candidate without a seat the next free ``sNN`` (in roster order, or shuffled
    with a recorded seed)."""
    import random

    taken = {c.seat for c in candidates if c.seat}
    free = (f"s{n:02d}" for n in range(1, 100) if f"s{n:02d}" not in taken)
    order = list(candidates)
    if shuffle_seed is not None:
        random.Random(shuffle_seed).shuffle(order)
    seats: dict[str, str] = {}
    for candidate in order:
        if not candidate.seat:
            try:
                seats[candidate.candidate_id] = next(free)
            except StopIteration:
                raise InputError("more than 99 candidates: split the roster into sittings") from None
    from dataclasses import replace

    return [replace(c, seat=c.seat or seats[c.candidate_id]) for c in candidates]
