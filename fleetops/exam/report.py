"""Exam reports from a grading version: the terminal sheet, CSV (one column per task and item,
for the school's system), JSON, JUnit (a suite per candidate, a case per item) and a
self-contained HTML page (class matrix, item analysis, one sheet per candidate).

Hidden items show only their points unless ``reveal_hidden``: their checks and messages never
reach a candidate's feedback. Items everyone or no one passed are flagged in the item analysis:
usually the rubric is wrong, not the cohort.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from fleetops.exam.definition import ExamFolder
from fleetops.exam.roster import Candidate
from fleetops.exam.scoring import BLOCKED, NOT_GRADED, PASS, Sheet
from fleetops.fileutil import atomic_write_bytes, atomic_write_text
from fleetops.render import render

HIDDEN_MESSAGE = "hidden item (its check is not shown)"


@dataclass
class ReportData:
    folder: ExamFolder
    sitting_id: str
    version: int
    graded_at: str
    reason: str
    ledger_head: str
    sheets: list[Sheet]
    candidates: dict[str, Candidate]
    reveal_hidden: bool = False

    def message(self, item) -> str:
        if item.hidden and not self.reveal_hidden:
            return HIDDEN_MESSAGE if item.state != NOT_GRADED else "not graded"
        return item.message

    def item_ids(self) -> list[str]:
        return [item.id for _task, item in self.folder.exam.all_items()]


def item_analysis(data: ReportData) -> list[dict]:
    """Per item: how many were graded, how many passed, the mean points, and a flag when
    everyone or no one passed."""
    rows = []
    for task, item in data.folder.exam.all_items():
        scores = [i for sheet in data.sheets for i in sheet.items if i.id == item.id and i.state != NOT_GRADED]
        passed = sum(1 for i in scores if i.state == PASS and (i.points > 0 or i.penalty))
        mean = sum(i.points for i in scores) / len(scores) if scores else 0.0
        flag = ""
        if item.points < 0:
            pass  # a penalty nobody incurred is the normal case
        elif len(scores) >= 2 and passed == len(scores):
            flag = "everyone passed"
        elif len(scores) >= 2 and passed == 0:
            flag = "no one passed"
        rows.append(
            {
                "task": task.id,
                "item": item.id,
                "points": item.points,
                "graded": len(scores),
                "passed": passed,
                "mean": round(mean, 2),
                "flag": flag,
                "hidden": item.hidden,
            }
        )
    return rows


def csv_text(data: ReportData) -> str:
    exam = data.folder.exam
    extra = sorted({k for c in data.candidates.values() for k in c.extra})
    header = ["candidate_id", "name", "seat", "level", "org", "status", "total", "max", "percent", "pass"]
    header += [t.id for t in exam.tasks] + data.item_ids()
    header += ["graded_at", "grading_version", "exam_sha256", "flags", *extra]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for sheet in data.sheets:
        candidate = data.candidates[sheet.candidate_id]
        row = sheet.to_dict()
        items = {i.id: i for i in sheet.items}
        writer.writerow(
            [
                sheet.candidate_id,
                candidate.name,
                sheet.seat,
                candidate.level or exam.level,
                candidate.org,
                sheet.status,
                f"{sheet.total:g}",
                f"{sheet.max:g}",
                row["percent"],
                "yes" if sheet.passed else "no",
            ]
            + [f"{sheet.tasks[t.id]['points']:g}" for t in exam.tasks]
            + [("" if items[i].state == NOT_GRADED else f"{items[i].points:g}") for i in data.item_ids()]
            + [data.graded_at, data.version, data.folder.sha256, "; ".join(sheet.flags)]
            + [candidate.extra.get(k, "") for k in extra]
        )
    return out.getvalue()


def json_data(data: ReportData) -> dict:
    sheets = []
    for sheet in data.sheets:
        entry = sheet.to_dict()
        entry["name"] = data.candidates[sheet.candidate_id].name
        for item in entry["items"]:
            if item["hidden"] and not data.reveal_hidden:
                item["message"] = HIDDEN_MESSAGE if item["state"] != NOT_GRADED else "not graded"
                item["value"] = None
        sheets.append(entry)
    return {
        "format": "fleetops.exam-report/v1",
        "exam": data.folder.exam.id,
        "exam_sha256": data.folder.sha256,
        "sitting": data.sitting_id,
        "grading_version": data.version,
        "graded_at": data.graded_at,
        "reason": data.reason,
        "ledger_head": data.ledger_head,
        "candidates": sheets,
        "item_analysis": item_analysis(data),
    }


def junit_bytes(data: ReportData) -> bytes:
    root = ET.Element("testsuites", name=f"exam {data.folder.exam.id}")
    for sheet in data.sheets:
        suite = ET.SubElement(
            root,
            "testsuite",
            name=f"{sheet.candidate_id} ({sheet.seat})",
            tests=str(len(sheet.items)),
            failures=str(sum(1 for i in sheet.items if i.state not in (PASS, NOT_GRADED, "awaiting_marks"))),
            skipped=str(sum(1 for i in sheet.items if i.state in (NOT_GRADED, "awaiting_marks"))),
        )
        for item in sheet.items:
            case = ET.SubElement(suite, "testcase", classname=f"{data.folder.exam.id}.{item.task}", name=item.id)
            text = data.message(item)
            if item.state in (NOT_GRADED, "awaiting_marks"):
                ET.SubElement(case, "skipped", message=text)
            elif item.state != PASS:
                ET.SubElement(case, "failure", message=f"{item.points:g}/{item.max:g} {text}")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def html_text(data: ReportData) -> str:
    return render(
        "reports/exam-report.html.j2",
        data=data,
        exam=data.folder.exam,
        analysis=item_analysis(data),
        NOT_GRADED=NOT_GRADED,
        BLOCKED=BLOCKED,
        PASS=PASS,
    )


def write(
    data: ReportData, html: Path | None, csv_path: Path | None, json_path: Path | None, junit: Path | None
) -> None:
    """Reports hold names and grades: written 0600 like every sitting file."""
    if csv_path:
        atomic_write_text(csv_path, csv_text(data))
    if json_path:
        atomic_write_text(json_path, json.dumps(json_data(data), indent=2, ensure_ascii=False))
    if junit:
        atomic_write_bytes(junit, junit_bytes(data))
    if html:
        atomic_write_text(html, html_text(data))
