"""Check kinds judged from captured probe data (no network), like pyinfra fact tests."""

import pytest
from pydantic import ValidationError

from fleetops.checks.registry import CHECK_LIST
from fleetops.checks.result import Status, worst


def check(**declaration):
    return CHECK_LIST.validate_python([declaration])[0]


def test_worst_ranks_critical_over_unknown_over_warning():
    assert worst([]) == Status.OK
    assert worst([Status.OK, Status.WARNING]) == Status.WARNING
    assert worst([Status.WARNING, Status.UNKNOWN]) == Status.UNKNOWN
    assert worst([Status.UNKNOWN, Status.CRITICAL, Status.OK]) == Status.CRITICAL


@pytest.mark.parametrize(
    "used, expected", [(50, Status.OK), (85, Status.WARNING), (90, Status.CRITICAL), (99.9, Status.CRITICAL)]
)
def test_disk_thresholds(used, expected):
    disk = check(kind="disk")
    raw = {
        "filesystems": [{"path": "/", "used": used, "free": 100 - used, "blocks": 100, "inodes": 10, "inodes_free": 9}]
    }
    outcome = disk.judge(raw)
    assert outcome.status == expected
    assert outcome.value == pytest.approx(used)
    assert "disk /" in outcome.message


def test_disk_reports_the_worst_filesystem_and_unknown_on_missing_path():
    disk = check(kind="disk", paths=["/", "/srv"])
    raw = {
        "filesystems": [
            {"path": "/", "used": 10, "free": 90, "blocks": 100, "inodes": 1, "inodes_free": 1},
            {"path": "/srv", "used": 95, "free": 5, "blocks": 100, "inodes": 1, "inodes_free": 1},
        ]
    }
    outcome = disk.judge(raw)
    assert outcome.status == Status.CRITICAL and "/srv" in outcome.message
    missing = disk.judge({"filesystems": [{"path": "/srv", "error": "No such file or directory"}]})
    assert missing.status == Status.UNKNOWN


def test_inodes_skip_filesystems_without_inode_limits():
    inodes = check(kind="inodes")
    raw = {"filesystems": [{"path": "/", "used": 1, "free": 1, "blocks": 2, "inodes": 0, "inodes_free": 0}]}
    assert inodes.judge(raw).status == Status.OK


def test_load_is_per_cpu():
    load = check(kind="load", warn=1, crit=2)
    assert load.judge({"load1": 3.0, "load5": 0, "load15": 0, "cpus": 4}).status == Status.OK
    assert load.judge({"load1": 3.0, "load5": 0, "load15": 0, "cpus": 2}).status == Status.WARNING
    assert load.judge({"load1": 9.0, "load5": 0, "load15": 0, "cpus": 2}).status == Status.CRITICAL


def test_memory_and_swap():
    raw = {"mem_total": 1000, "mem_available": 40, "swap_total": 0, "swap_free": 0}
    assert check(kind="memory").judge(raw).status == Status.CRITICAL  # 96 % used
    assert check(kind="swap").judge(raw).status == Status.OK  # no swap
    raw.update(swap_total=100, swap_free=40)
    assert check(kind="swap").judge(raw).status == Status.WARNING  # 60 %


def test_uptime_lower_is_worse():
    uptime = check(kind="uptime", warn=600, crit=60)
    assert uptime.judge({"seconds": 30}).status == Status.CRITICAL
    assert uptime.judge({"seconds": 300}).status == Status.WARNING
    assert uptime.judge({"seconds": 3600}).status == Status.OK


def test_threshold_order_is_validated():
    with pytest.raises(ValidationError, match="crit"):
        check(kind="disk", warn=95, crit=90)
    with pytest.raises(ValidationError, match="crit"):
        check(kind="uptime", warn=60, crit=600)


def test_clock_offset_is_distance_from_the_send_receive_window():
    clock = check(kind="clock")
    assert clock.judge({"remote": 100.2, "sent": 100.0, "received": 100.5}).value == 0.0
    skewed = clock.judge({"remote": 103.5, "sent": 100.0, "received": 100.5})
    assert skewed.status == Status.CRITICAL and skewed.value == pytest.approx(3.0)
    assert clock.judge({"remote": 99.0, "sent": 100.0, "received": 100.5}).status == Status.WARNING


def test_service_states():
    service = check(kind="service", unit="nginx")
    assert service.name == "service:nginx"
    ok = {"load": "loaded", "active": "active", "sub": "running", "enabled": "enabled"}
    assert service.judge(ok).status == Status.OK
    assert service.judge({**ok, "active": "inactive", "sub": "dead"}).status == Status.CRITICAL
    assert service.judge({**ok, "enabled": "disabled"}).status == Status.CRITICAL
    assert check(kind="service", unit="nginx", enabled=None).judge({**ok, "enabled": "disabled"}).status == Status.OK
    assert service.judge({**ok, "load": "not-found"}).message == "unit nginx not found"


def test_severity_warning_caps_a_failure():
    service = check(kind="service", unit="nginx", severity="warning")
    outcome = service.judge({"load": "loaded", "active": "failed", "sub": "failed", "enabled": "enabled"})
    assert outcome.status == Status.CRITICAL
    assert service.result("web1", outcome).status == Status.WARNING


