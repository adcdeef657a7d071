"""Contract between ``checks/probe.py`` and each host-side check's ``judge()``: every host-side
check of every bundled suite probes this machine for real (the probe script run as a host runs
it), and its judgement of that real answer is a proper outcome, never an exception. A probe that
answers in a shape its check does not read fails here, not on a fleet."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from fleetops.checking.remote import build_script
from fleetops.checks.result import Status
from fleetops.checks.suite import available_suites, load_suite

REPO = Path(__file__).parents[2]


def host_checks() -> list:
    from fleetops.checks.suite import parse_suite

    # kinds no bundled suite uses yet, declared here so their probes are covered too
    extra = parse_suite(
        {
            "checks": [{"kind": "pressure", "resource": r} for r in ("cpu", "io", "memory")]
            + [
                {"kind": "sudo", "user": "root", "allows": "/bin/true", "denies": "/bin/false"},
                {"kind": "config", "path": "/etc/os-release", "format": "keyvalue", "key": "ID"},
                {"kind": "config", "path": "/nonexistent/x.ini", "format": "ini", "key": "a.b"},
                {"kind": "unit", "unit": "ssh.service", "restart": "on-failure"},
                {"kind": "timer", "unit": "fstrim.timer", "on_calendar": "weekly"},
                {"kind": "onnx", "path": str(REPO / "exams/e-j-edge-app/files/digits/model.onnx"), "opset": 13},
                {"kind": "sql", "user": "nobody", "query": "SELECT 1"},
                {"kind": "ping", "target": "127.0.0.1", "count": 2},
                {
                    "kind": "report_matches",
                    "path": "/etc/os-release",
                    "pattern": "VERSION_ID=.?([0-9]+)",
                    "measure": {"kind": "command", "command": "echo 12", "value_from": "stdout"},
                },
            ]
        },
        "extra",
    )
    seen: dict[str, object] = {check.name: check for check in extra.checks}
    for name in available_suites():
        for check in load_suite(name).checks:
            if check.where == "host" and check.probe()["op"] != "clock":
                seen.setdefault(check.name, check)
    return list(seen.values())


def test_every_bundled_host_check_judges_a_real_probe_answer():
    checks = host_checks()
    requests = [{"id": str(index), **check.probe()} for index, check in enumerate(checks)]
    proc = subprocess.run(
        [sys.executable, "-"], input=build_script(requests), capture_output=True, timeout=120, check=True
    )
    results = ast.literal_eval(proc.stdout.decode().splitlines()[1])["results"]
    kinds = set()
    for index, check in enumerate(checks):
        raw = dict(results[str(index)])
        raw.pop("_seconds", None)
        outcome = check.verdict(raw)  # must not raise, whatever this machine has or lacks
        assert outcome.status in set(Status), (check.name, raw)
        assert isinstance(outcome.message, str) and outcome.message, (check.name, raw)
        kinds.add(check.kind)
    assert {"service", "file", "user", "package", "disk", "mysql", "device", "backup"} <= kinds, kinds
