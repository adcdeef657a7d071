"""The exam engine end to end on real user-namespaced lab seats (issue 12's 'done when').

One sitting of the bundled a-j-services exam with three scripted candidates on three seats:
s01 solves everything, s02 solves two tasks, s03 sabotages (copies s01's shadow, replaces
systemctl, removes the examiner key, edits a file after the window, applies s01's values).
The tests run in order on that one sitting, like an exam day does.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import time
from pathlib import Path

import paramiko
import pytest
from click.testing import CliRunner

from fleetops.cli import app
from fleetops.exam.sitting import exams_dir, load_sitting
from fleetops.lab.fleet import Lab
from tests.e2e.helpers import run_ok

pytestmark = pytest.mark.lab

REPO = Path(__file__).parents[2]
EXAM = REPO / "exams/a-j-services"
SITTING, LAB = "e2e-aj", "foexam"
ROSTER = """candidate_id,name,org,x_class
C20261205001,王小明,school-1,A
C20261205002,李华,school-1,A
C20261205003,Zhang Wei,school-2,B
"""


def exam(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["exam", *args])
    return result.exit_code, result.stdout, result.stderr


def exam_json(*args: str) -> tuple[int, dict]:
    code, out, err = exam(*args, "--json", "--sitting", SITTING)
    assert out.strip(), err
    return code, json.loads(out)


def login(address: str, user: str, password: str) -> bool:
    client = paramiko.SSHClient()
    client.load_host_keys(str(Lab(LAB).known_hosts))
    try:
        client.connect(address, username=user, password=password, allow_agent=False, look_for_keys=False, timeout=10)
        _in, out, _err = client.exec_command("id -un", timeout=10)
        return out.read().decode().strip() == user
    except (paramiko.AuthenticationException, paramiko.SSHException):
        return False
    finally:
        client.close()


def root(host: str, command: str) -> str:
    return run_ok(Lab(LAB), host, command)


def solve(host: str, task: str, data: dict | None = None) -> None:
    from fleetops.runner.deploy import DeployOptions, run_deploy

    options = DeployOptions(
        deploy_file=EXAM / f"solve/{task}.py",
        inventory=exams_dir() / SITTING / "inventory.py",
        limit=(host,),
        data=data,
    )
    record = run_deploy(options).to_dict()
    assert record["status"] in ("changed", "ok"), record["hosts"][host]


@pytest.fixture(scope="module")
def roster(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("exam") / "roster.csv"
    path.write_text(ROSTER, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def provisioned(roster, isolated_module_runs):
    shutil.rmtree(exams_dir() / SITTING, ignore_errors=True)
    code, out, err = exam("provision", str(EXAM), "--roster", str(roster), "--sitting", SITTING, "--lab", LAB, "-q")
    assert code == 0, err + out
    yield load_sitting(SITTING)
    Lab(LAB).down()
    shutil.rmtree(exams_dir() / SITTING, ignore_errors=True)


@pytest.fixture(scope="module")
def isolated_module_runs(tmp_path_factory):
    import os

    saved = os.environ.get("FLEETOPS_RUNS_DIR")
    os.environ["FLEETOPS_RUNS_DIR"] = str(tmp_path_factory.mktemp("runs"))
    yield
    if saved is None:
        os.environ.pop("FLEETOPS_RUNS_DIR", None)
    else:
        os.environ["FLEETOPS_RUNS_DIR"] = saved


def password(seat: str) -> str:
    return json.loads((exams_dir() / SITTING / "secrets.json").read_text())[f"password:{seat}"]


def test_bad_roster_is_refused_with_every_line_and_changes_nothing(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("candidate_id,name,colour\nC1,a,red\n", encoding="utf-8")
    code, _out, err = exam("provision", str(EXAM), "--roster", str(bad), "--sitting", "e2e-bad", "--lab", "foexbad")
    assert code == 2 and "line 1: unknown column 'colour'" in err
    bad.write_text("candidate_id,name,extra_minutes\nC1,王,5\nC1,李,x\nbad id!,,\n", encoding="utf-8")
    code, _out, err = exam("provision", str(EXAM), "--roster", str(bad), "--sitting", "e2e-bad", "--lab", "foexbad")
    assert code == 2
    assert "line 3: candidate_id C1 repeats line 2" in err and "line 3: extra_minutes 'x'" in err
    assert "line 4: candidate_id 'bad id!'" in err and "line 4: name is empty" in err
    assert not (exams_dir() / "e2e-bad").exists() and Lab("foexbad").load_state() is None


def test_provision_is_idempotent_and_values_differ_per_seat(provisioned, roster):
    code, out, err = exam("provision", str(EXAM), "--roster", str(roster), "--sitting", SITTING, "--lab", LAB, "--json")
    assert code == 0, err
    assert json.loads(out)["frozen"] == []  # nothing to do a second time
    inventory = (exams_dir() / SITTING / "inventory.py").read_text()
    assert (exams_dir() / SITTING / "inventory.py").stat().st_mode & 0o077 == 0
    code, out, err = exam("handout", "--sitting", SITTING)
    assert code == 0, err
    html = (exams_dir() / SITTING / "handout/handout.html").read_text()
    users = []
    for seat in ("s01", "s02", "s03"):
        values = _values(inventory, f"{seat}-server")
        users.append(values["dev_user"])
        assert values["dev_user"] in html and password(seat) in html
    assert len(set(users)) == 3, users
    assert "王小明" in html and "T1.3" not in html  # hidden items never in a hand-out


def _values(inventory_text: str, host: str) -> dict:
    namespace: dict = {}
    exec(compile(inventory_text, "inventory", "exec"), namespace)  # our own generated file
    return namespace["_HOSTS"][host]["exam_values"]


def test_window_opens_and_closes_logins(provisioned):
    sitting = load_sitting(SITTING)
    seat = sitting.seats["s01"]
    address = seat.hosts[0].address
    assert not login(address, seat.user, password("s01")), "logged in before start"
    code, _out, err = exam("start", "--sitting", SITTING)
    assert code == 0, err
    assert login(address, seat.user, password("s01"))
    code, status = exam_json("status")
    assert {row["state"] for row in status} == {"started"} and all(row["reachable"] for row in status)


def test_scripted_candidates_work_then_the_window_closes(provisioned):
    sitting = load_sitting(SITTING)
    inventory = (exams_dir() / SITTING / "inventory.py").read_text()
    for task in ("T1", "T2", "T3", "T4"):
        solve("s01-server", task)
    for task in ("T2", "T4"):
        solve("s02-server", task)
    # the saboteur: seat s01's answer to T1 (its values), s01's shadow, a fake systemctl, no examiner key
    solve("s03-server", "T1", data={"exam_values": _values(inventory, "s01-server")})
    shadow = root("s01-server", "cat /etc/shadow")
    root("s03-server", f"cat > /etc/shadow <<'EOF'\n{shadow}EOF\n")
    root("s03-server", "printf '#!/bin/sh\\necho active\\n' > /usr/bin/systemctl")
    root("s03-server", "systemd-run --quiet --on-active=6s /bin/sh -c 'echo late >> /etc/motd'")
    code, _out, err = exam("stop", "--sitting", SITTING)
    assert code == 0, err
    stopped = time.monotonic()
    seat = load_sitting(SITTING).seats["s01"]
    assert not login(seat.hosts[0].address, seat.user, password("s01")), "logged in after stop"
    root("s03-server", "rm /root/.ssh/authorized_keys")
    time.sleep(max(0.0, 9 - (time.monotonic() - stopped)))  # the saboteur's late edit has run
    assert sitting.seats["s03"].user


def test_a_stopped_seat_is_not_graded_and_a_retry_grades_it(provisioned):
    lab = Lab(LAB)
    lab.halt("s02-server")
    code, report = exam_json("grade")
    assert code == 1
    sheets = {c["seat"]: c for c in report["candidates"]}
    assert sheets["s02"]["status"] == "not_graded"
    assert all(i["state"] in ("not_graded", "pending", "awaiting_marks") for i in sheets["s02"]["items"])
    assert sheets["s01"]["status"] in ("partial", "graded")  # after_reboot and judged items pending
    lab.start(["s02-server"])
    code, report = exam_json("grade")
    sheets = {c["seat"]: c for c in report["candidates"]}
    assert sheets["s02"]["status"] != "not_graded"


def test_grades_item_by_item_with_flags(provisioned):
    code, _report = exam_json("grade", "--reboot")
    for candidate, score in (("C20261205001", 3), ("C20261205002", 1)):
        assert exam("mark", candidate, "T5.1", "--score", str(score), "--judge", "J1", "--sitting", SITTING)[0] == 0
    code, report = exam_json("report")
    sheets = {c["seat"]: c for c in report["candidates"]}
    full, partial, saboteur = sheets["s01"], sheets["s02"], sheets["s03"]
    assert full["status"] == "graded" and full["total"] == 100, full
    points = {i["id"]: i["points"] for i in partial["items"]}
    expected = {"T1.1": 0, "T1.2": 0, "T1.3": 0, "T1.4": 0, "T1.P1": 0, "T2.1": 5, "T2.2": 10, "T3.1": 0,
                "T3.2": 0, "T3.3": 0, "T4.1": 5, "T4.2": 10, "T4.3": 5, "T4.4": 5, "T5.1": 5}  # fmt: skip
    assert points == expected and partial["total"] == 45 and partial["status"] == "graded"
    flags = " | ".join(saboteur["flags"])
    assert "grader access removed" in flags
    assert "tampered: /usr/bin/systemctl" in flags
    assert "after-window change: ~ /etc/motd" in flags
    assert "similar to s01" in flags and "similar to s03" in " | ".join(full["flags"])
    assert saboteur["status"] == "not_graded" and not saboteur["passed"]


def test_regrade_keeps_v1_and_prints_the_diff(provisioned):
    code, out, err = exam("regrade", "--task", "T4", "--reason", "check T4 again", "--sitting", SITTING)
    assert code == 0, err
    assert "grading v2 (check T4 again)" in out and "s01 C20261205001: 100 -> 100" in out
    assert (exams_dir() / SITTING / "grades/v1.json").exists() and (exams_dir() / SITTING / "grades/v2.json").exists()
    ledger = [json.loads(line) for line in (exams_dir() / SITTING / "ledger.jsonl").read_text().splitlines()]
    assert any(e["action"] == "regrade" and e["args"]["reason"] == "check T4 again" for e in ledger)


def test_reports_validate(provisioned, tmp_path):
    from junitparser import JUnitXml

    html, table, junit = tmp_path / "r.html", tmp_path / "r.csv", tmp_path / "r.xml"
    code, _out, err = exam(
        "report", "--sitting", SITTING, "--html", str(html), "--csv", str(table), "--junit", str(junit), "-q"
    )
    assert code == 0, err
    rows = list(csv.DictReader(table.open(encoding="utf-8")))
    assert [r["candidate_id"] for r in rows] == ["C20261205001", "C20261205002", "C20261205003"]
    for column in (
        "status",
        "total",
        "max",
        "percent",
        "pass",
        "T1",
        "T1.1",
        "T5.1",
        "grading_version",
        "exam_sha256",
        "flags",
        "x_class",
    ):
        assert column in rows[0], column
    assert rows[0]["name"] == "王小明" and rows[1]["total"] == "45"
    suites = list(JUnitXml.fromfile(str(junit)))
    assert len(suites) == 3 and suites[0].tests == 15
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium:
        shot = tmp_path / "r.png"
        subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}", "--window-size=1280,2000", html.as_uri()],
            capture_output=True, timeout=120,
        )  # fmt: skip
        assert shot.exists() and shot.stat().st_size > 10_000
    assert "hidden item" in html.read_text(encoding="utf-8")


def test_collect_and_the_ledger_verify(provisioned):
    code, found = exam_json("collect")
    assert code == 0 and {c["candidate_id"] for c in found} == {"C20261205001", "C20261205002", "C20261205003"}
    manifest = json.loads((exams_dir() / SITTING / "evidence/C20261205001/manifest.json").read_text())
    assert any(path.endswith("/etc/nginx/sites-enabled/" + path.split("/")[-1]) for path in manifest)
    code, out, _err = exam("audit", "--verify", "--sitting", SITTING)
    assert code == 0 and "OK" in out


def test_reset_proves_clean_and_names_leftovers(provisioned):
    code, out, err = exam("reset", "--sitting", SITTING)
    assert code == 0, out + err
    assert out.count("clean") == 3
    root(
        "s01-server",
        "useradd planted; mkdir -p /etc/nginx/sites-enabled; echo 'server { listen 81; }' > /etc/nginx/sites-enabled/default",
    )
    code, out, _err = exam("reset", "--verify-only", "--sitting", SITTING)
    assert code == 1
    assert "+ user planted" in out and "+ /etc/nginx/sites-enabled/default" in out
    assert "s02-server clean" in out


def test_editing_one_ledger_line_fails_the_audit(provisioned):
    path = exams_dir() / SITTING / "ledger.jsonl"
    lines = path.read_text().splitlines()
    entry = json.loads(lines[1])
    entry["operator"] = "someone-else"
    lines[1] = json.dumps(entry, sort_keys=True, ensure_ascii=False)
    path.write_text("\n".join(lines) + "\n")
    code, out, _err = exam("audit", "--verify", "--sitting", SITTING)
    assert code == 1 and "line 2" in out


@pytest.mark.parametrize("exam_name", ["a-j-services", "e-j-edge-app"])
def test_selftest_passes_on_the_bundled_exams(exam_name, isolated_module_runs):
    """0 before solve, full marks after (after_reboot items after a real reboot), each task
    solved alone gains points only there, reset proves clean: on a throwaway lab, removed after."""
    code, out, err = exam("selftest", str(REPO / "exams" / exam_name), "--json")
    result = json.loads(out)
    assert code == 0 and result["ok"], result["problems"] or err
    assert len(result["steps"]) == 4
    assert not any(name.startswith("st") for name in __import__("fleetops.lab.fleet", fromlist=["x"]).running_labs())


# ----- seats on real hosts: seats.csv onto an inventory ----------------------------------------
REAL_SITTING, REAL_LAB = "e2e-aj-real", "foexreal"


@pytest.fixture(scope="module")
def real_hosts(isolated_module_runs):
    """Two plain hosts standing in for an institution's machines (a normal inventory, no layers)."""
    from fleetops.lab.fleet import free_subnet
    from fleetops.lab.spec import generated_spec

    lab = Lab(REAL_LAB)
    status = lab.up(generated_spec(2, name=REAL_LAB, subnet=free_subnet(REAL_LAB)))  # the exam lab may still run
    assert status.healthy, status
    yield lab
    lab.down()
    shutil.rmtree(exams_dir() / REAL_SITTING, ignore_errors=True)


