"""Issue 16 (rollouts) on a 5-host lab of its own: canary 1, batches of 2, budget 1. One host's
deploy fails and another is stopped mid-run: the rollout stops, every host's state is recorded,
and --resume completes only the remaining hosts; with a passing check gate a rollout finishes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from fleetops.lab.fleet import Lab, free_subnet
from fleetops.lab.spec import parse_spec
from fleetops.runner.rollout import validate
from tests.e2e.helpers import BIN, run

pytestmark = pytest.mark.lab

NAME = "forollout"
HERE = Path(__file__).parent
STEP = HERE / "deploys/rollout_step.py"
HOSTS = [f"ro{i}" for i in range(1, 6)]


@pytest.fixture(scope="module")
def rollout_lab():
    spec = parse_spec({"name": NAME, "subnet": free_subnet(NAME), "hosts": [{"name": h} for h in HOSTS]}, "test")
    lab = Lab(NAME)
    status = lab.up(spec)
    assert status.healthy, status
    yield lab, spec
    lab.down()


def rollout(lab, *args: str, runs: Path) -> subprocess.Popen:
    env = {**os.environ, "FLEETOPS_RUNS_DIR": str(runs)}
    return subprocess.Popen(
        [str(BIN / "fleetops"), "rollout", str(STEP), "-i", str(lab.inventory), "--json", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


def test_budget_stop_then_resume_then_a_gated_rollout(rollout_lab, tmp_path):
    lab, spec = rollout_lab
    runs = tmp_path / "runs"
    assert run(lab, "ro2", "touch /root/fail-rollout")[0] == 0
    started = time.monotonic()
    proc = rollout(lab, "--canary", "1", "--batch", "2", "--max-fail", "1", runs=runs)
    # wait for batch 2 (ro2, ro3) to be inside its pause, then stop ro3 under it
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        records = list(runs.glob("*.json"))
        if records and json.loads(records[0].read_text())["hosts"]["ro3"]["status"] == "aborted":
            break
        time.sleep(0.2)
    time.sleep(2.0)
    os.kill(lab.load_state()["hosts"]["ro3"]["launcher_pid"], signal.SIGTERM)
    out, err = proc.communicate(timeout=300)
    first_s = time.monotonic() - started
    try:
        assert proc.returncode == 7, err[-2000:]
        record = json.loads(out)
        validate(record)
        assert record["status"] == "stopped" and "budget 1" in record["stopped"]
        assert {n: h["status"] for n, h in record["hosts"].items()} == {
            "ro1": "changed", "ro2": "failed", "ro3": "unreachable", "ro4": "unattempted", "ro5": "unattempted",
        }  # fmt: skip
        assert record["order"] == HOSTS and [b["hosts"] for b in record["batches"]] == [
            ["ro1"],
            ["ro2", "ro3"],
            ["ro4", "ro5"],
        ]
        assert run(lab, "ro4", "test ! -e /root/rolled-out")[0] == 0  # really never touched
    finally:
        assert lab.up(spec).healthy  # ro3 back
    assert run(lab, "ro2", "rm /root/fail-rollout")[0] == 0

    started = time.monotonic()
    proc = rollout(lab, "--batch", "2", "--resume", record["run_id"], runs=runs)
    out, err = proc.communicate(timeout=300)
    resume_s = time.monotonic() - started
    assert proc.returncode == 0, err[-2000:]
    resumed = json.loads(out)
    assert resumed["resumed_from"] == record["run_id"] and resumed["order"] == ["ro2", "ro3", "ro4", "ro5"]
    assert all(h["status"] == "changed" for h in resumed["hosts"].values())
    assert run(lab, "ro1", "cat /root/rolled-out")[1] and run(lab, "ro5", "cat /root/rolled-out")[1]

    started = time.monotonic()
    proc = rollout(
        lab, "--canary", "1", "--batch", "50%", "--pause-until-check", str(HERE / "suites/rollout.yml"), runs=runs
    )
    out, err = proc.communicate(timeout=300)
    gated_s = time.monotonic() - started
    assert proc.returncode == 0, err[-2000:]
    gated = json.loads(out)
    assert gated["status"] == "changed" and [b["gate"] for b in gated["batches"]][:-1] == ["passed"] * (
        len(gated["batches"]) - 1
    )
    print(f"\nrollout timings: stopped run {first_s:.1f}s, resume {resume_s:.1f}s, gated run {gated_s:.1f}s")


def test_a_failing_gate_stops_the_rollout(rollout_lab, tmp_path):
    lab, _spec = rollout_lab
    suite = tmp_path / "never.yml"
    suite.write_text("name: never\nchecks:\n  - {kind: file, path: /root/no-such-file}\n")
    proc = rollout(lab, "--canary", "1", "--pause-until-check", str(suite), runs=tmp_path / "runs")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 7, err[-2000:]
    record = json.loads(out)
    assert record["stopped"].startswith("check gate after batch 1: never critical on ro1")
    assert [h["status"] for h in record["hosts"].values()].count("unattempted") == 4
