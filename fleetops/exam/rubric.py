"""A candidate's rubric: each item's check template rendered with their values and validated as
a check declaration; and the statement lint (every literal a check tests is in the statement).

The lint is what catches the CK-X #44 class of bug: a grader testing a user name, port or path
the candidate was never told. Hidden items must quote (``cites``) the sentence they test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fleetops.checks.base import Check
from fleetops.checks.suite import parse_suite
from fleetops.errors import InputError
from fleetops.exam.definition import ExamFolder, Item, Task
from fleetops.exam.variables import render, render_data

# Check fields that are not facts a candidate must be told: how the grader runs, not what it tests.
NOT_STATED = {
    "kind", "name", "severity", "groups", "hosts", "format", "timeout", "password", "password_env",
    "known_hosts", "warn", "crit", "case_sensitive", "command", "match", "matches", "contains",
    "exec", "pattern", "expect", "exists", "present", "nopasswd", "any", "enabled", "active",
    "exit", "min_count", "max_count", "verify", "ca_file", "tls", "sha256", "address",
}  # fmt: skip
# fields naming a file of the exam folder on the controller (resolved, never sent to a seat)
CONTROLLER_FILES = {"login": "key", "onnx": "golden"}


@dataclass
class RenderedItem:
    """One item of one candidate's rubric, ready for the check engine."""

    task: Task
    item: Item
    role: str
    check: Check | None


def render_item(
    folder: ExamFolder, task: Task, item: Item, values: dict[str, Any], known_hosts: str | None = None
) -> RenderedItem:
    role = folder.exam.item_host(task, item)
    if item.check is None:
        return RenderedItem(task, item, role, None)
    declaration = render_data(item.check, values, f"item {item.id}.check")
    declaration = {**declaration, "name": item.id}
    field = CONTROLLER_FILES.get(str(declaration.get("kind")))
    if field and isinstance(declaration.get(field), str):
        local = (folder.path / declaration[field]).resolve()
        if folder.path not in local.parents or not local.is_file():
            raise InputError(f"item {item.id}: {field} file not found in the exam folder: {declaration[field]}")
        declaration[field] = str(local)
    if declaration.get("kind") == "login" and known_hosts:
        declaration.setdefault("known_hosts", known_hosts)
    try:
        check = parse_suite({"checks": [declaration]}, f"item {item.id}").checks[0]
    except InputError as error:
        raise InputError(str(error).replace("suite item", "item", 1)) from None
    return RenderedItem(task, item, role, check)


def render_rubric(folder: ExamFolder, values: dict[str, Any], known_hosts: str | None = None) -> list[RenderedItem]:
    return [render_item(folder, task, item, values, known_hosts) for task, item in folder.exam.all_items()]


def statement(folder: ExamFolder, task: Task, values: dict[str, Any]) -> str:
    return render(folder.statement_text(task), values, f"task {task.id} statement {task.statement}")


def literals(declaration: dict[str, Any], skip: list[str]) -> list[str]:
    """The values a check tests that a candidate must have been told."""
    found: list[str] = []

    def walk(key: str, value: Any) -> None:
        if key in NOT_STATED or key in skip or isinstance(value, bool) or value is None:
            return
        if isinstance(value, (list, tuple)):
            for part in value:
                walk(key, part)
        elif isinstance(value, dict):
            for sub, part in value.items():
                walk(sub, part)
        elif isinstance(value, (int, float, str)) and str(value):
            found.append(str(value).removesuffix(".0") if isinstance(value, float) else str(value))

    for key, value in declaration.items():
        if CONTROLLER_FILES.get(str(declaration.get("kind"))) == key:
            continue
        walk(key, value)
    return found


def lint(folder: ExamFolder, values: dict[str, Any], who: str) -> list[str]:
    """Problems of one candidate's statements against their rubric (empty when clean)."""
    problems = []
    for task in folder.exam.tasks:
        text = statement(folder, task, values) if task.statement else ""
        for item in task.items():
            if item.hidden:
                if item.cites and item.cites not in text:
                    problems.append(f"{who}: hidden item {item.id} cites a sentence not in task {task.id}'s statement")
                continue
            if item.check is None or item.points < 0:
                continue
            declaration = render_data(item.check, values, f"item {item.id}.check")
            for literal in literals(declaration, item.lint_skip):
                if literal not in text:
                    problems.append(
                        f"{who}: item {item.id} tests {literal!r}, which task {task.id}'s statement never says"
                    )
    return problems
