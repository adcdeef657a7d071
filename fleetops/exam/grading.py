"""``exam grade``: every seat measured by the check engine (one SSH round trip per host), the
layers inspected from the controller for integrity flags, and the outcomes stored as a grading
version (``grades/vN.json``) from which :mod:`fleetops.exam.scoring` computes the points.

A seat that cannot be reached is ``not graded`` and is measured again by the next ``grade``;
seats already measured are kept, so a retry never regrades one candidate quietly (``regrade``
does a whole task for the whole cohort, as a new version, with a reason).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fleetops.checking.engine import HostWork, sweep
from fleetops.checks.base import Outcome
from fleetops.checks.network import Reachable
from fleetops.checks.result import Status
from fleetops.checks.suite import HostPlan
from fleetops.exam import layers
from fleetops.exam.definition import ExamFolder
from fleetops.exam.provision import seat_values
from fleetops.exam.rubric import RenderedItem, render_rubric
from fleetops.exam.scoring import Sheet, score
from fleetops.exam.sitting import SeatState, Sitting, now, parse_time
from fleetops.exam.window import target
from fleetops.fanout import per_host
from fleetops.lab.fleet import Lab
from fleetops.sshutil import port_open

GRADER_ACCESS_REMOVED = "grader access removed"


@dataclass
class SeatGrade:
    seat: str
    candidate_id: str
    outcomes: dict[str, dict] = field(default_factory=dict)  # item -> {status, message, value, phase, at}
    flags: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"candidate_id": self.candidate_id, "outcomes": self.outcomes, "flags": self.flags}


def versions(sitting: Sitting) -> list[int]:
    return sorted(int(p.stem[1:]) for p in (sitting.dir / "grades").glob("v*.json"))


def load_version(sitting: Sitting, version: int | None = None) -> dict | None:
    known = versions(sitting)
    if not known:
        return None
    return sitting.read_json(f"grades/v{version or known[-1]}.json")


def sheets(sitting: Sitting, folder: ExamFolder, data: dict) -> list[Sheet]:
    marks = _marks(sitting)
    out = []
    for seat_id, seat in sorted(data["seats"].items()):
        outcomes = {
            item: Outcome(Status[o["status"]], o["message"], o.get("value")) for item, o in seat["outcomes"].items()
        }
        held = any(flag.startswith("tampered") for flag in seat["flags"])
        out.append(
            score(
                folder.exam,
                seat["candidate_id"],
                seat_id,
                outcomes,
                marks.get(seat["candidate_id"], {}),
                seat["flags"],
                held,
            )
        )
    return out


def _marks(sitting: Sitting) -> dict[str, dict[str, list[float]]]:
    path = sitting.dir / "marks.json"
    if not path.exists():
        return {}
    raw = sitting.read_json("marks.json")
    out: dict[str, dict[str, list[float]]] = {}
    for cid, items in raw.items():
        out[cid] = {item: [m["score"] for m in by_judge.values()] for item, by_judge in items.items()}
    return out


def _phase_items(rendered: list[RenderedItem], phase: str, tasks: set[str] | None) -> list[RenderedItem]:
    wanted = []
    for entry in rendered:
        if entry.check is None:
            continue
        if entry.item.after_reboot != (phase == "reboot"):
            continue
        if tasks is not None and entry.task.id not in tasks:
            continue
        wanted.append(entry)
    return wanted


def _lowers(lab: Lab, host: str) -> list[Path]:
    state = lab.load_state() or {}
    return [lab.host_dir(host) / "baseline", Path(state.get("image", "/nonexistent"))]


def inspect_seat(lab: Lab, seat: SeatState) -> tuple[list[str], set[str]]:
    """Integrity flags of one seat read from its layers, and the password hashes it set."""
    flags: list[str] = []
    hashes: set[str] = set()
    stopped = parse_time(seat.stopped_at)
    for seat_host in seat.hosts:
        upper = lab.host_dir(seat_host.host) / "upper"
        if not upper.is_dir():
            continue
        lowers = _lowers(lab, seat_host.host)
        for tool in layers.tampered_tools(upper, lowers):
            flags.append(f"tampered: {tool} on {seat_host.host}")
        if layers.grader_key_changed(upper, lowers):
            flags.append(f"{GRADER_ACCESS_REMOVED}: {seat_host.host}")
        if stopped is not None:
            late = layers.after(layers.changes(upper, lowers), stopped)
            for change in late[:5]:
                flags.append(f"after-window change: {change} at {layers.utc(change.mtime)} on {seat_host.host}")
            if len(late) > 5:
                flags.append(f"after-window change: {len(late) - 5} more on {seat_host.host}")
        hashes |= layers.new_password_hashes(upper, lowers)
    return flags, hashes


# Real hosts have no layer to read from outside: the same questions go into the seat's one
# round trip, answered by the host (a candidate with root could fake them; documented).
INTEGRITY_TOOLS = (
    "dpkg --verify systemd sudo dash coreutils openssh-server python3-minimal 2>/dev/null | grep -E '^..5' || true"
)


def integrity_checks(seat: SeatState) -> list:
    from fleetops.checks.command import Command

    checks = [
        Command(kind="command", name="integrity-tools", command=INTEGRITY_TOOLS, value_from="text"),
        Command(kind="command", name="integrity-shadow", command="cut -d: -f2 /etc/shadow", value_from="text"),
    ]
    stopped = parse_time(seat.stopped_at)
    if stopped is not None:
        stamp = int(stopped.timestamp()) + 2
        checks.append(
            Command(
                kind="command",
                name="integrity-late",
                command=f"find /etc /srv /var/www /opt /home /root -xdev -newermt @{stamp} -type f "
                "-not -path '/root/.fleetops/*' -not -path '/root/.cache/*' -not -name resolv.conf 2>/dev/null | head -20",
                value_from="text",
            )
        )
    return checks


def host_flags(sitting: Sitting, seat: SeatState, by_host: dict[str, dict]) -> tuple[list[str], set[str]]:
    """Integrity flags of a real-host seat from its integrity checks' answers."""
    import hashlib

    flags: list[str] = []
    hashes: set[str] = set()
    for seat_host in seat.hosts:
        results = by_host.get(seat_host.host, {})
        tools = results.get("integrity-tools")
        if tools is not None and isinstance(tools.value, str) and tools.value:
            for line in tools.value.splitlines():
                flags.append(f"tampered: {line.split()[-1]} on {seat_host.host}")
        late = results.get("integrity-late")
        if late is not None and isinstance(late.value, str) and late.value:
            for path in late.value.splitlines()[:5]:
                flags.append(f"after-window change: ~ {path} on {seat_host.host}")
        shadow = results.get("integrity-shadow")
        baseline_path = sitting.dir / "baseline" / f"{seat_host.host}.json"
        known = set()
        if baseline_path.exists():
            known = {v["hash"] for v in sitting.read_json(f"baseline/{seat_host.host}.json")["locks"].values()}
        if shadow is not None and isinstance(shadow.value, str):
            for field in shadow.value.split():
                value = field.lstrip("!")
                if value.startswith("$"):
                    digest = hashlib.sha256(value.encode()).hexdigest()[:16]
                    if digest not in known:
                        hashes.add(digest)
    return flags, hashes


