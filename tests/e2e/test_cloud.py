"""Issue 14 on real hosts: the local provider creates two lab instances, converges the baseline
and passes the baseline checks in one ``cloud apply``; the second apply changes nothing; stop,
start and destroy act on the real hosts, and destroying the last one takes its lab down."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from fleetops.lab.fleet import Lab, free_subnet
from tests.e2e.helpers import fleetops, run_ok

pytestmark = pytest.mark.lab

FLEET = "focloud"
REPO = Path(__file__).parents[2]


def cloud(*args: str) -> subprocess.CompletedProcess:
    return fleetops("cloud", *args)


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cloud") / "cloud.yml"
    spec = {
        "fleet": FLEET,
        "provider": "local",
        "subnet": free_subnet(FLEET),
        "defaults": {"region": "lab", "zone": "lab-a", "instance_type": "lab.small", "image": "debian-12", "ttl": "2h"},
        "instances": [
            {"name": "vm1", "groups": ["web"]},
            {"name": "vm2", "zone": "lab-b", "instance_type": "lab.nano"},
        ],
        "group_data": str(REPO / "inventory" / "group_data"),
    }
    path.write_text(yaml.safe_dump(spec))
    yield path
    if Lab(FLEET).load_state() is not None:
        Lab(FLEET).down()


def apply(spec_file) -> dict:
    result = cloud("apply", "-f", str(spec_file), "--deploy", str(REPO / "deploys/baseline.py"), "--json")
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def test_create_configure_check_in_one_run_then_nothing_to_do(spec_file):
    planned = cloud("plan", "-f", str(spec_file))
    assert planned.returncode == 4, planned.stderr

    first = apply(spec_file)
    assert first["kind"] == "cloud-apply" and first["status"] == "changed"
    phases = {p["name"]: p for p in first["cloud"]["phases"]}
    assert [p["name"] for p in first["cloud"]["phases"]] == [
        "offers", "plan", "create", "start", "running", "ssh", "inventory", "deploy", "check",
    ]  # fmt: skip
    assert all(p["status"] in ("ok", "skipped") for p in phases.values()), phases
    assert sorted(first["cloud"]["created"]) == ["vm1", "vm2"]
    assert first["summary"] == {"hosts": 2, "unreachable": 0, "failed": 0, "changed": 2, "ok": 0}
    assert first["cloud"]["checks"]["status"] == "ok" and first["cloud"]["checks"]["hosts"] == {
        "vm1": "ok",
        "vm2": "ok",
    }

    # the hosts are real: they answer over SSH with the fleet's inventory, types are memory limits
    inventory = first["cloud"]["inventory"]
    lab = Lab(FLEET)
    assert run_ok(lab, "vm1", "systemctl is-system-running").strip() == "running"
    assert "cloud_instance_type" in open(inventory).read()

    second = apply(spec_file)
    assert [a["verb"] for a in second["cloud"]["actions"]] == ["keep", "keep"]
    assert second["cloud"]["created"] == {} and second["status"] == "ok"
    assert second["summary"]["changed"] == 0
    assert cloud("plan", "-f", str(spec_file)).returncode == 0


def test_stop_start_and_destroy_act_on_the_hosts(spec_file):
    lab = Lab(FLEET)
    assert cloud("stop", "-f", str(spec_file), "vm2").returncode == 0
    assert not lab.host_running("vm2") and lab.host_running("vm1")
    assert cloud("plan", "-f", str(spec_file)).returncode == 4  # apply would start it
    assert cloud("start", "-f", str(spec_file), "vm2").returncode == 0
    assert run_ok(lab, "vm2", "true") == ""

    address = {h: r["address"] for h, r in lab.load_state()["hosts"].items()}["vm2"]
    assert cloud("destroy", "-f", str(spec_file), "vm1", "--yes").returncode == 0
    state = lab.load_state()
    assert sorted(state["hosts"]) == ["vm2"] and state["hosts"]["vm2"]["address"] == address  # kept its address
    assert cloud("destroy", "-f", str(spec_file), "--yes").returncode == 0
    assert (
        lab.load_state() is None and FLEET not in subprocess.run(["ip", "link"], capture_output=True, text=True).stdout
    )
