"""A host that dies mid-run, or is down from the start, is recorded; the others finish."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.helpers import run

from fleetops.runner.record import validate
from tests.e2e.conftest import HERE

pytestmark = pytest.mark.lab
FLEETOPS = str(Path(sys.executable).parent / "fleetops")


def stop_host(lab, name: str) -> None:
    pid = lab.load_state()["hosts"][name]["launcher_pid"]
    os.kill(pid, signal.SIGTERM)


def test_host_stopped_mid_run_is_unreachable_others_finish(lab, spec, isolated_runs):
    # e2e3 is e2e2's backup store: a backup that cannot be copied off-host fails its unit (rightly),
    # which would leave e2e2 "degraded" when the lab is brought back; no backups during this test
    run(lab, "e2e2", "systemctl stop fleetops-mysql-backup.timer fleetops-mysql-binlogs.timer")
    proc = subprocess.Popen(
        [FLEETOPS, "deploy", str(HERE / "deploys/slow.py"), "-i", str(lab.inventory), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    time.sleep(3.5)  # inside the 6 s pause on every host
    stop_host(lab, "e2e3")
    out, err = proc.communicate(timeout=120)
    try:
        assert proc.returncode == 1, err
        record = json.loads(out)
        validate(record)
        assert record["hosts"]["e2e3"]["status"] == "unreachable"
        assert record["hosts"]["e2e3"]["error"]
        for name in ("e2e1", "e2e2"):
            ops = record["hosts"][name]["operations"]
            assert [op["status"] for op in ops] == ["changed", "changed", "changed"], name
        assert record["summary"]["unreachable"] == 1 and record["status"] == "unreachable"

        # Still down at the start of the next run: recorded at connect time, others run.
        proc = subprocess.run(
            [
                FLEETOPS,
                "deploy",
                str(HERE / "deploys/slow.py"),
                "-i",
                str(lab.inventory),
                "--json",
                "--exclude",
                "e2e2",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        record = json.loads(proc.stdout)
        assert proc.returncode == 1
        assert record["hosts"]["e2e3"]["status"] == "unreachable"
        assert record["hosts"]["e2e1"]["status"] == "changed"
        assert "e2e2" not in record["hosts"]
    finally:
        status = lab.up(spec)  # bring e2e3 back for the rest of the session
        assert status.healthy
        assert {h.name: h.action for h in status.hosts}["e2e3"] == "started"