def reboot_host(target_: Any, timeout: float = 300) -> None:
    """Reboot a real host and wait until it answers SSH with a new boot id."""
    from fleetops.remote_exec import run_command

    before = run_command(target_, "cat /proc/sys/kernel/random/boot_id")
    run_command(target_, "systemctl reboot", timeout=10)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(2)
        answer = run_command(
            target_, "cat /proc/sys/kernel/random/boot_id; systemctl is-system-running --wait", timeout=120
        )
        if (
            not isinstance(answer, str)
            and not isinstance(before, str)
            and answer[1].split()[:1] != before[1].split()[:1]
        ):
            return


def similar_pairs(hashes: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Seats that share a salted password hash: one copied the other's (Teuton's 'unique')."""
    ids = sorted(hashes)
    return [(a, b) for i, a in enumerate(ids) for b in ids[i + 1 :] if hashes[a] & hashes[b]]


def grade(
    sitting: Sitting,
    folder: ExamFolder,
    seats: list[SeatState],
    phase: str = "live",
    tasks: set[str] | None = None,
    version: int | None = None,
    remeasure: bool = False,
    progress=None,
) -> tuple[int, dict]:
    """Measure ``seats`` for ``phase`` into grading ``version`` (default: the latest, or v1).
    Only items not yet measured (or not graded) are measured unless ``remeasure``."""
    lab = sitting.lab_or_none()
    known = versions(sitting)
    version = version or (known[-1] if known else 1)
    path = f"grades/v{version}.json"
    data: dict[str, Any] = (
        sitting.read_json(path)
        if (sitting.dir / path).exists()
        else {
            "version": version,
            "exam_sha256": folder.sha256,
            "created": now().isoformat(timespec="seconds"),
            "seats": {},
        }
    )
    candidates = sitting.candidates()
    work: list[HostWork] = []
    planned: dict[str, list[tuple[SeatState, RenderedItem]]] = {}
    grades: dict[str, SeatGrade] = {}
    for seat in seats:
        previous = data["seats"].get(seat.seat, {})
        grades[seat.seat] = SeatGrade(
            seat.seat, seat.candidate_id, dict(previous.get("outcomes", {})), list(previous.get("flags", []))
        )
        values = seat_values(folder, sitting, candidates[seat.candidate_id])
        known_hosts = str(lab.known_hosts) if lab else (seat.hosts[0].connection or {}).get("ssh_known_hosts_file")
        rendered = render_rubric(folder, values, known_hosts=known_hosts)
        for entry in _phase_items(rendered, phase, tasks):
            measured = grades[seat.seat].outcomes.get(entry.item.id)
            if measured and measured["status"] != "UNKNOWN" and not remeasure:
                continue
            planned.setdefault(seat.host_for(entry.role).host, []).append((seat, entry))
    if phase == "reboot" and planned:
        if lab is not None:
            for name in sorted(planned):
                lab.halt(name)
            lab.start(sorted(planned))  # returns once systemd reports the boot finished
        else:
            hosts = {h.host: h for seat in seats for h in seat.hosts if h.host in planned}
            per_host(list(hosts.values()), lambda h: reboot_host(target(lab, h)))
        time.sleep(folder.exam.reboot_settle)  # services that load data after starting (a model) settle
    for host, entries in sorted(planned.items()):
        seat = entries[0][0]
        checks = [Reachable(kind="reachable"), *(entry.check for _s, entry in entries if entry.check is not None)]
        if not sitting.on_lab:
            checks += integrity_checks(seat)
        work.append(HostWork(HostPlan(host, checks), target(lab, seat.host_for(entries[0][1].role))))
    run = sweep(work, suite=f"exam {folder.exam.id}", inventory=str(sitting.dir / "inventory.py"))
    by_host: dict[str, dict] = {}
    for result in run.results:
        by_host.setdefault(result.host, {})[result.check] = result
    moment = now().isoformat(timespec="seconds")
    all_hashes: dict[str, set[str]] = {}
    for other in sitting.seats.values():
        if lab is not None:
            flags, hashes = inspect_seat(lab, other)
        else:
            flags, hashes = host_flags(sitting, other, by_host)
        all_hashes[other.seat] = hashes
        if other.seat in grades:  # flags are evidence: once raised in a version they stay
            kept = grades[other.seat].flags
            grades[other.seat].flags = kept + [flag for flag in flags if flag not in kept]
    for host, entries in planned.items():
        results = by_host.get(host, {})
        reach = results.get("reachable")
        for owner, entry in entries:
            result = results.get(entry.item.id)
            if reach is not None and reach.status != Status.OK:
                message = f"not graded: {host} unreachable ({reach.message})"
                access = [f for f in grades[owner.seat].flags if f.startswith(GRADER_ACCESS_REMOVED)]
                if access or (port_open(owner.host_for(entry.role).address, 22) and "Authentication" in reach.message):
                    message = f"not graded: {GRADER_ACCESS_REMOVED} on {host}"
                    if not access and f"{GRADER_ACCESS_REMOVED}: {host}" not in grades[owner.seat].flags:
                        grades[owner.seat].flags.append(f"{GRADER_ACCESS_REMOVED}: {host}")
                outcome: dict[str, Any] = {"status": "UNKNOWN", "message": message, "value": None}
            elif result is None:
                outcome = {"status": "UNKNOWN", "message": "no result", "value": None}
            else:
                value = (
                    result.value
                    if isinstance(result.value, (int, float, str, bool)) or result.value is None
                    else str(result.value)
                )
                outcome = {"status": result.status.name, "message": result.message, "value": value}
            grades[owner.seat].outcomes[entry.item.id] = {**outcome, "phase": phase, "at": moment}
    for first, second in similar_pairs(all_hashes):
        for flagged, source in ((first, second), (second, first)):
            flag = f"similar to {source}: same password hash (salt included)"
            if flagged in grades and flag not in grades[flagged].flags:
                grades[flagged].flags.append(flag)
    for seat_id, seat_grade in grades.items():
        data["seats"][seat_id] = seat_grade.to_dict()
    data["updated"] = moment
    sha = sitting.write_json(path, data)
    sitting.ledger.append(
        "grade",
        {
            "version": version,
            "phase": phase,
            "seats": sorted(grades),
            "tasks": sorted(tasks) if tasks else None,
            "hosts_measured": len(work),
        },
        files={path: sha},
    )
    return version, data
