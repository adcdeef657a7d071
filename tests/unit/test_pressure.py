"""The ``pressure`` check (Linux PSI) from captured pressure files: parsing, which source is read
(the host's own cgroup before the system-wide file), judging, and a host without PSI."""

from __future__ import annotations

import pytest

from fleetops.checks.base import Outcome
from fleetops.checks.probe import parse_pressure, probe_pressure
from fleetops.checks.result import Status
from fleetops.checks.suite import parse_suite

# as read on this machine's kernel (/proc/pressure/cpu) and from a busy container's cgroup
SYSTEM_CPU = "some avg10=1.37 avg60=1.35 avg300=5.77 total=547026172\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
BUSY_CGROUP_CPU = (
    "some avg10=93.10 avg60=61.52 avg300=22.04 total=98123456\nfull avg10=40.00 avg60=31.25 avg300=9.10 total=5012\n"
)


def check(**declared):
    return parse_suite({"checks": [{"kind": "pressure", **declared}]}, "t").checks[0]


def test_pressure_lines_are_parsed():
    parsed = parse_pressure(SYSTEM_CPU)
    assert parsed["some"] == {"avg10": 1.37, "avg60": 1.35, "avg300": 5.77}
    assert parsed["full"]["avg60"] == 0.0


def test_the_hosts_own_cgroup_is_read_before_the_system_wide_file(tmp_path, monkeypatch):
    from fleetops.checks import probe

    cgroup, system = tmp_path / "cpu.pressure", tmp_path / "system-cpu"
    system.write_text(SYSTEM_CPU)
    monkeypatch.setattr(probe, "PRESSURE_SOURCES", (str(cgroup), str(system)))
    assert probe_pressure({"resource": "cpu"})["source"] == str(system)  # no cgroup file: system-wide
    cgroup.write_text(BUSY_CGROUP_CPU)
    raw = probe_pressure({"resource": "cpu"})
    assert raw["source"] == str(cgroup) and raw["some"]["avg60"] == 61.52


def test_judgement_uses_scope_window_and_says_the_source():
    raw = {"source": "/sys/fs/cgroup/cpu.pressure", **parse_pressure(BUSY_CGROUP_CPU)}
    outcome: Outcome = check().verdict(raw)
    assert outcome.status == Status.CRITICAL and outcome.value == 61.52
    assert "this host's cgroup" in outcome.message and "(warn 20, crit 50)" in outcome.message
    assert check(window="avg300").verdict(raw).status == Status.WARNING
    assert check(scope="full", window="avg10", warn=50, crit=80).verdict(raw).status == Status.OK
    quiet = {"source": "/proc/pressure/cpu", **parse_pressure(SYSTEM_CPU)}
    ok = check().verdict(quiet)
    assert ok.status == Status.OK and "system-wide" in ok.message


def test_a_host_without_psi_is_unknown_not_ok(monkeypatch):
    from fleetops.checks import probe

    monkeypatch.setattr(probe, "PRESSURE_SOURCES", ("/nonexistent/a", "/nonexistent/b"))
    assert check().verdict(probe_pressure({"resource": "io"})).status == Status.UNKNOWN


@pytest.mark.parametrize("bad", [{"resource": "disk"}, {"scope": "most"}, {"window": "avg5"}])
def test_bad_declarations_are_refused(bad):
    from fleetops.errors import InputError

    with pytest.raises(InputError):
        check(**bad)
