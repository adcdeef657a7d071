"""``exam selftest``: prove the grader on a throwaway lab before any candidate sits the exam.

provision N seats -> grade (every seat must score 0) -> seat 1 runs every reference solve ->
grade (it must get full marks, judged items aside; after_reboot items graded after a reboot) ->
seat 2 solves one task at a time, and each time only that task may gain points -> reset every
seat -> the reset must prove clean. The lab and the throwaway sitting are removed at the end
unless ``keep``.
"""

from __future__ import annotations

import secrets as random_secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field

from fleetops.exam.definition import ExamFolder
from fleetops.exam.grading import grade, load_version, sheets
from fleetops.exam.provision import provision
from fleetops.exam.reset import reset
from fleetops.exam.roster import Candidate
from fleetops.exam.scoring import Sheet
from fleetops.exam.sitting import Sitting
from fleetops.exam.window import start
from fleetops.lab.fleet import Lab


@dataclass
class SelftestResult:
    sitting: str
    steps: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _solve(sitting: Sitting, folder: ExamFolder, seat: str, task_ids: list[str], result: SelftestResult) -> None:
    from fleetops.runner.deploy import DeployOptions, run_deploy

    for task in folder.exam.tasks:
        if task.id not in task_ids or task.solve is None:
            continue
        role = task.host or next(iter(folder.exam.seat.roles))
        host = sitting.seats[seat].host_for(role).host
        record = run_deploy(
            DeployOptions(deploy_file=folder.path / task.solve, inventory=sitting.dir / "inventory.py", limit=(host,))
        ).to_dict()
        if record["status"] in ("failed", "unreachable"):
            result.problems.append(
                f"solve {task.id} on {host}: {record['status']}: {record['hosts'][host].get('error')}"
            )


def _totals(sitting: Sitting, folder: ExamFolder, version: int) -> dict[str, Sheet]:
    data = load_version(sitting, version)
    assert data is not None
    return {s.seat: s for s in sheets(sitting, folder, data)}


def selftest(
    folder: ExamFolder, seats: int = 2, keep: bool = False, progress: Callable[[str], None] = lambda _m: None
) -> SelftestResult:
    seats = max(2, seats)
    token = random_secrets.token_hex(2)
    lab_name, sitting_id = f"st{token}", f"selftest-{folder.exam.id}-{token}"
    roster = [Candidate(f"SELFTEST-{n:02d}", f"selftest {n}", n + 1, seat=f"s{n:02d}") for n in range(1, seats + 1)]
    result = SelftestResult(sitting_id)
    judged = sum(item.points for _t, item in folder.exam.all_items() if item.judged)
    full = folder.exam.points - judged
    try:
        progress("provision")
        provisioned = provision(folder, roster, sitting_id, lab_name, progress)
        if provisioned.failed:
            result.problems += [f"provision: {f}" for f in provisioned.failed]
            return result
        sitting = provisioned.sitting
        everyone = sitting.selected()
        start(sitting, everyone, folder.exam.minutes)
        progress("grade before any solve")
        grade(sitting, folder, everyone, "live", version=1)
        grade(sitting, folder, everyone, "reboot", version=1)
        for seat, sheet in _totals(sitting, folder, 1).items():
            earned = [f"{i.id} ({i.points:g})" for i in sheet.items if i.points > 0]
            ungraded = [
                i.id for i in sheet.items if i.state == "not_graded" and not folder.exam.find_item(i.id)[1].judged
            ]
            if earned:
                result.problems.append(
                    f"before solve, {seat} already scores: {', '.join(earned)} (the baseline satisfies them)"
                )
            if ungraded:
                result.problems.append(f"before solve, {seat} not graded: {', '.join(ungraded)}")
        result.steps.append(f"before solve: {seats} seat(s) scored 0")
        first, second = everyone[0].seat, everyone[1].seat
        progress(f"solve every task on {first}")
        _solve(sitting, folder, first, [t.id for t in folder.exam.tasks], result)
        first_seat = [sitting.seats[first]]
        grade(sitting, folder, first_seat, "live", version=2, remeasure=True)
        grade(sitting, folder, first_seat, "reboot", version=2, remeasure=True)
        sheet = _totals(sitting, folder, 2)[first]
        if abs(sheet.total - full) > 1e-6:
            missing = [
                f"{i.id}: {i.message}"
                for i in sheet.items
                if i.points < i.max and not folder.exam.find_item(i.id)[1].judged
            ]
            lost = [f"{i.id}: {i.points:g}" for i in sheet.items if i.penalty and i.points < 0]
            result.problems.append(
                f"after solve, {first} scores {sheet.total:g}/{full:g}: " + "; ".join(missing + lost)
            )
        else:
            result.steps.append(f"after solve: {first} scored full marks ({full:g})")
        previous = {t.id: 0.0 for t in folder.exam.tasks}
        version = 3
        for task in folder.exam.tasks:
            if task.solve is None:
                continue
            progress(f"solve {task.id} alone on {second}")
            _solve(sitting, folder, second, [task.id], result)
            grade(sitting, folder, [sitting.seats[second]], "live", version=version, remeasure=True)
            now_sheet = _totals(sitting, folder, version)[second]
            for other in folder.exam.tasks:
                gained = now_sheet.tasks[other.id]["points"] - previous[other.id]
                if other.id != task.id and abs(gained) > 1e-6:
                    result.problems.append(f"solving {task.id} on {second} changed {other.id} by {gained:+g}")
            if now_sheet.tasks[task.id]["points"] <= previous[task.id] and task.points > 0:
                live = [i for i in task.rubric if not i.after_reboot and not i.judged]
                if live:
                    result.problems.append(f"solving {task.id} on {second} gained nothing on it")
            previous = {t.id: now_sheet.tasks[t.id]["points"] for t in folder.exam.tasks}
            version += 1
        result.steps.append(f"isolation: each task solved alone on {second} gained points only there")
        progress("reset and verify")
        proofs = reset(sitting, everyone)
        dirty = [p.line() for p in proofs if not p.clean]
        if dirty:
            result.problems += [f"reset: {line}" for line in dirty]
        else:
            result.steps.append(f"reset: {len(proofs)} host(s) proved clean")
        return result
    finally:
        if not keep:
            try:
                Lab(lab_name).down()
            except Exception as error:  # noqa: BLE001 - the result matters more than cleanup
                result.problems.append(f"lab down: {error}")
            shutil.rmtree(Sitting(sitting_id, "", "", lab_name).dir, ignore_errors=True)
