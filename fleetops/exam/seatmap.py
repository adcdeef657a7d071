"""``seats.csv``: seats mapped onto the hosts of a real inventory (``seat,role,host``).

Validated whole before anything runs, like the roster: every seat needs every role of the exam,
a host serves one seat, and every host exists in the inventory; every bad line is reported.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from fleetops.errors import InputError
from fleetops.exam.definition import Exam
from fleetops.exam.roster import SEAT_ID


def parse_seat_map(text: str, source: str, exam: Exam, hosts: set[str]) -> dict[str, dict[str, str]]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [c.strip().lower() for c in next(reader, [])]
    if header != ["seat", "role", "host"]:
        raise InputError(f"seats {source}: line 1: the header must be seat,role,host")
    problems: list[str] = []
    seats: dict[str, dict[str, str]] = {}
    used: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 3:
            problems.append(f"line {line}: {len(row)} fields, expected 3")
            continue
        seat, role, host = (cell.strip() for cell in row)
        if not SEAT_ID.match(seat):
            problems.append(f"line {line}: seat {seat!r}: use s01..s99")
        if role not in exam.seat.roles:
            problems.append(f"line {line}: role {role!r} is not one of the exam's ({', '.join(exam.seat.roles)})")
        if host not in hosts:
            problems.append(f"line {line}: host {host!r} is not in the inventory")
        if host in used:
            problems.append(f"line {line}: host {host} already serves line {used[host]}")
        if role in seats.get(seat, {}):
            problems.append(f"line {line}: seat {seat} has role {role} twice")
        used[host] = line
        seats.setdefault(seat, {})[role] = host
    for seat, roles in sorted(seats.items()):
        missing = [r for r in exam.seat.roles if r not in roles]
        if missing:
            problems.append(f"seat {seat}: no host for role(s) {', '.join(missing)}")
    if not seats and not problems:
        problems.append("no seats")
    if problems:
        raise InputError(f"seats {source}: {len(problems)} problem(s), nothing changed\n  " + "\n  ".join(problems))
    return seats


def load_seat_map(path: Path, exam: Exam, hosts: set[str]) -> dict[str, dict[str, str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"seats file not found: {path}") from None
    except UnicodeDecodeError:
        raise InputError(f"seats {path}: not UTF-8") from None
    return parse_seat_map(text, str(path), exam, hosts)
