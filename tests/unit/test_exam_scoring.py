"""Points, the ledger, layer reading and report formats: pure functions on captured data."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest

from fleetops.checks.base import Outcome
from fleetops.checks.result import Status
from fleetops.exam import layers
from fleetops.exam.definition import load_exam
from fleetops.exam.grading import similar_pairs
from fleetops.exam.ledger import Ledger
from fleetops.exam.report import ReportData, csv_text, item_analysis, json_data, junit_bytes
from fleetops.exam.roster import Candidate
from fleetops.exam.scoring import score

SAMPLE = Path(__file__).parent / "data/exam/sample"
OK, CRIT, UNKNOWN = Status.OK, Status.CRITICAL, Status.UNKNOWN


def outcomes(**states) -> dict[str, Outcome]:
    out = {}
    for key, state in states.items():
        status, value = state if isinstance(state, tuple) else (state, None)
        out[key.replace("_", ".")] = Outcome(status, f"{key} said {status.name}", value)
    return out


@pytest.fixture(scope="module")
def exam():
    return load_exam(SAMPLE).exam


def test_full_marks_scaled_and_judged_median(exam):
    sheet = score(
        exam, "C1", "s01", outcomes(T1_1=OK, T1_2=OK, T1_3=OK, T1_4=(OK, 100.0), T1_P1=OK), {"T2.1": [3, 1, 2]}, []
    )
    items = {i.id: i for i in sheet.items}
    assert items["T1.4"].points == 10 and items["T2.1"].points == 4.0  # median 2 of 3 -> 6 * 2/3
    assert sheet.total == 34 and sheet.status == "graded" and sheet.passed


def test_scaled_credit_is_linear_and_clamped(exam):
    for latency, expected in ((100.0, 10), (550.0, 5), (1000.0, 0), (5000.0, 0), (10.0, 10)):
        sheet = score(exam, "C1", "s01", outcomes(T1_1=OK, T1_2=OK, T1_3=OK, T1_4=(OK, latency), T1_P1=OK), {}, [])
        assert next(i for i in sheet.items if i.id == "T1.4").points == expected, latency
    failed = score(exam, "C1", "s01", outcomes(T1_4=(CRIT, 50.0)), {}, [])
    assert next(i for i in failed.items if i.id == "T1.4").points == 0  # a failed check scales to nothing


def test_requires_blocks_and_penalty_applies_when_its_check_fails(exam):
    sheet = score(exam, "C1", "s01", outcomes(T1_1=CRIT, T1_2=OK, T1_3=OK, T1_4=(OK, 100.0), T1_P1=CRIT), {}, [])
    items = {i.id: i for i in sheet.items}
    assert items["T1.2"].state == "blocked" and items["T1.2"].points == 0 and "requires T1.1" in items["T1.2"].message
    assert items["T1.P1"].points == -3
    assert sheet.tasks["T1"]["points"] == 5 + 10 - 3


def test_a_task_never_goes_below_zero(exam):
    sheet = score(exam, "C1", "s01", outcomes(T1_1=CRIT, T1_2=CRIT, T1_3=CRIT, T1_4=(CRIT, 0.0), T1_P1=CRIT), {}, [])
    assert sheet.tasks["T1"]["points"] == 0 and sheet.total == 0


def test_unknown_is_not_graded_never_zero_and_never_a_pass(exam):
    sheet = score(
        exam, "C1", "s01", outcomes(T1_1=UNKNOWN, T1_2=OK, T1_3=OK, T1_4=(OK, 100.0), T1_P1=OK), {"T2.1": [3, 3, 3]}, []
    )
    items = {i.id: i for i in sheet.items}
    assert items["T1.1"].state == "not_graded" and items["T1.2"].state == "pass" or items["T1.2"].state == "blocked"
    assert sheet.status == "partial" and not sheet.passed
    nothing = score(exam, "C1", "s01", {}, {}, [])
    assert nothing.status == "not_graded" and not nothing.passed
    held = score(
        exam,
        "C1",
        "s01",
        outcomes(T1_1=OK, T1_2=OK, T1_3=OK, T1_4=(OK, 100.0), T1_P1=OK),
        {"T2.1": [3, 3, 3]},
        ["tampered: x"],
        held=True,
    )
    assert held.status == "held" and not held.passed and held.total == 36


def test_judged_items_wait_for_every_judge(exam):
    sheet = score(exam, "C1", "s01", outcomes(T1_1=OK), {"T2.1": [3]}, [])
    item = next(i for i in sheet.items if i.id == "T2.1")
    assert item.state == "awaiting_marks" and "1 of 3 marks" in item.message


def test_ledger_chain_and_file_hashes(tmp_path):
    ledger = Ledger(tmp_path / "ledger.jsonl")
    (tmp_path / "v1.json").write_text("{}")
    from fleetops.exam.ledger import file_sha256

    ledger.append("provision", {"seats": 3})
    ledger.append("grade", {"version": 1}, files={"v1.json": file_sha256(tmp_path / "v1.json")})
    ledger.append("stop", {})
    assert ledger.verify(tmp_path) == [] and oct(os.stat(ledger.path).st_mode)[-3:] == "600"
    (tmp_path / "v1.json").write_text('{"total": 100}')
    assert [p.message for p in ledger.verify(tmp_path)] == ["v1.json was changed after it was recorded"]
    (tmp_path / "v1.json").write_text("{}")
    lines = ledger.path.read_text().splitlines()
    entry = json.loads(lines[0])
    entry["args"]["seats"] = 4
    lines[0] = json.dumps(entry, sort_keys=True)
    ledger.path.write_text("\n".join(lines) + "\n")
    problems = ledger.verify(tmp_path)
    assert problems[0].line == 1 and "does not match its hash" in problems[0].message
    ledger.path.write_text("\n".join([lines[1], lines[2]]) + "\n")  # a line deleted
    assert any("out of order" in p.message or "does not chain" in p.message for p in ledger.verify(tmp_path))


def test_layer_changes_accounts_and_tools(tmp_path):
    lower, upper = tmp_path / "lower", tmp_path / "upper"
    for root in (lower, upper):
        (root / "etc").mkdir(parents=True)
    (lower / "etc/passwd").write_text("root:x:0:0::/root:/bin/bash\n")
    (upper / "etc/passwd").write_text("root:x:0:0::/root:/bin/bash\ndev417:x:1001:1001::/home/dev417:/bin/bash\n")
    (lower / "etc/machine-id").write_text("abc\n")
    (upper / "etc/machine-id").write_text("abc\n")
    os.utime(
        upper / "etc/machine-id",
        (os.stat(lower / "etc/machine-id").st_atime, os.stat(lower / "etc/machine-id").st_mtime),
    )
    (upper / "var/log").mkdir(parents=True)
    (upper / "var/log/journal").write_text("volatile\n")
    (upper / "etc/nginx").mkdir()
    (upper / "etc/nginx/site").write_text("server {}\n")
    (lower / "usr/bin").mkdir(parents=True)
    (lower / "usr/bin/systemctl").write_bytes(b"\x7fELF real")
    (upper / "usr/bin").mkdir(parents=True)
    (upper / "usr/bin/systemctl").write_text("#!/bin/sh\necho active\n")
    found = [str(c) for c in layers.changes(upper, [lower])]
    assert found == ["+ /etc/nginx/site", "~ /etc/passwd", "~ /usr/bin/systemctl"]
    assert layers.account_changes(upper, [lower]) == ["+ user dev417"]
    assert layers.tampered_tools(upper, [lower]) == ["/usr/bin/systemctl"]
    # an upgrade dpkg recorded is not tampering
    import hashlib

    (upper / "var/lib/dpkg/info").mkdir(parents=True)
    digest = hashlib.md5((upper / "usr/bin/systemctl").read_bytes()).hexdigest()  # noqa: S324
    (upper / "var/lib/dpkg/info/systemd.md5sums").write_text(f"{digest}  usr/bin/systemctl\n")
    assert layers.tampered_tools(upper, [lower]) == []


def test_similarity_pairs_share_a_salted_hash():
    pairs = similar_pairs({"s01": {"$6$a$x"}, "s02": {"$6$b$y"}, "s03": {"$6$a$x"}})
    assert pairs == [("s01", "s03")]


def report_data(reveal: bool = False) -> ReportData:
    folder = load_exam(SAMPLE)
    full = score(
        folder.exam,
        "C1",
        "s01",
        outcomes(T1_1=OK, T1_2=OK, T1_3=OK, T1_4=(OK, 100.0), T1_P1=OK),
        {"T2.1": [3, 3, 3]},
        [],
    )
    none = score(
        folder.exam,
        "C2",
        "s02",
        outcomes(T1_1=CRIT, T1_2=OK, T1_3=CRIT, T1_4=(CRIT, 0.0), T1_P1=OK),
        {"T2.1": [0, 0, 0]},
        ["similar to s01"],
    )
    candidates = {
        "C1": Candidate("C1", "王小明", 2, seat="s01", extra={"x_class": "A"}),
        "C2": Candidate("C2", "李华", 3, seat="s02"),
    }
    return ReportData(folder, "sit", 1, "2026-12-01T10:00:00+00:00", "", "f" * 64, [full, none], candidates, reveal)


def test_csv_has_per_item_columns_and_carried_ones():
    rows = list(csv.DictReader(io.StringIO(csv_text(report_data()))))
    assert rows[0]["name"] == "王小明" and rows[0]["total"] == "36" and rows[0]["pass"] == "yes"
    assert rows[1]["T1.1"] == "0" and rows[1]["flags"] == "similar to s01" and rows[0]["x_class"] == "A"
    assert list(rows[0])[:10] == [
        "candidate_id",
        "name",
        "seat",
        "level",
        "org",
        "status",
        "total",
        "max",
        "percent",
        "pass",
    ]


def test_hidden_items_are_redacted_unless_revealed():
    hidden = next(i for i in json_data(report_data())["candidates"][1]["items"] if i["id"] == "T1.3")
    assert hidden["message"] == "hidden item (its check is not shown)"
    revealed = next(i for i in json_data(report_data(True))["candidates"][1]["items"] if i["id"] == "T1.3")
    assert "T1_3 said CRITICAL" in revealed["message"]
    assert b"T1_3 said" not in junit_bytes(report_data())


def test_item_analysis_flags_items_everyone_or_no_one_passed():
    data = report_data()
    rows = {r["item"]: r for r in item_analysis(data)}
    assert rows["T1.1"]["passed"] == 1 and rows["T1.1"]["flag"] == "" and rows["T1.P1"]["flag"] == ""
    assert rows["T1.4"]["flag"] == ""
    data.sheets = [data.sheets[0], data.sheets[0]]
    rows = {r["item"]: r for r in item_analysis(data)}
    assert rows["T1.1"]["flag"] == "everyone passed"
    data.sheets = report_data().sheets[1:] * 2
    rows = {r["item"]: r for r in item_analysis(data)}
    assert rows["T1.1"]["flag"] == "no one passed"


def test_junit_parses(tmp_path):
    from junitparser import JUnitXml

    path = tmp_path / "r.xml"
    path.write_bytes(junit_bytes(report_data()))
    suites = list(JUnitXml.fromfile(str(path)))
    assert [s.tests for s in suites] == [6, 6] and suites[1].failures >= 2
