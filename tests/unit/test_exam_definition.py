"""Exam definitions, rosters, seeded variables and the statement lint: pure, no hosts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from fleetops.cli import app
from fleetops.errors import InputError
from fleetops.exam.definition import load_exam, tree_hash
from fleetops.exam.roster import Candidate, RosterError, assign_seats, parse_roster
from fleetops.exam.validate import validate
from fleetops.exam.variables import Seed, candidate_variables
from fleetops.secrets import Secret

SAMPLE = Path(__file__).parent / "data/exam/sample"


@pytest.fixture
def exam_copy(tmp_path) -> Path:
    target = tmp_path / "sample"
    shutil.copytree(SAMPLE, target)
    return target


def edit(folder: Path, change) -> None:
    data = yaml.safe_load((folder / "exam.yml").read_text())
    change(data)
    (folder / "exam.yml").write_text(yaml.safe_dump(data, allow_unicode=True))


def test_sample_loads_with_points_and_a_stable_hash(exam_copy):
    folder = load_exam(exam_copy)
    assert folder.exam.points == 36 and folder.exam.minutes == 30
    assert folder.sha256 == tree_hash(exam_copy) == load_exam(SAMPLE).sha256
    (exam_copy / "tasks/T1.md").write_text("changed\n")
    assert tree_hash(exam_copy) != folder.sha256


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(total=99), "tasks add up to 36 points, but total says 99"),
        (lambda d: d["tasks"][0]["rubric"][1].update(requires=["T9"]), "requires unknown item T9"),
        (lambda d: d["tasks"][0]["rubric"][2].pop("cites"), "must cite the statement sentence"),
        (lambda d: d["tasks"][0]["rubric"][0].update(points=-1), "needs positive points"),
        (lambda d: d["tasks"][0]["penalties"][0].update(points=2), "needs negative points"),
        (lambda d: d["tasks"][1]["rubric"].append({"id": "T1.1", "points": 1, "judge": {}}), "id T1.1 is used twice"),
        (lambda d: d["tasks"][0].update(host="gateway"), "host gateway is not a seat role"),
        (lambda d: d["tasks"][0].update(statement="../../etc/passwd"), "outside the exam folder"),
        (lambda d: d.update(pass_mark=50), "pass_mark 50 is above the 36 points"),
        (lambda d: d["tasks"][0].update(level="S"), "above the exam's level J"),
    ],
)
def test_bad_definitions_are_one_line_errors(exam_copy, change, message):
    edit(exam_copy, change)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")) as error:
        load_exam(exam_copy)
    assert "\n" not in str(error.value)


def test_an_unknown_check_kind_and_a_broken_variable_fail_validate(exam_copy):
    edit(exam_copy, lambda d: d["tasks"][0]["rubric"][0]["check"].update(kind="porrt"))
    problems = validate(load_exam(exam_copy), None).problems
    assert problems and "unknown kind 'porrt' (did you mean 'port'?)" in problems[0]
    edit(
        exam_copy,
        lambda d: (
            d["tasks"][0]["rubric"][0]["check"].update(kind="port"),
            d["variables"].update(port="{{ seed.nope() }}"),
        ),
    )
    problems = validate(load_exam(exam_copy), None).problems
    assert problems and "variables.port" in problems[0]


def test_statement_lint_finds_a_literal_the_candidate_was_never_told(exam_copy):
    """The CK-X #44 class of bug: the check tests a user the statement never names."""
    assert validate(load_exam(exam_copy), None).problems == []
    (exam_copy / "tasks/T1.md").write_text(
        "Serve http://{{ hosts.server }}:{{ port }}/ on port {{ port }}; keep it running.\n"
    )
    problems = validate(load_exam(exam_copy), None).problems
    assert len(problems) == 2 and all("tests 'dev" in p and "never says" in p for p in problems)
    (exam_copy / "tasks/T1.md").write_text(
        "Serve http://{{ hosts.server }}:{{ port }}/ on {{ port }} for {{ dev_user }}.\n"
    )
    problems = validate(load_exam(exam_copy), None).problems
    assert problems and all("hidden item T1.3 cites a sentence not in" in p for p in problems)


def test_seeded_values_repeat_per_candidate_and_differ_between_them():
    secret = Secret("a-sitting-secret")
    one = [Seed(secret, "C001", "port").int(1, 10**9) for _ in range(2)]
    assert one[0] == one[1]
    values = {
        cid: candidate_variables(
            {"n": "{{ seed.int(1, 1000000) }}", "w": "{{ seed.word() }}-{{ n }}"},
            secret,
            Candidate(cid, "x", 0),
            "c{{ candidate_id | lower }}",
        )
        for cid in ("C001", "C002", "C003")
    }
    assert len({v["n"] for v in values.values()}) == 3
    assert values["C001"]["w"].endswith("-" + values["C001"]["n"]) and values["C002"]["user"] == "cc002"
    other = candidate_variables(
        {"n": "{{ seed.int(1, 1000000) }}"}, Secret("another-secret"), Candidate("C001", "x", 0), "u"
    )
    assert other["n"] != values["C001"]["n"]


def test_variables_cannot_reach_names_or_python_internals():
    secret = Secret("a-sitting-secret")
    with pytest.raises(InputError, match="name"):
        candidate_variables({"v": "{{ name }}"}, secret, Candidate("C1", "王小明", 0), "u")
    with pytest.raises(InputError):
        candidate_variables({"v": "{{ seed.__class__.__mro__ }}"}, secret, Candidate("C1", "x", 0), "u")


