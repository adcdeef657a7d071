"""Issue 23 on real lab hosts: load and memory judge each container's own cgroup, so a CPU burner
or a memory hog on one host turns only that host red."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from fleetops.lab.fleet import Lab, free_subnet
from fleetops.lab.spec import parse_spec
from tests.e2e.helpers import BIN, run_ok

pytestmark = pytest.mark.lab

NAME = "fores"


@pytest.fixture(scope="module")
def small_lab():
    hosts = [{"name": "fores1", "memory_max_mb": 256}, {"name": "fores2"}, {"name": "fores3"}]
    spec = parse_spec({"name": NAME, "subnet": free_subnet(NAME), "hosts": hosts}, source="test")
    lab = Lab(NAME)
    status = lab.up(spec)
    assert status.healthy, status
    yield lab
    lab.down()


def resources(lab: Lab) -> dict:
    proc = subprocess.run(
        [str(BIN / "fleetops"), "check", "-i", str(lab.inventory), "--suite", "default", "--json", "--no-history"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return {(r["host"], r["kind"]): r for r in json.loads(proc.stdout)["results"] if r["kind"] in ("load", "memory")}


def test_quiet_hosts_are_ok_and_say_their_source(small_lab):
    found = resources(small_lab)
    for host in ("fores1", "fores2"):
        assert found[(host, "load")]["status"] == "ok", found[(host, "load")]["message"]
        assert "this host's cgroup (container systemd-nspawn)" in found[(host, "load")]["message"]
        assert found[(host, "memory")]["status"] == "ok" and "this host's cgroup" in found[(host, "memory")]["message"]
    assert "of 0.25 GiB, its limit" in found[("fores1", "memory")]["message"]


def test_a_cpu_burner_turns_only_its_own_host(small_lab):
    run_ok(
        small_lab,
        "fores2",
        "nohup timeout 70 sh -c 'for i in 1 2 3 4 5 6; do (while :; do :; done) & done; wait' >/dev/null 2>&1 &",
    )
    time.sleep(45)  # PSI avg60 follows the burner
    found = resources(small_lab)
    assert found[("fores2", "load")]["status"] in ("warning", "critical"), found[("fores2", "load")]["message"]
    assert found[("fores1", "load")]["status"] == "ok", found[("fores1", "load")]["message"]


def test_a_memory_hog_turns_only_its_own_host(small_lab):
    run_ok(
        small_lab,
        "fores1",
        "nohup timeout 60 python3 -c 'import time; b=bytearray(230*2**20); b[::4096]=b\"\\x01\"*len(b[::4096]); time.sleep(60)' "
        ">/dev/null 2>&1 &",
    )
    time.sleep(6)
    found = resources(small_lab)
    assert found[("fores1", "memory")]["status"] in ("warning", "critical"), found[("fores1", "memory")]["message"]
    assert found[("fores2", "memory")]["status"] == "ok"


def test_ping_between_lab_hosts_and_a_broken_path_on_one_host(small_lab, tmp_path):
    addresses = {name: record["address"] for name, record in small_lab.load_state()["hosts"].items()}
    suite = tmp_path / "ping.yml"
    suite.write_text(
        f"checks:\n  - {{kind: ping, name: ping-fores3, target: {addresses['fores3']}, hosts: [fores1, fores2]}}\n"
    )

    def run() -> dict:
        proc = subprocess.run(
            [str(BIN / "fleetops"), "check", "-i", str(small_lab.inventory), "--suite", str(suite), "--json", "--no-history"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert proc.stdout.strip(), proc.stderr
        return {r["host"]: r for r in json.loads(proc.stdout)["results"] if r["kind"] == "ping"}

    found = run()
    assert set(found) == {"fores1", "fores2"}
    for host in ("fores1", "fores2"):
        # a real measurement: present and positive; its size is the thresholds' business (ok above),
        # not the test's (a busy CI machine's p95 on a bridge can reach milliseconds)
        assert found[host]["status"] == "ok" and 0 < found[host]["value"] < 50, found[host]["message"]
        assert "loss 0% of 10" in found[host]["message"]
    # this kernel has no sch_netem: the broken path is a blackhole route on fores1 only (to fores3,
    # which both hosts ping, so the neighbour's path is untouched)
    run_ok(small_lab, "fores1", f"ip route add blackhole {addresses['fores3']}/32")
    try:
        found = run()
    finally:
        run_ok(small_lab, "fores1", f"ip route del blackhole {addresses['fores3']}/32")
    assert found["fores1"]["status"] == "critical" and found["fores2"]["status"] == "ok"


def test_throughput_between_two_lab_hosts(small_lab, tmp_path):
    for host in ("fores1", "fores2"):
        run_ok(small_lab, host, "DEBIAN_FRONTEND=noninteractive apt-get install -y -q iperf3 >/dev/null 2>&1")
    suite = tmp_path / "throughput.yml"
    suite.write_text("checks:\n  - {kind: throughput, server: fores2, hosts: [fores1], seconds: 2}\n")
    proc = subprocess.run(
        [str(BIN / "fleetops"), "check", "-i", str(small_lab.inventory), "--suite", str(suite), "--json", "--no-history"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    result = next(r for r in json.loads(proc.stdout)["results"] if r["kind"] == "throughput")
    assert result["status"] == "ok" and result["value"] > 100, result["message"]  # Mbit/s on the lab bridge
    assert result["unit"] == "Mbit/s" and "throughput to fores2" in result["message"]
