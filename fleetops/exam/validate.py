"""``exam validate``: everything that can be wrong with an exam and a roster, found without
connecting to anything: schema, points, files, variables rendering for every candidate, every
rubric check valid once rendered, the statement lint, and deploy files that compile."""

from __future__ import annotations

import ast
import secrets as random_secrets
from dataclasses import dataclass, field

from fleetops.errors import InputError
from fleetops.exam.definition import ExamFolder
from fleetops.exam.roster import Candidate
from fleetops.exam.rubric import lint, render_rubric, statement
from fleetops.exam.seats import placeholder_addresses, template_context
from fleetops.exam.variables import candidate_variables
from fleetops.secrets import Secret

SAMPLE = (Candidate("SAMPLE-0001", "sample one", 0, seat="s01"), Candidate("SAMPLE-0002", "sample two", 0, seat="s02"))


@dataclass
class Validation:
    problems: list[str] = field(default_factory=list)
    candidates: int = 0
    items: int = 0
    notes: list[str] = field(default_factory=list)


def validate(folder: ExamFolder, candidates: list[Candidate] | None) -> Validation:
    exam = folder.exam
    result = Validation(items=len(exam.all_items()))
    for relative in [exam.baseline.deploy] + [p for t in exam.tasks for p in (t.setup, t.solve)]:
        if relative is None:
            continue
        try:
            ast.parse((folder.path / relative).read_text(encoding="utf-8"), relative)
        except SyntaxError as error:
            result.problems.append(f"{relative} line {error.lineno}: {error.msg}")
    for task in exam.tasks:
        if task.solve is None and any(not item.judged for item in task.rubric):
            result.notes.append(f"task {task.id} has no solve deploy: selftest cannot give it full marks")
    secret = Secret(random_secrets.token_hex(16))
    rows = list(candidates or SAMPLE)
    result.candidates = len(rows)
    seen: dict[str, str] = {}
    for candidate in rows:
        who = f"candidate {candidate.candidate_id}" + (f" (line {candidate.line})" if candidate.line else "")
        if candidate.level and candidate.level != exam.level:
            result.problems.append(f"{who}: level {candidate.level}, but this exam is level {exam.level}")
        try:
            values = candidate_variables(
                exam.variables, secret, candidate, exam.accounts.candidate.user, folder.constants()
            )
            context = template_context(values, placeholder_addresses(exam))
            render_rubric(folder, context)
            for task in exam.tasks:
                if task.statement:
                    statement(folder, task, context)
        except InputError as error:
            result.problems.append(f"{who}: {error}")
            continue
        result.problems.extend(lint(folder, context, who))
        key = repr(sorted((k, v) for k, v in values.items() if k != "user"))
        if exam.variables and key in seen:
            result.notes.append(f"{who} draws the same values as {seen[key]} (widen the variables' ranges)")
        seen.setdefault(key, who)
    return result