def test_process_and_port():
    assert check(kind="process", process="nginx").judge({"count": 0}).status == Status.CRITICAL
    assert check(kind="process", process="nginx", max_count=2).judge({"count": 3}).status == Status.CRITICAL
    assert check(kind="process", pattern="nginx: master").judge({"count": 1}).status == Status.OK
    with pytest.raises(ValidationError, match="process"):
        check(kind="process")
    with pytest.raises(ValidationError, match="regular expression"):
        check(kind="process", pattern="(")
    assert check(kind="port", port=80).judge({"listening": False, "sockets": []}).status == Status.CRITICAL


def test_file_checks():
    declared = check(kind="file", path="/etc/x", mode="644", owner="root", sha256="a" * 64)
    raw = {
        "exists": True,
        "mode": "0644",
        "owner": "root",
        "group": "root",
        "is_file": True,
        "is_dir": False,
        "is_link": False,
        "sha256": "a" * 64,
        "contains": None,
    }
    assert declared.judge(raw).status == Status.OK
    bad = declared.judge({**raw, "mode": "0666", "owner": "nobody"})
    assert bad.status == Status.CRITICAL and "mode 0666" in bad.message and "owner nobody" in bad.message
    assert declared.judge({"exists": False}).status == Status.CRITICAL
    assert check(kind="file", path="/etc/x", exists=False).judge({"exists": False}).status == Status.OK
    with pytest.raises(ValidationError):
        check(kind="file", path="relative/path")


def test_package_version_pattern():
    package = check(kind="package", package="nginx", version="1.22*")
    assert package.judge({"installed": True, "version": "1.22.1-9"}).status == Status.OK
    assert package.judge({"installed": True, "version": "1.24.0-1"}).status == Status.CRITICAL
    assert package.judge({"installed": False, "version": None}).status == Status.CRITICAL
    with pytest.raises(ValidationError):
        check(kind="package", package="nginx; rm -rf /")


def test_user_checks_and_unknown_without_shadow():
    user = check(kind="user", user="ops", member_of=["ops", "sudo"], shell="/bin/bash", locked=False)
    raw = {
        "exists": True,
        "uid": 1000,
        "shell": "/bin/bash",
        "home": "/home/ops",
        "groups": ["ops", "sudo"],
        "locked": False,
        "expired": False,
    }
    assert user.judge(raw).status == Status.OK
    assert "not in group(s) sudo" in user.judge({**raw, "groups": ["ops"]}).message
    assert user.judge({**raw, "locked": True}).status == Status.CRITICAL
    assert user.judge({"exists": False}).status == Status.CRITICAL
    unreadable = user.judge({**raw, "locked": None, "locked_error": "reading /etc/shadow needs root"})
    assert unreadable.status == Status.UNKNOWN and "needs root" in unreadable.message
    with pytest.raises(ValidationError):
        check(kind="user", user="Robert'); DROP")


def test_group_members():
    group = check(kind="group", group="students", members=["student"])
    assert group.judge({"exists": True, "gid": 1001, "members": ["student"]}).status == Status.OK
    assert group.judge({"exists": True, "gid": 1001, "members": []}).status == Status.CRITICAL


def test_command_exit_match_and_timeout():
    command = check(kind="command", command="nginx -t", match="successful")
    assert command.name.startswith("command:nginx-t")
    raw = {"exit": 0, "stdout": "test is successful\n", "stderr": "", "seconds": 0.1}
    assert command.judge(raw).status == Status.OK
    assert command.judge({**raw, "exit": 1, "stderr": "emerg: bad\n"}).message.startswith("exit 1")
    assert command.judge({**raw, "stdout": "nope"}).status == Status.CRITICAL
    assert command.judge({"timeout": True, "seconds": 10}).status == Status.CRITICAL


def test_dns_expected_addresses():
    dns = check(kind="dns", query="example.org", addresses=["192.0.2.1"])
    assert dns.judge({"resolved": True, "addresses": ["192.0.2.1"], "seconds": 0.01}).status == Status.OK
    assert dns.judge({"resolved": True, "addresses": ["192.0.2.9"], "seconds": 0.01}).status == Status.CRITICAL
    assert dns.judge({"resolved": False, "error_text": "NXDOMAIN", "seconds": 0.01}).status == Status.CRITICAL


def test_http_judgement_and_url_validation():
    http = check(kind="http", url="http://{address}/", body="welcome")
    raw = {"url": "http://10.0.0.1/", "status": 200, "body": "welcome home", "ms": 12.0}
    assert http.judge(raw).status == Status.OK
    assert http.judge({**raw, "status": 502}).status == Status.CRITICAL
    assert http.judge({**raw, "ms": 1500.0}).status == Status.WARNING
    assert http.judge({"error": "GET http://x/: Connection refused"}).status == Status.CRITICAL
    with pytest.raises(ValidationError, match="http"):
        check(kind="http", url="ftp://x/")


def test_tls_days_lower_is_worse():
    tls = check(kind="tls")
    facts = {"name": "a", "not_after": "", "names": ["a"], "name_matches": True}
    assert tls.judge({**facts, "days": 90}).status == Status.OK
    assert tls.judge({**facts, "days": 10}).status == Status.WARNING
    assert tls.judge({**facts, "days": 2}).status == Status.CRITICAL
    assert "expired" in tls.judge({**facts, "days": -3}).message


def test_probe_errors_are_unknown_not_pass():
    for declaration in (
        {"kind": "disk"},
        {"kind": "service", "unit": "x"},
        {"kind": "user", "user": "x"},
        {"kind": "package", "package": "x"},
    ):
        assert check(**declaration).verdict({"error": "boom"}).status == Status.UNKNOWN


def test_unknown_keys_are_rejected():
    with pytest.raises(ValidationError, match="extra"):
        check(kind="disk", treshold=3)
