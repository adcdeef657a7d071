"""Points from outcomes: all-or-nothing, scaled and judged items, ``requires``, penalties.

Pure: it takes each item's outcome (or judges' marks) and returns the candidate's score sheet.
The rules that keep grading fair live here and are unit-tested:

+ an item whose check could not be measured (host down, probe error: UNKNOWN) is ``not graded``,
  never 0 and never a pass; the candidate's status is then ``partial`` (retry ``exam grade``)
+ an item whose ``requires`` did not pass scores 0 with the reason (``blocked``)
+ a penalty applies when its check *fails* (it states what must stay true)
+ a task never goes below 0; judged items are the median of their marks, scaled to points
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from fleetops.checks.base import Outcome
from fleetops.checks.result import Status
from fleetops.exam.definition import Exam, Item

PASS, FAIL, NOT_GRADED, BLOCKED, AWAITING = "pass", "fail", "not_graded", "blocked", "awaiting_marks"
PENDING = "pending"  # its phase (e.g. after_reboot) has not been graded yet


@dataclass
class ItemScore:
    id: str
    task: str
    state: str
    points: float
    max: float
    message: str = ""
    hidden: bool = False
    penalty: bool = False
    value: Any = None

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}


@dataclass
class Sheet:
    """One candidate's result."""

    candidate_id: str
    seat: str
    status: str  # graded | partial | not_graded | held
    total: float
    max: float
    pass_mark: float
    items: list[ItemScore] = field(default_factory=list)
    tasks: dict[str, dict] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.status == "graded" and self.total >= self.pass_mark

    def to_dict(self) -> dict:
        return {
            "candidate_id": self.candidate_id,
            "seat": self.seat,
            "status": self.status,
            "total": self.total,
            "max": self.max,
            "percent": round(100 * self.total / self.max, 1) if self.max else 0.0,
            "pass_mark": self.pass_mark,
            "passed": self.passed,
            "flags": list(self.flags),
            "tasks": self.tasks,
            "items": [item.to_dict() for item in self.items],
        }


def item_points(item: Item, outcome: Outcome) -> tuple[str, float]:
    """State and points of a measured item from its check's outcome."""
    if outcome.status == Status.UNKNOWN:
        return NOT_GRADED, 0.0
    ok = outcome.status == Status.OK
    if item.points < 0:  # a penalty
        return (PASS, 0.0) if ok else (FAIL, item.points)
    if item.scale is not None:
        if not ok or not isinstance(outcome.value, (int, float)) or isinstance(outcome.value, bool):
            return FAIL, 0.0
        share = item.scale.fraction(float(outcome.value))
        return (PASS if share > 0 else FAIL), round(item.points * share, 2)
    return (PASS, item.points) if ok else (FAIL, 0.0)


def judged_points(item: Item, marks: list[float]) -> tuple[str, float, str]:
    assert item.judge is not None
    if len(marks) < item.judge.judges:
        return AWAITING, 0.0, f"{len(marks)} of {item.judge.judges} marks entered"
    median = statistics.median(marks)
    points = round(item.points * median / item.judge.top, 2)
    return PASS if points > 0 else FAIL, points, f"marks {', '.join(f'{m:g}' for m in marks)} -> median {median:g}"


def score(
    exam: Exam,
    candidate_id: str,
    seat: str,
    outcomes: dict[str, Outcome],
    marks: dict[str, list[float]],
    flags: list[str],
    held: bool = False,
) -> Sheet:
    """The sheet of one candidate. ``outcomes`` maps item id -> outcome of its check (missing:
    not graded); ``marks`` maps judged item id -> the judges' marks."""
    states: dict[str, str] = {}
    scores: list[ItemScore] = []
    order = _dependency_order(exam)
    by_id = {item.id: (task, item) for task, item in exam.all_items()}
    for item_id in order:
        task, item = by_id[item_id]
        maximum = max(item.points, 0.0)
        if item.judge is not None:
            state, points, message = judged_points(item, marks.get(item.id, []))
        elif item.id not in outcomes:
            state, points, message = (
                PENDING,
                0.0,
                "not measured yet" + (" (grade --reboot)" if item.after_reboot else ""),
            )
        else:
            outcome = outcomes[item.id]
            state, points = item_points(item, outcome)
            message = outcome.message if state != NOT_GRADED else f"not graded: {outcome.message}"
        unmet = [r for r in item.requires if states.get(r) != PASS]
        if unmet and state in (PASS, FAIL):
            if item.points > 0:
                state, points, message = BLOCKED, 0.0, f"requires {', '.join(unmet)}"
        states[item.id] = state
        scores.append(
            ItemScore(
                item.id, task.id, state, points, maximum, message, item.hidden, item.points < 0, _value(outcomes, item)
            )
        )
    tasks: dict[str, dict] = {}
    sheet_items = sorted(scores, key=lambda s: [i.id for _t, i in exam.all_items()].index(s.id))
    for task in exam.tasks:
        own = [s for s in sheet_items if s.task == task.id]
        raw = sum(s.points for s in own)
        tasks[task.id] = {"title": task.title, "points": round(max(0.0, raw), 2), "max": task.points}
    total = round(sum(t["points"] for t in tasks.values()), 2)
    measured = [s for s in sheet_items if not exam.find_item(s.id)[1].judged]
    if measured and all(s.state in (NOT_GRADED, PENDING) for s in measured):
        status = "not_graded"
    elif any(s.state in (NOT_GRADED, AWAITING, PENDING) for s in sheet_items):
        status = "partial"
    else:
        status = "held" if held else "graded"
    return Sheet(candidate_id, seat, status, total, exam.points, exam.pass_mark, sheet_items, tasks, list(flags))


def _value(outcomes: dict[str, Outcome], item: Item) -> Any:
    outcome = outcomes.get(item.id)
    value = outcome.value if outcome else None
    return value if isinstance(value, (int, float, str, bool)) or value is None else str(value)


def _dependency_order(exam: Exam) -> list[str]:
    """Item ids with every ``requires`` before the item (ValueError on a cycle)."""
    requires = {item.id: list(item.requires) for _t, item in exam.all_items()}
    done: list[str] = []
    visiting: set[str] = set()

    def visit(node: str) -> None:
        if node in done:
            return
        if node in visiting:
            raise ValueError(f"requires cycle through {node}")
        visiting.add(node)
        for dependency in requires[node]:
            visit(dependency)
        visiting.discard(node)
        done.append(node)

    for node in requires:
        visit(node)
    return done