def test_seats_on_real_hosts_provision_grade_and_reset(real_hosts, roster, tmp_path):
    seats = tmp_path / "seats.csv"
    seats.write_text("seat,role,host\ns01,server,foexreal1\ns02,server,nohost\ns02,client,foexreal2\n")
    args = ["provision", str(EXAM), "--roster", str(roster), "--sitting", REAL_SITTING, "-i", str(real_hosts.inventory)]
    code, _out, err = exam(*args, "--seats", str(seats))
    assert code == 2 and "line 3: host 'nohost' is not in the inventory" in err and "line 4: role 'client'" in err
    assert not (exams_dir() / REAL_SITTING).exists()
    seats.write_text("seat,role,host\ns01,server,foexreal1\ns02,server,foexreal2\n")
    two = tmp_path / "two.csv"
    two.write_text("".join(ROSTER.splitlines(keepends=True)[:3]), encoding="utf-8")
    code, out, err = exam(*args[:3], str(two), *args[4:], "--seats", str(seats), "-q")
    assert code == 0, err + out
    code, out, _err = exam("reset", "--verify-only", "--sitting", REAL_SITTING)
    assert code == 0 and out.count("fingerprint as provisioned") == 2, out
    assert exam("start", "--sitting", REAL_SITTING, "-q")[0] == 0
    from fleetops.runner.deploy import DeployOptions, run_deploy

    record = run_deploy(
        DeployOptions(
            deploy_file=EXAM / "solve/T1.py",
            inventory=exams_dir() / REAL_SITTING / "inventory.py",
            limit=("foexreal1",),
        )
    ).to_dict()
    assert record["status"] == "changed", record["hosts"]
    assert exam("stop", "--sitting", REAL_SITTING, "-q")[0] == 0
    time.sleep(3)  # past stop's own grace period: this edit is after the window
    run_ok(real_hosts, "foexreal2", "echo late >> /etc/motd; rm /etc/issue.net; useradd -m sneaky")
    code, out, err = exam("grade", "--sitting", REAL_SITTING, "--json", "--seat", "s01", "--seat", "s02")
    sheets = {c["seat"]: c for c in json.loads(out)["candidates"]}
    points = {i["id"]: i["points"] for i in sheets["s01"]["items"]}
    assert points["T1.1"] == 8 and points["T1.2"] == 8 and points["T1.3"] == 4 and sheets["s02"]["total"] == 0
    assert any(f.startswith("after-window change: ~ /etc/motd") for f in sheets["s02"]["flags"]), sheets["s02"]["flags"]
    code, out, err = exam("reset", "--sitting", REAL_SITTING)
    assert code == 0, out + err  # the user, the group, the sudo file, the key, motd and issue.net put back
    run_ok(real_hosts, "foexreal1", "useradd planted; echo 'x' >> /etc/ssh/sshd_config")
    code, out, _err = exam("reset", "--verify-only", "--sitting", REAL_SITTING)
    assert code == 1 and "+ user planted" in out and "~ /etc/ssh/sshd_config" in out and "foexreal2 clean" in out
