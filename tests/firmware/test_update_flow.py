"""The controller side without a gateway: when a boot has settled, the firmware check's verdicts,
and batches that stop when the failure budget is spent."""

from __future__ import annotations

import json

import pytest

from fleetops.checks.firmware import Firmware
from fleetops.checks.result import Status
from fleetops.firmware import run as runs
from fleetops.firmware.update import GatewayOutcome, Policy, Step, settled_state
from fleetops.firmware.verify import verify_bundle

STATUS = {"ok": True, "boot_id": "new", "boot_slot": "b", "booted_slot": "b", "trial_pending": True, "health": "ok"}


def lines(status: dict, system: str = "running", health: str = "active") -> str:
    return json.dumps(status) + f"\n{system}\n{health}\n"


@pytest.mark.parametrize(
    "status, system, health, settled",
    [
        (STATUS, "running", "active", True),
        ({**STATUS, "boot_id": "old"}, "running", "active", False),  # the reboot has not happened yet
        (STATUS, "starting", "active", False),
        (STATUS, "running", "activating", False),  # the on-gateway gate still runs
        ({**STATUS, "health": ""}, "running", "active", False),  # a trial whose gate has not passed
        (
            {**STATUS, "trial_pending": False, "boot_slot": "a"},
            "running",
            "active",
            False,
        ),  # rolled back, reboot pending
        ({**STATUS, "trial_pending": False, "boot_slot": "b", "health": ""}, "degraded", "inactive", True),
    ],
)
def test_a_boot_has_settled_only_when_everything_agrees(status, system, health, settled):
    assert (settled_state(lines(status, system, health), "old") is not None) is settled


def test_garbage_is_not_settled():
    assert settled_state("", "old") is None and settled_state("{nope\nrunning\nactive\n", "old") is None


def judge(**status) -> tuple[Status, str]:
    base = {"ok": True, "boot_slot": "b", "booted_slot": "b", "version": "2.0.0", "trial_pending": False}
    outcome = Firmware(kind="firmware", version="2.0.0").judge({"installed": True, "status": {**base, **status}})
    return outcome.status, outcome.message


def test_the_firmware_check_names_what_is_wrong():
    assert judge() == (Status.OK, "firmware 2.0.0 on slot b, committed")
    assert judge(version="1.0.0")[0] == Status.CRITICAL
    assert judge(trial_pending=True, trial_version="3.0.0", boot_slot="a")[0] == Status.WARNING
    assert judge(boot_slot="a")[1] == "firmware 2.0.0 on slot b but slot a is armed outside a trial"
    assert "interrupted install left slot a incomplete" in judge(recovery_status="in_progress")[1]
    status, message = judge(
        last_event={"event": "rollback", "by": "health", "version": "3.0.0", "reason": "smoke failed"}
    )
    assert status == Status.WARNING and "rolled back by health: smoke failed" in message
    missing = Firmware(kind="firmware").judge({"installed": False})
    assert missing.status == Status.CRITICAL and "not installed" in missing.message
    allowed = Firmware(kind="firmware", trial=True).judge(
        {
            "installed": True,
            "status": {"ok": True, "booted_slot": "b", "boot_slot": "b", "trial_pending": True, "health": "ok"},
        }
    )
    assert allowed.status == Status.OK and "awaiting commit" in allowed.message


def test_batches_stop_when_the_budget_is_spent(good_bundle, pki, monkeypatch, tmp_path):
    monkeypatch.setenv("FLEETOPS_RUNS_DIR", str(tmp_path))
    verified = verify_bundle(good_bundle, pki.ca_cert)
    touched = []

    def fake(target, bundle, policy, say):
        touched.append(target.name)
        outcome = "rolled_back" if target.name == "g1" else "committed"
        return GatewayOutcome(target.name, outcome, "health", "smoke failed", "1.0.0", "2.0.0", "a", "b", 1, 1.0,
                              [Step("install"), Step("trial")])  # fmt: skip

    monkeypatch.setattr(runs, "update_gateway", fake)

    class Target:
        def __init__(self, name):
            self.name = name

    data, path = runs.run_update(
        verified, [Target(n) for n in ("g1", "g2", "g3")], Policy(gate=None), runs.Strategy(canary=1), "inv"
    )
    assert touched == ["g1"], "the canary rolled back: nobody else is touched"
    section = data["firmware"]
    assert section["unattempted"] == ["g2", "g3"] and section["stopped"].startswith("failure budget spent")
    assert data["hosts"]["g1"]["status"] == "failed" and data["kind"] == "firmware-update"
    assert path.exists() and oct(path.stat().st_mode & 0o777) == "0o600"
