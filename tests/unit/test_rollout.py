"""The rollout orchestrator with a stand-in deploy (each batch's outcome scripted): batches, the
fleet-wide budget, unreachable counting, the gate, the v2 record after every batch, resume."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from fleetops.errors import InputError
from fleetops.runner.record import HostResult
from fleetops.runner.rollout import RolloutOptions, budget_of, parse_size, plan_batches, run_rollout, validate

HOSTS = ["r1", "r2", "r3", "r4", "r5"]


@pytest.fixture
def inventory(tmp_path, isolated_state):
    path = tmp_path / "inventory.py"
    path.write_text(f"fleet = {HOSTS!r}\n")
    return path


class ScriptedDeploy:
    """Plays the deploy runner: each host ends as ``outcomes`` says (default ``changed``)."""

    def __init__(self, outcomes: dict[str, str] | None = None) -> None:
        self.outcomes, self.calls = outcomes or {}, []

    def __call__(self, options):
        self.calls.append(list(options.limit))
        hosts = {}
        for name in options.limit:
            status = self.outcomes.get(name, "changed")
            hosts[name] = HostResult(status=status, error=None if status in ("ok", "changed") else f"{name} {status}")
        return SimpleNamespace(hosts=hosts)


def options(inventory, tmp_path, **changes):
    deploy_file = tmp_path / "deploy.py"
    deploy_file.write_text("")
    return RolloutOptions(deploy_file=deploy_file, inventory=inventory, **changes)


def test_batches_and_sizes():
    assert plan_batches(HOSTS, canary=1, batch="2") == [["r1"], ["r2", "r3"], ["r4", "r5"]]
    assert plan_batches(HOSTS, canary=0, batch="40%") == [["r1", "r2"], ["r3", "r4"], ["r5"]]
    assert plan_batches(HOSTS) == [HOSTS]
    assert parse_size("10%", 5, "--batch") == 1  # rounds down, to at least one host
    assert budget_of(None, 5) == 0 and budget_of("20%", 5) == 1 and budget_of("1", 5) == 1
    for bad in ("0", "-1", "two", "150%"):
        with pytest.raises(InputError, match="--batch"):
            parse_size(bad, 5, "--batch")
    with pytest.raises(InputError, match="--canary 5: the selection has only 5"):
        plan_batches(HOSTS, canary=5)


def test_every_host_done(inventory, tmp_path):
    deploy = ScriptedDeploy({"r3": "ok"})
    record, path = run_rollout(options(inventory, tmp_path, canary=1, batch="2"), deploy=deploy)
    assert deploy.calls == [["r1"], ["r2", "r3"], ["r4", "r5"]]
    data = json.loads(path.read_text())
    validate(data)
    assert data["status"] == "changed" and data["summary"]["changed"] == 4 and data["summary"]["ok"] == 1
    assert data["order"] == HOSTS and [b["status"] for b in data["batches"]] == ["changed", "changed", "changed"]
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_unreachable_hosts_spend_the_budget_and_the_rest_is_unattempted(inventory, tmp_path):
    deploy = ScriptedDeploy({"r2": "failed", "r3": "unreachable"})
    record, path = run_rollout(options(inventory, tmp_path, canary=1, batch="2", max_fail="1"), deploy=deploy)
    data = json.loads(path.read_text())
    assert data["status"] == "stopped" and "2 failed or unreachable, budget 1" in data["stopped"]
    assert {n: h["status"] for n, h in data["hosts"].items()} == {
        "r1": "changed", "r2": "failed", "r3": "unreachable", "r4": "unattempted", "r5": "unattempted",
    }  # fmt: skip
    assert deploy.calls == [["r1"], ["r2", "r3"]]

    resumed = ScriptedDeploy()
    again, again_path = run_rollout(options(inventory, tmp_path, batch="2", resume=data["run_id"]), deploy=resumed)
    assert resumed.calls == [["r2", "r3"], ["r4", "r5"]]  # only what was left, in the recorded order
    linked = json.loads(again_path.read_text())
    assert linked["resumed_from"] == data["run_id"] and linked["status"] == "changed" and linked["order"] == HOSTS[1:]


def test_within_the_budget_the_rollout_goes_on(inventory, tmp_path):
    deploy = ScriptedDeploy({"r2": "failed"})
    record, _path = run_rollout(options(inventory, tmp_path, batch="2", max_fail="20%"), deploy=deploy)
    assert record.status == "failed" and record.stopped is None and len(deploy.calls) == 3


def test_a_failing_gate_stops_before_the_next_batch(inventory, tmp_path):
    seen = []

    def gate(hosts):
        seen.append(list(hosts))
        return "baseline critical on r2" if "r2" in hosts else None

    record, path = run_rollout(options(inventory, tmp_path, canary=1, batch="2", gate_suite="baseline"),
                               gate=gate, deploy=ScriptedDeploy())  # fmt: skip
    assert seen == [["r1"], ["r1", "r2", "r3"]]
    assert record.status == "stopped" and record.stopped == "check gate after batch 2: baseline critical on r2"
    assert [b["gate"] for b in json.loads(path.read_text())["batches"]] == ["passed", "baseline critical on r2", None]


def test_an_interrupted_batch_is_aborted_and_recorded(inventory, tmp_path):
    def interrupted(options):
        if "r2" in options.limit:
            raise KeyboardInterrupt
        return ScriptedDeploy()(options)

    with pytest.raises(KeyboardInterrupt):
        run_rollout(options(inventory, tmp_path, canary=1, batch="2"), deploy=interrupted)
    (path,) = sorted((tmp_path / "state" / "runs").glob("*.json"))
    data = json.loads(path.read_text())
    assert data["status"] == "stopped" and data["stopped"] == "interrupted"
    assert [data["hosts"][n]["status"] for n in HOSTS] == [
        "changed",
        "aborted",
        "aborted",
        "unattempted",
        "unattempted",
    ]


def test_resume_refuses_what_it_cannot_resume(inventory, tmp_path):
    with pytest.raises(InputError, match="no run record"):
        run_rollout(options(inventory, tmp_path, resume="20990101T000000Z-abcdef"), deploy=ScriptedDeploy())
    _record, path = run_rollout(options(inventory, tmp_path), deploy=ScriptedDeploy())
    with pytest.raises(InputError, match="every host of .* already succeeded"):
        run_rollout(options(inventory, tmp_path, resume=path.stem), deploy=ScriptedDeploy())
