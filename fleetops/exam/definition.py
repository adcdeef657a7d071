"""The exam definition: ``exams/<id>/exam.yml`` with its statements and setup/solve deploys.

Validated completely when loaded (structure, ids, points, files), before anything connects.
Rubric checks are *templates*: they are rendered per candidate (their variables) and validated as
check declarations then (see :mod:`fleetops.exam.rubric`). The exam's hash is a Merkle hash over
every file of the folder, pinned at provision so every candidate is graded by the same exam.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from fleetops.errors import InputError
from fleetops.fileutil import sha256_file
from fleetops.validation import describe_validation_error, read_yaml

ItemId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,31}$")]
RoleName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]{0,11}$")]
ExamId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,47}$")]
DURATION = re.compile(r"^(\d+)(m|h)$")
Level = Literal["J", "M", "S"]
LEVEL_ORDER = {"J": 0, "M": 1, "S": 2}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Scale(Strict):
    """Linear partial credit on the check's measured value: full points at ``value_full``,
    none at ``value_zero`` (either order, so 'lower is better' works)."""

    value_full: float
    value_zero: float

    @model_validator(mode="after")
    def _distinct(self) -> "Scale":
        if self.value_full == self.value_zero:
            raise ValueError("scale: value_full and value_zero must differ")
        return self

    def fraction(self, value: float) -> float:
        share = (value - self.value_zero) / (self.value_full - self.value_zero)
        return max(0.0, min(1.0, share))


class Judge(Strict):
    """Entered by judges with ``exam mark``: a score on ``0-N``, the median of ``judges`` marks."""

    scale: Annotated[str, StringConstraints(pattern=r"^0-[1-9]$")] = "0-3"
    judges: int = Field(1, ge=1, le=9)

    @property
    def top(self) -> int:
        return int(self.scale.split("-")[1])


class Item(Strict):
    """One rubric item (or penalty): a check, a scaled check or a judged mark."""

    id: ItemId
    points: float
    check: dict[str, Any] | None = None
    scale: Scale | None = None
    judge: Judge | None = None
    requires: list[ItemId] = Field(default_factory=list)
    hidden: bool = False
    cites: str | None = Field(None, description="hidden items: the statement sentence they test")
    after_reboot: bool = False
    host: RoleName | None = None
    feedback: str = ""
    description: str = ""
    lint_skip: list[str] = Field(default_factory=list, description="check fields the statement need not quote")

    @model_validator(mode="after")
    def _kind(self) -> "Item":
        if (self.check is None) == (self.judge is None):
            raise ValueError(f"item {self.id}: give exactly one of check or judge")
        if self.scale is not None and self.check is None:
            raise ValueError(f"item {self.id}: scale needs a check")
        if self.check is not None and not isinstance(self.check.get("kind"), str):
            raise ValueError(f"item {self.id}: check needs a kind")
        if self.judge is not None and (self.after_reboot or self.hidden):
            raise ValueError(f"item {self.id}: a judged item cannot be hidden or after_reboot")
        if self.hidden and not self.cites:
            raise ValueError(f"item {self.id}: a hidden item must cite the statement sentence it tests (cites:)")
        return self

    @property
    def judged(self) -> bool:
        return self.judge is not None


class Task(Strict):
    id: ItemId
    title: str = Field(min_length=1)
    item: list[str] = Field(default_factory=list, description="items of the standard, e.g. A-J1.2")
    level: Level | None = None
    host: RoleName | None = None
    statement: str | None = None
    setup: str | None = None
    solve: str | None = None
    rubric: list[Item] = Field(min_length=1)
    penalties: list[Item] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _items(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("item"), str):
            data = {**data, "item": [data["item"]]}
        return data

    @model_validator(mode="after")
    def _points(self) -> "Task":
        for item in self.rubric:
            if item.points <= 0:
                raise ValueError(f"task {self.id}: rubric item {item.id} needs positive points")
        for item in self.penalties:
            if item.points >= 0 or item.judged or item.scale:
                raise ValueError(f"task {self.id}: penalty {item.id} needs negative points and a plain check")
        return self

    @property
    def points(self) -> float:
        return sum(item.points for item in self.rubric)

    def items(self) -> list[Item]:
        return [*self.rubric, *self.penalties]


class SeatRole(Strict):
    groups: list[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,30}$")]] = Field(default_factory=list)


class Seat(Strict):
    roles: dict[RoleName, SeatRole] = Field(min_length=1)


class Baseline(Strict):
    deploy: str | None = None
    suite: str | None = None
    reset: str | None = Field(None, description="seats on real hosts: a deploy that puts a seat back")


class CandidateAccount(Strict):
    user: str = Field("c{{ candidate_id | lower }}", min_length=1)
    sudo: bool = True
    shell: str = "/bin/bash"


class Accounts(Strict):
    candidate: CandidateAccount = CandidateAccount()


class Exam(Strict):
    id: ExamId
    title: str = Field(min_length=1)
    standard: Literal["A", "E"]
    level: Level
    duration: str = Field(pattern=DURATION.pattern)
    pass_mark: float = Field(ge=0)
    total: float | None = None
    reboot_settle: int = Field(
        10, ge=0, le=600, description="seconds after a seat is back from a reboot before grading"
    )
    seat: Seat
    baseline: Baseline = Baseline()
    accounts: Accounts = Accounts()
    variables: dict[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")], str] = Field(
        default_factory=dict
    )
    files: dict[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")], str] = Field(
        default_factory=dict, description="name -> file in the exam folder whose text statements may quote"
    )
    digests: dict[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")], str] = Field(
        default_factory=dict, description="name -> file in the exam folder whose sha256 checks may test"
    )
    tasks: list[Task] = Field(min_length=1)
    languages: list[str] = Field(default_factory=lambda: ["en"])

    @model_validator(mode="after")
    def _consistent(self) -> "Exam":
        seen: set[str] = set()
        roles = set(self.seat.roles)
        for task in self.tasks:
            for ident in (task.id, *(item.id for item in task.items())):
                if ident in seen:
                    raise ValueError(f"id {ident} is used twice")
                seen.add(ident)
        for task in self.tasks:
            ids = {item.id for item in task.items()}
            for item in task.items():
                unknown = [r for r in item.requires if r not in seen]
                if unknown:
                    raise ValueError(f"item {item.id}: requires unknown item {unknown[0]}")
                if item.id in item.requires:
                    raise ValueError(f"item {item.id}: requires itself")
                host = item.host or task.host
                if item.check is not None and host is None and len(roles) > 1:
                    raise ValueError(f"item {item.id}: say which host (the seat has roles {', '.join(sorted(roles))})")
                if host is not None and host not in roles:
                    raise ValueError(f"item {item.id}: host {host} is not a seat role ({', '.join(sorted(roles))})")
            del ids
            if task.level and LEVEL_ORDER[task.level] > LEVEL_ORDER[self.level]:
                raise ValueError(f"task {task.id}: level {task.level} is above the exam's level {self.level}")
        if self.total is not None and abs(self.total - self.points) > 1e-9:
            raise ValueError(f"tasks add up to {self.points:g} points, but total says {self.total:g}")
        if self.pass_mark > self.points:
            raise ValueError(f"pass_mark {self.pass_mark:g} is above the {self.points:g} points there are")
        return self

    @property
    def points(self) -> float:
        return sum(task.points for task in self.tasks)

    @property
    def minutes(self) -> int:
        match = DURATION.match(self.duration)
        assert match
        return int(match[1]) * (60 if match[2] == "h" else 1)

    def item_host(self, task: Task, item: Item) -> str:
        """The seat role an item is checked on."""
        return item.host or task.host or next(iter(self.seat.roles))

    def all_items(self) -> list[tuple[Task, Item]]:
        return [(task, item) for task in self.tasks for item in task.items()]

    def find_item(self, item_id: str) -> tuple[Task, Item]:
        for task, item in self.all_items():
            if item.id == item_id:
                return task, item
        raise InputError(f"exam {self.id}: no item {item_id}")


class ExamFolder:
    """An exam on disk: its definition, its folder and its Merkle hash."""

    def __init__(self, path: Path, exam: Exam, sha256: str) -> None:
        self.path = path
        self.exam = exam
        self.sha256 = sha256

    def file(self, relative: str | None) -> Path | None:
        return None if relative is None else self.path / relative

    def constants(self) -> dict[str, str]:
        """The ``files:`` of the exam as text (e.g. a public key the statement hands out) and
        the sha256 of its ``digests:`` (e.g. a model file a check pins)."""
        texts = {name: (self.path / rel).read_text(encoding="utf-8").strip() for name, rel in self.exam.files.items()}
        digests = {name: sha256_file(self.path / rel) for name, rel in self.exam.digests.items()}
        return {**texts, **digests}

    def statement_text(self, task: Task) -> str:
        if task.statement is None:
            return ""
        return (self.path / task.statement).read_text(encoding="utf-8")


def tree_hash(root: Path) -> str:
    """A Merkle hash of a folder: sha256 over the sorted (relative path, file sha256) pairs."""
    lines = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest = sha256_file(path)
        lines.append(f"{path.relative_to(root).as_posix()}\0{digest}\n")
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def load_exam(path: Path) -> ExamFolder:
    """Read and validate ``path/exam.yml`` and the files it names; one-line InputError otherwise."""
    if not path.is_dir():
        raise InputError(f"exam folder not found: {path}")
    source = path / "exam.yml"
    data = read_yaml(source, str(source), missing=f"{path}: no exam.yml")
    if not isinstance(data, dict):
        raise InputError(f"{source}: expected a mapping")
    try:
        exam = Exam.model_validate(data)
    except ValidationError as error:
        raise InputError(f"{source}: {describe_validation_error(error)}") from None
    for task in exam.tasks:
        for field in ("statement", "setup", "solve"):
            relative = getattr(task, field)
            if relative is None:
                continue
            target = (path / relative).resolve()
            if path.resolve() not in target.parents:
                raise InputError(f"{source}: task {task.id}: {field} {relative} is outside the exam folder")
            if not target.is_file():
                raise InputError(f"{source}: task {task.id}: {field} file not found: {relative}")
    for name, relative in {**exam.files, **exam.digests}.items():
        target = (path / relative).resolve()
        if path.resolve() not in target.parents or not target.is_file():
            raise InputError(f"{source}: files.{name}: {relative} is not a file in the exam folder")
        if name in exam.variables:
            raise InputError(f"{source}: files.{name}: also a variable")
    for field in ("deploy", "reset"):
        relative = getattr(exam.baseline, field)
        if relative and not (path / relative).is_file():
            raise InputError(f"{source}: baseline {field} deploy not found: {relative}")
    return ExamFolder(path.resolve(), exam, tree_hash(path))
