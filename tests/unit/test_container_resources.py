"""load, memory and swap in containers: the host's own cgroup, not the shared kernel's figures.
Probe parsing from files captured on a lab host (systemd-nspawn on a hybrid cgroup v1/v2 machine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetops.checks.probe import parse_pressure
from fleetops.checks.result import Status
from fleetops.checks.suite import parse_suite

DATA = Path(__file__).parent / "data"
PSI = "some avg10=3.26 avg60=0.58 avg300=0.12 total=397470\nfull avg10=0.54 avg60=0.09 avg300=0.02 total=90941\n"
BUSY_PSI = "some avg10=88.10 avg60=71.35 avg300=30.02 total=9397470\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"


def check(**declaration):
    return parse_suite({"checks": [declaration]}, "test").checks[0]


@pytest.fixture
def probe():
    """The probe script's module (monkeypatched per test: its file reads are faked)."""
    from fleetops.checks import probe

    return probe


def fake_files(monkeypatch, probe, files: dict[str, str]) -> None:
    monkeypatch.setattr(probe, "_read", lambda path: files[path].strip() if path in files else None)


def test_v1_memory_cgroup_of_an_nspawn_host(monkeypatch, probe):
    fake_files(monkeypatch, probe, {
        "/sys/fs/cgroup/memory/memory.usage_in_bytes": (DATA / "cgroup-v1-memory.usage_in_bytes").read_text(),
        "/sys/fs/cgroup/memory/memory.stat": (DATA / "cgroup-v1-memory.stat").read_text(),
        "/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712",
        "/sys/fs/cgroup/memory/memory.memsw.usage_in_bytes": (DATA / "cgroup-v1-memory.usage_in_bytes").read_text(),
        "/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes": "9223372036854771712",
    })  # fmt: skip
    found = probe.cgroup_memory()
    assert found["limit"] is None and found["swap_limit"] is None and found["swap_usage"] == 0
    usage = int((DATA / "cgroup-v1-memory.usage_in_bytes").read_text())
    assert 0 < found["usage"] < usage  # the reclaimable page cache is not counted
    assert found["source"] == "/sys/fs/cgroup/memory/memory.usage_in_bytes"


def test_v2_memory_cgroup_with_a_limit(monkeypatch, probe):
    fake_files(monkeypatch, probe, {
        "/sys/fs/cgroup/memory.current": "966367641",
        "/sys/fs/cgroup/memory.stat": "anon 800000000\ninactive_file 100000000\n",
        "/sys/fs/cgroup/memory.max": "1073741824",
        "/sys/fs/cgroup/memory.swap.current": "0",
        "/sys/fs/cgroup/memory.swap.max": "max",
    })  # fmt: skip
    found = probe.cgroup_memory()
    assert found == {"source": "/sys/fs/cgroup/memory.current", "usage": 866367641, "limit": 1073741824,
                     "swap_usage": 0, "swap_limit": None}  # fmt: skip
    memory = check(kind="memory").verdict(
        {"mem_total": 25 * 2**30, "mem_available": 1, "container": None, "cgroup": found}
    )
    assert memory.status == Status.OK and "80.7" in memory.message and "its limit" in memory.message


def test_cpu_quota_v2_and_v1(monkeypatch, probe):
    fake_files(monkeypatch, probe, {"/sys/fs/cgroup/cpu.max": "150000 100000"})
    assert probe.cpu_quota() == 1.5
    fake_files(monkeypatch, probe, {"/sys/fs/cgroup/cpu.max": "max 100000"})
    assert probe.cpu_quota() is None
    fake_files(
        monkeypatch,
        probe,
        {"/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "-1", "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000"},
    )
    assert probe.cpu_quota() is None


def load_raw(psi: str, load1: float = 4.48, container: str | None = "systemd-nspawn", quota=None) -> dict:
    from_cgroup = {"source": "/sys/fs/cgroup/unified/cpu.pressure", **parse_pressure(psi)}
    return {
        "load1": load1,
        "load5": 1.0,
        "load15": 1.0,
        "cpus": 2,
        "container": container,
        "quota_cpus": quota,
        "pressure": from_cgroup,
    }


def test_load_in_a_container_judges_its_own_cpu_pressure_not_the_machine_load():
    quiet = check(kind="load").verdict(load_raw(PSI, load1=4.48))  # a neighbour keeps the machine busy
    assert (
        quiet.status == Status.OK
        and "cpu pressure 0.6%" in quiet.message
        and "machine load 4.48 not judged" in quiet.message
    )
    busy = check(kind="load").verdict(load_raw(BUSY_PSI, load1=4.48))
    assert busy.status == Status.CRITICAL and "71.3" in busy.message
    warned = check(kind="load", pressure_warn=0.5).verdict(load_raw(PSI))
    assert warned.status == Status.WARNING


def test_load_outside_containers_is_the_load_average_per_cpu_with_a_quota():
    plain = check(kind="load").verdict(load_raw(PSI, load1=4.48, container=None))
    assert plain.status == Status.WARNING and "load per CPU 2.24" in plain.message
    quota = check(kind="load").verdict(load_raw(PSI, load1=1.0, container=None, quota=0.5))
    assert "load per CPU 2.00" in quota.message and "cgroup quota" in quota.message
    forced = check(kind="load", source="loadavg").verdict(load_raw(PSI, load1=1.0))
    assert "load per CPU 0.50" in forced.message


def test_memory_of_a_container_without_limit_is_its_share_of_the_machine():
    raw = {"mem_total": 24 * 2**30, "mem_available": 2 * 2**30, "container": "systemd-nspawn",
           "cgroup": {"source": "/sys/fs/cgroup/memory/memory.usage_in_bytes", "usage": 2**30, "limit": None,
                      "swap_usage": 0, "swap_limit": None}}  # fmt: skip
    outcome = check(kind="memory").verdict(raw)
    assert outcome.status == Status.OK and "4.2%" in outcome.message and "no limit" in outcome.message
    plain = check(kind="memory").verdict({**raw, "container": None, "cgroup": None})
    assert plain.status == Status.WARNING and "system-wide" in plain.message  # 91.7% of the machine in use


def test_swap_of_a_container_with_a_swap_limit():
    raw = {"mem_total": 1, "mem_available": 1, "swap_total": 0, "swap_free": 0, "container": "lxc",
           "cgroup": {"swap_usage": 900 * 2**20, "swap_limit": 2**30}}  # fmt: skip
    assert check(kind="swap").verdict(raw).status == Status.CRITICAL
    assert check(kind="swap").verdict({**raw, "container": None}).message == "no swap configured"