def test_roster_reports_every_bad_row_with_its_line():
    text = "\ufeffCandidate_ID,Name,Seat,Level,extra_minutes,x_school\nC001,王小明,s02,j,10,一中\nC001,李华,,,,\nbad!,,s2,Q,999,\n,x,s02,,,\n"
    with pytest.raises(RosterError) as error:
        parse_roster(text, "r.csv")
    message = str(error.value)
    assert message.startswith("roster r.csv: 8 problems, nothing changed")
    for expected in (
        "line 3: candidate_id C001 repeats line 2",
        "line 4: candidate_id 'bad!'",
        "line 4: name is empty",
        "line 4: seat 's2'",
        "line 4: level 'Q'",
        "line 4: extra_minutes '999'",
        "line 5: candidate_id ''",
        "line 5: seat s02 is already given to line 2",
    ):
        assert expected in message, expected


def test_roster_reads_chinese_names_bom_and_carried_columns():
    rows = parse_roster("\ufeffcandidate_id,name,x_school\nC001,王小明,一中\nC002,李华,二中\n", "r.csv")
    assert [r.name for r in rows] == ["王小明", "李华"] and rows[0].extra == {"x_school": "一中"}
    seated = assign_seats([Candidate("A", "a", 2, seat="s01"), Candidate("B", "b", 3), Candidate("C", "c", 4)])
    assert [c.seat for c in seated] == ["s01", "s02", "s03"]
    shuffled = assign_seats([Candidate(f"C{i}", "n", i) for i in range(6)], shuffle_seed=7)
    assert sorted(c.seat for c in shuffled) == [f"s0{i}" for i in range(1, 7)]
    assert shuffled == assign_seats([Candidate(f"C{i}", "n", i) for i in range(6)], shuffle_seed=7)


def test_roster_header_problems():
    with pytest.raises(RosterError, match="line 1: unknown column 'colour'"):
        parse_roster("candidate_id,name,colour\nC1,a,b\n", "r.csv")
    with pytest.raises(RosterError, match="missing column 'name'"):
        parse_roster("candidate_id\nC1\n", "r.csv")


def test_cli_validate_exit_codes(exam_copy, tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["exam", "validate", str(exam_copy)])
    assert result.exit_code == 0, result.stderr
    assert "0 problem(s)" in result.stdout
    roster = tmp_path / "r.csv"
    roster.write_text("candidate_id,name\nC1,王\nC1,李\n", encoding="utf-8")
    result = runner.invoke(app, ["exam", "validate", str(exam_copy), "--roster", str(roster)])
    assert result.exit_code == 2 and "line 3: candidate_id C1 repeats line 2" in result.stderr
    (exam_copy / "tasks/T1.md").write_text("nothing useful\n")
    result = runner.invoke(app, ["exam", "validate", str(exam_copy), "--json"])
    assert result.exit_code == 2
    result = runner.invoke(app, ["exam", "validate", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "exam folder not found" in result.stderr


def test_seat_map_reports_every_bad_line():
    from fleetops.exam.seatmap import parse_seat_map

    exam = load_exam(SAMPLE).exam
    seats = parse_seat_map("seat,role,host\ns01,server,pc1\ns02,server,pc2\n", "seats.csv", exam, {"pc1", "pc2"})
    assert seats == {"s01": {"server": "pc1"}, "s02": {"server": "pc2"}}
    with pytest.raises(InputError) as error:
        parse_seat_map("seat,role,host\ns1,server,pc1\ns02,client,pc1\ns03,server,ghost\n", "seats.csv", exam, {"pc1"})
    message = str(error.value)
    for expected in (
        "line 2: seat 's1'",
        "line 3: role 'client'",
        "line 3: host pc1 already serves line 2",
        "line 4: host 'ghost'",
    ):
        assert expected in message, expected
    with pytest.raises(InputError, match="header must be seat,role,host"):
        parse_seat_map("host,seat\n", "seats.csv", exam, set())


def test_fingerprint_diff_names_every_leftover():
    from fleetops.exam.fingerprint import diff, digest

    before = {
        "packages": {"nginx": "1.22"}, "users": {"root": "0 /bin/bash"}, "groups": {"root": ""},
        "locks": {"root": {"locked": True, "hash": ""}}, "units": ["ssh.service"], "ports": [22], "crontabs": [],
        "files": {"/etc/motd": "aa 0644 0:0", "/etc/issue": "bb 0644 0:0"},
    }  # fmt: skip
    after = json_copy(before)
    assert diff(before, after) == [] and digest(before) == digest(after)
    after["packages"]["nginx"] = "1.24"
    after["packages"]["vsftpd"] = "3.0"
    after["users"]["planted"] = "1001 /bin/sh"
    after["units"].append("vsftpd.service")
    after["ports"].append(21)
    after["files"]["/etc/motd"] = "cc 0644 0:0"
    del after["files"]["/etc/issue"]
    after["files"]["/etc/new"] = "dd 0600 0:0"
    assert diff(before, after) == [
        "+ user planted", "+ package vsftpd", "~ package nginx 1.22 -> 1.24", "+ enabled unit vsftpd.service",
        "+ listening port 21", "+ /etc/new", "- /etc/issue", "~ /etc/motd",
    ]  # fmt: skip


def json_copy(data):
    import json

    return json.loads(json.dumps(data))


def test_fingerprint_retries_a_refused_connection(monkeypatch):
    """Provision reloads sshd just before the fingerprint: a refused connection is retried."""
    from fleetops.exam import fingerprint

    answers = ["unreachable: [Errno None] Unable to connect to port 22", "unreachable: again", (0, '{"files": {}}', "")]
    monkeypatch.setattr(fingerprint, "run_command", lambda target, command, timeout: answers.pop(0))
    monkeypatch.setattr("time.sleep", lambda _s: None)
    assert fingerprint.take(object()) == {"files": {}}
    answers[:] = ["unreachable: down"] * 6
    assert fingerprint.take(object()).startswith("unreachable")
