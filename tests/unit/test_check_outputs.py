"""Every output format from one synthetic run, validated by real consumers where they exist."""

import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from junitparser import Error, Failure, JUnitXml

from fleetops.checking import history
from fleetops.checking.engine import CheckRun
from fleetops.checking.outputs import html, junit, nagios, prometheus
from fleetops.checks.result import CheckResult, Status
from fleetops.errors import InputError


def make_run(statuses: dict[tuple[str, str], Status], started: float = 1_790_000_000.0) -> CheckRun:
    run = CheckRun(suite="unit", inventory="inv.py", started=started, finished=started + 1.5)
    for (host, name), status in statuses.items():
        run.results.append(
            CheckResult(
                host=host,
                check=name,
                kind="disk",
                status=status,
                message=f"{name} on {host} <b>&",
                value=42.5,
                unit="%",
                duration_s=0.01,
            )
        )
    return run


RUN = {
    ("web1", "disk"): Status.OK,
    ("web1", "load"): Status.OK,
    ("db1", "disk"): Status.CRITICAL,
    ("db1", "load"): Status.WARNING,
    ("ftp1", "disk"): Status.UNKNOWN,
    ("ftp1", "load"): Status.OK,
}


def test_run_status_and_counts():
    run = make_run(RUN)
    assert run.status == Status.CRITICAL
    assert run.counts() == {"ok": 3, "warning": 1, "critical": 1, "unknown": 1}
    data = run.to_dict()
    assert data["exit_code"] == 2 and data["hosts"]["db1"] == "critical"


def test_junit_parses_with_junitparser(tmp_path):
    path = tmp_path / "junit.xml"
    junit.write(make_run(RUN), path)
    xml = JUnitXml.fromfile(str(path))
    suites = {suite.name: suite for suite in xml}
    assert set(suites) == {"web1", "db1", "ftp1"}
    assert (suites["db1"].tests, suites["db1"].failures, suites["db1"].errors) == (2, 2, 0)
    assert (suites["ftp1"].errors, suites["web1"].failures) == (1, 0)
    cases = {case.name: case for case in suites["db1"]}
    assert isinstance(cases["disk"].result[0], Failure)
    assert cases["disk"].result[0].type == "critical"
    assert isinstance(next(iter(suites["ftp1"])).result[0], Error)


def promtool() -> str | None:
    found = shutil.which("promtool") or shutil.which("promtool", path=str(Path(sys.executable).parent))
    if found is None and os.environ.get("FLEETOPS_REQUIRE_LAB"):
        pytest.fail("promtool missing (scripts/install-deps.sh installs it)")
    return found


def test_prometheus_textfile_passes_promtool(tmp_path):
    path = tmp_path / "fleet.prom"
    prometheus.write(make_run(RUN), path)
    text = path.read_text()
    assert 'fleetops_check_status{check="disk",host="db1",kind="disk"} 2.0' in text
    assert 'fleetops_check_value{check="disk",host="db1",kind="disk",unit="%"} 42.5' in text
    assert 'fleetops_host_status{host="ftp1"} 3.0' in text
    assert "fleetops_check_last_run_timestamp_seconds" in text
    tool = promtool()
    if tool is None:
        pytest.skip("promtool not installed")
    proc = subprocess.run([tool, "check", "metrics"], input=text, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    broken = subprocess.run([tool, "check", "metrics"], input="bad metric line{\n", capture_output=True, text=True)
    assert broken.returncode != 0  # the validator really validates


def test_nagios_line():
    line = nagios.status_line(make_run(RUN))
    assert line.startswith("FLEETOPS CRITICAL - 1 critical, 1 unknown, 1 warning, 3 ok on 3 hosts: db1 disk")
    assert line.count("|") == 1 and "critical=1;;;0" in line.split("|")[1]
    ok = nagios.status_line(make_run({("web1", "disk"): Status.OK}))
    assert ok.startswith("FLEETOPS OK - 0 critical")


def test_html_escapes_and_orders_worst_first(tmp_path):
    page = html.render_html(make_run(RUN))
    assert "<b>&" not in page and "&lt;b&gt;&amp;" in page
    rows = [line for line in page.splitlines() if line.startswith("<tr data-host=") and "data-status" in line]
    assert [row.split('"')[1] for row in rows] == ["db1", "ftp1", "web1"]
    assert "<script" not in page and "http" not in page.split("<body>")[1]  # self-contained


def test_history_transitions(tmp_path):
    db = tmp_path / "h.sqlite"
    base = 1_790_000_000.0
    history.append(make_run({("web1", "disk"): Status.OK}, base), db)
    history.append(make_run({("web1", "disk"): Status.CRITICAL}, base + 60), db)
    history.append(make_run({("web1", "disk"): Status.CRITICAL}, base + 120), db)
    history.append(make_run({("web1", "disk"): Status.OK}, base + 180), db)
    changes = history.transitions(path=db)
    assert [(c["from"], c["to"]) for c in changes] == [("ok", "critical"), ("critical", "ok")]
    assert history.transitions(host="db1", path=db) == []
    assert len(history.transitions(since=base + 150, path=db)) == 1
    assert [r["status"] for r in history.runs(path=db)] == ["ok", "critical", "critical", "ok"]


def test_parse_since():
    now = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
    assert history.parse_since("2h", now) == datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc).timestamp()
    assert history.parse_since("2026-11-24T00:00", now) == datetime(2026, 11, 24, tzinfo=timezone.utc).timestamp()
    assert history.parse_since(None) == 0.0
    with pytest.raises(InputError, match="--since"):
        history.parse_since("yesterday-ish", now)
