"""``exam regrade --task T --reason``: a new grading version for the whole cohort, that task
measured again from the live seats with the exam as it is now; the old version is kept and the
per-candidate difference is returned for printing. ``exam mark``: judges' marks, each a ledger
entry."""

from __future__ import annotations

from dataclasses import dataclass

from fleetops.errors import InputError
from fleetops.exam.definition import ExamFolder, load_exam
from fleetops.exam.grading import grade, load_version, sheets, versions
from fleetops.exam.sitting import Sitting, now
from pathlib import Path


@dataclass
class Difference:
    candidate_id: str
    seat: str
    before: float
    after: float
    items: list[str]  # "T2.1 0 -> 4"


def regrade(sitting: Sitting, task_id: str, reason: str) -> tuple[int, list[Difference]]:
    if not reason.strip():
        raise InputError("regrade needs --reason (it goes to the ledger and the report)")
    folder = load_exam(Path(sitting.exam_path))  # the exam as it is now: that is the point
    if task_id not in {t.id for t in folder.exam.tasks}:
        raise InputError(f"exam {folder.exam.id}: no task {task_id}")
    known = versions(sitting)
    if not known:
        raise InputError("nothing graded yet: run 'fleetops exam grade' first")
    old = load_version(sitting, known[-1])
    assert old is not None
    before = {s.seat: s for s in sheets(sitting, folder, old)}
    new_version = known[-1] + 1
    data = {
        **old,
        "version": new_version,
        "exam_sha256": folder.sha256,
        "created": now().isoformat(timespec="seconds"),
        "reason": reason,
        "regraded_task": task_id,
        "previous": known[-1],
    }
    task = next(t for t in folder.exam.tasks if t.id == task_id)
    ids = {item.id for item in task.items()}
    for seat in data["seats"].values():
        seat["outcomes"] = {k: v for k, v in seat["outcomes"].items() if k not in ids}
    sitting.write_json(f"grades/v{new_version}.json", data)
    old_sha = sitting.exam_sha256
    sitting.exam_sha256 = folder.sha256
    sitting.save()
    sitting.ledger.append(
        "regrade",
        {"task": task_id, "reason": reason, "version": new_version, "exam_sha256": folder.sha256, "was": old_sha},
    )
    seats = sitting.selected()
    phases = {"reboot" if i.after_reboot else "live" for i in task.items()}
    for phase in sorted(phases):
        grade(sitting, folder, seats, phase=phase, tasks={task_id}, version=new_version, remeasure=True)
    new = load_version(sitting, new_version)
    assert new is not None
    after = {s.seat: s for s in sheets(sitting, folder, new)}
    diffs = []
    for seat_id, sheet in sorted(after.items()):
        old_sheet = before.get(seat_id)
        old_items = {i.id: i.points for i in old_sheet.items} if old_sheet else {}
        changed = [
            f"{i.id} {old_items.get(i.id, 0):g} -> {i.points:g}"
            for i in sheet.items
            if old_items.get(i.id, 0) != i.points
        ]
        diffs.append(Difference(sheet.candidate_id, seat_id, old_sheet.total if old_sheet else 0, sheet.total, changed))
    return new_version, diffs


def mark(
    sitting: Sitting, folder: ExamFolder, candidate_id: str, item_id: str, score: float, judge: str, reason: str
) -> dict:
    _task, item = folder.exam.find_item(item_id)
    if item.judge is None:
        raise InputError(f"item {item_id} is not a judged item")
    if not 0 <= score <= item.judge.top:
        raise InputError(f"item {item_id}: score {score:g} is outside {item.judge.scale}")
    if candidate_id not in sitting.candidates():
        raise InputError(f"sitting {sitting.id}: no candidate {candidate_id}")
    if not judge or not judge.replace("-", "").replace("_", "").isalnum():
        raise InputError(f"judge {judge!r}: use letters, digits, '-' and '_'")
    marks = sitting.read_json("marks.json") if (sitting.dir / "marks.json").exists() else {}
    entry = {"score": score, "reason": reason, "at": now().isoformat(timespec="seconds")}
    marks.setdefault(candidate_id, {}).setdefault(item_id, {})[judge] = entry
    sha = sitting.write_json("marks.json", marks)
    sitting.ledger.append(
        "mark",
        {"candidate": candidate_id, "item": item_id, "judge": judge, "score": score, "reason": reason},
        files={"marks.json": sha},
    )
    return marks[candidate_id][item_id]
