"""The time window: ``start`` unlocks the candidates' accounts, ``stop`` locks them and ends
their sessions, ``extend`` moves one seat's end. Times come from the controller's clock and go
to the ledger. Each started seat also gets a timer of its own (``systemd-run``) that locks the
account at the end even if nobody runs ``stop``; ``stop`` is still what counts, since a
candidate with root could cancel that timer (an after-window change then shows in grading).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import datetime

from fleetops.checking.target import SshTarget
from fleetops.exam.sitting import SeatHost, SeatState, Sitting, now, parse_time
from fleetops.fanout import per_host
from fleetops.lab.fleet import Lab
from fleetops.remote_exec import run_command

STOP_UNIT = "fleetops-exam-stop"


@dataclass
class SeatAnswer:
    seat: str
    ok: bool
    detail: str = ""


def target(lab: Lab | None, seat_host: SeatHost) -> SshTarget:
    """How the examiner reaches a seat host: the lab's key, or the inventory's connection data."""
    if seat_host.connection is not None:
        data = seat_host.connection
        return SshTarget(
            name=seat_host.host,
            hostname=seat_host.address,
            port=int(data.get("ssh_port") or 22),
            user=str(data.get("ssh_user") or "root"),
            key_file=data.get("ssh_key"),
            known_hosts=data.get("ssh_known_hosts_file"),
            strict=str(data.get("ssh_strict_host_key_checking", "yes")).lower(),
        )
    if lab is None:
        raise ValueError(f"{seat_host.host}: no lab and no connection data")
    return SshTarget(
        name=seat_host.host,
        hostname=seat_host.address,
        user="root",
        key_file=str(lab.key_file),
        known_hosts=str(lab.known_hosts),
        strict="yes",
    )


def lock_command(user: str) -> str:
    q = shlex.quote(user)
    return (
        f"usermod -L {q} && chage -E 0 {q} && "
        f"{{ loginctl terminate-user {q} 2>/dev/null; pkill -KILL -u {q} 2>/dev/null; true; }}"
    )


def unlock_command(user: str, seconds: int) -> str:
    q = shlex.quote(user)
    lock = shlex.quote(lock_command(user))
    return (
        f"systemctl stop {STOP_UNIT}.timer 2>/dev/null; systemctl reset-failed {STOP_UNIT}.service 2>/dev/null; "
        f"usermod -U {q} && chage -E -1 {q} && "
        f"systemd-run --quiet --unit={STOP_UNIT} --on-active={seconds}s /bin/sh -c {lock}"
    )


def _on_seats(lab: Lab | None, seats: list[SeatState], command_for) -> list[SeatAnswer]:
    items = [(seat, h) for seat in seats for h in seat.hosts]

    def one(item: tuple[SeatState, SeatHost]) -> SeatAnswer:
        seat, seat_host = item
        answer = run_command(target(lab, seat_host), command_for(seat), timeout=60)
        if isinstance(answer, str):
            return SeatAnswer(seat.seat, False, f"{seat_host.host}: {answer}")
        code, _out, err = answer
        return SeatAnswer(seat.seat, code == 0, f"{seat_host.host}: {err.strip()[-200:]}" if code else seat_host.host)

    answers = per_host(items, one)
    merged: dict[str, SeatAnswer] = {}
    for answer in answers:
        previous = merged.get(answer.seat)
        if previous is None:
            merged[answer.seat] = answer
        elif not answer.ok:
            merged[answer.seat] = SeatAnswer(answer.seat, False, answer.detail)
    return [merged[s.seat] for s in seats]


def start(sitting: Sitting, seats: list[SeatState], minutes: int) -> list[SeatAnswer]:
    lab = sitting.lab_or_none()
    moment = now()
    pending = [s for s in seats if not s.started_at]

    def command(seat: SeatState) -> str:
        return unlock_command(seat.user, (minutes + seat.extra_minutes) * 60)

    answers = _on_seats(lab, pending, command)
    for seat, answer in zip(pending, answers, strict=True):
        if answer.ok:
            seat.started_at = moment.isoformat(timespec="seconds")
            seat.ends_at = sitting.window_end(seat, minutes).isoformat(timespec="seconds")  # type: ignore[union-attr]
    sitting.save()
    sitting.ledger.append(
        "start",
        {
            "at": moment.isoformat(timespec="seconds"),
            "seats": {a.seat: "ok" if a.ok else a.detail for a in answers},
        },
    )
    return answers


def stop(sitting: Sitting, seats: list[SeatState]) -> list[SeatAnswer]:
    lab = sitting.lab_or_none()
    running = [s for s in seats if not s.stopped_at]
    answers = _on_seats(
        lab, running, lambda seat: lock_command(seat.user) + f"; systemctl stop {STOP_UNIT}.timer 2>/dev/null; true"
    )
    moment = now()
    for seat, answer in zip(running, answers, strict=True):
        if answer.ok:
            seat.stopped_at = moment.isoformat(timespec="seconds")
    sitting.save()
    sitting.ledger.append(
        "stop",
        {"at": moment.isoformat(timespec="seconds"), "seats": {a.seat: "ok" if a.ok else a.detail for a in answers}},
    )
    return answers


def extend(sitting: Sitting, seat: SeatState, minutes: int, exam_minutes: int, reason: str) -> SeatAnswer:
    seat.extra_minutes += minutes
    answer = SeatAnswer(seat.seat, True, "not started yet")
    if seat.started_at and not seat.stopped_at:
        end = sitting.window_end(seat, exam_minutes)
        assert end is not None
        seconds = max(1, int((end - now()).total_seconds()))
        lab = sitting.lab_or_none()
        command = (
            f"systemctl stop {STOP_UNIT}.timer 2>/dev/null; systemctl reset-failed {STOP_UNIT}.service 2>/dev/null; "
            f"systemd-run --quiet --unit={STOP_UNIT} --on-active={seconds}s /bin/sh -c {shlex.quote(lock_command(seat.user))}"
        )
        answer = _on_seats(lab, [seat], lambda _s: command)[0]
        seat.ends_at = end.isoformat(timespec="seconds")
    sitting.save()
    sitting.ledger.append("extend", {"seat": seat.seat, "minutes": minutes, "reason": reason, "ends_at": seat.ends_at})
    return answer


@dataclass
class SeatStatus:
    seat: str
    candidate_id: str
    state: str
    reachable: bool
    sessions: int
    left_s: float | None
    detail: str = ""


def status(sitting: Sitting, seats: list[SeatState]) -> list[SeatStatus]:
    lab = sitting.lab_or_none()

    def one(seat: SeatState) -> SeatStatus:
        sessions, reachable, detail = 0, True, ""
        for seat_host in seat.hosts:
            q = shlex.quote(seat.user)
            answer = run_command(
                target(lab, seat_host), f"loginctl list-sessions --no-legend | awk '$3 == {q}' | wc -l"
            )
            if isinstance(answer, str):
                reachable, detail = False, f"{seat_host.host}: {answer}"
                continue
            try:
                sessions += int(answer[1].strip() or 0)
            except ValueError:
                pass
        end = parse_time(seat.ends_at)
        left = None
        if end is not None and not seat.stopped_at:
            left = (end - now()).total_seconds()
        return SeatStatus(seat.seat, seat.candidate_id, seat.state, reachable, sessions, left, detail)

    return per_host(seats, one)


def overdue(seat: SeatState) -> bool:
    end: datetime | None = parse_time(seat.ends_at)
    return bool(end and not seat.stopped_at and now() > end)
