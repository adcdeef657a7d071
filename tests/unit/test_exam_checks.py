"""The check kinds exams need (sudo, config, unit, timer, login), judged from captured data."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetops.checks.base import Target
from fleetops.checks.config import values_at
from fleetops.checks.privileges import parse_sudo_list
from fleetops.checks.result import Status
from fleetops.checks.suite import parse_suite
from fleetops.errors import InputError

DATA = Path(__file__).parent / "data" / "exam"


def check(**declaration):
    return parse_suite({"checks": [declaration]}, "test").checks[0]


def sudo_raw(commands: dict[str, bool]) -> dict:
    return {"user_exists": True, "list": (DATA / "sudo-l-dev.txt").read_text(), "commands": commands}


def test_sudo_list_is_parsed_with_tags_and_commands():
    rules = parse_sudo_list((DATA / "sudo-l-dev.txt").read_text())
    assert [r.runas for r in rules] == ["root", "ALL : ALL"]
    assert rules[0].tags == {"NOPASSWD"}
    assert rules[0].commands == ("/usr/bin/systemctl restart nginx", "/usr/bin/journalctl")
    assert rules[0].covers("/usr/bin/journalctl -u nginx")  # no arguments in sudoers: any allowed
    assert not rules[0].covers("/usr/bin/systemctl stop nginx")


def test_sudo_allows_nopasswd_and_denies():
    c = check(
        kind="sudo", user="dev417", allows="/usr/bin/systemctl restart nginx", nopasswd=True, denies=["/bin/bash"]
    )
    ok = c.verdict(sudo_raw({"/usr/bin/systemctl restart nginx": True, "/bin/bash": False}))
    assert ok.status == Status.OK, ok.message
    wide = c.verdict(sudo_raw({"/usr/bin/systemctl restart nginx": True, "/bin/bash": True}))
    assert wide.status == Status.CRITICAL and "/bin/bash is allowed" in wide.message


def test_sudo_password_needed_fails_nopasswd():
    c = check(kind="sudo", user="dev417", allows="/usr/bin/apt-get install x", nopasswd=True)
    outcome = c.verdict(sudo_raw({"/usr/bin/apt-get install x": True}))
    assert outcome.status == Status.CRITICAL and "asks for a password" in outcome.message


def test_sudo_missing_user_and_bad_declaration():
    c = check(kind="sudo", user="ghost", allows="/bin/true")
    assert c.verdict({"user_exists": False, "list": "", "commands": {}}).status == Status.CRITICAL
    with pytest.raises(InputError, match="full path"):
        check(kind="sudo", user="dev", allows="systemctl restart nginx")
    with pytest.raises(InputError, match="needs allows"):
        check(kind="sudo", user="dev")


@pytest.mark.parametrize(
    ("fmt", "text", "key", "expected"),
    [
        (
            "keyvalue",
            "anonymous_enable=NO\n# chroot_local_user=NO\nchroot_local_user=YES\n",
            "chroot_local_user",
            ["YES"],
        ),
        ("keyvalue", "a=1\na=2\n", "a", ["2"]),
        ("sshd", "PasswordAuthentication no\npasswordauthentication yes\n", "PasswordAuthentication", ["no"]),
        ("sshd", "Match User x\n  PermitRootLogin yes\n", "PermitRootLogin", []),
        ("ini", "[server]\napi = http://10.0.0.2:8000\n", "server.api", ["http://10.0.0.2:8000"]),
        ("ini", "top = 1\n", "top", ["1"]),
        ("json", '{"server": {"api": "https://p:8443"}, "models": [{"path": "/m"}]}', "models.0.path", ["/m"]),
        ("yaml", "threshold: 0.6\nenabled: true\n", "enabled", ["true"]),
    ],
)
def test_config_formats(fmt, text, key, expected):
    assert values_at(text, fmt, key) == expected


def test_config_nginx_paths_from_a_real_site_file():
    text = (DATA / "nginx-site.conf").read_text()
    assert values_at(text, "nginx", "server.listen") == ["8081", "[::]:8081"]
    assert values_at(text, "nginx", "server.root") == ["/var/www/shop"]
    c = check(kind="config", path="/etc/nginx/sites-enabled/shop", format="nginx", key="server.listen", equals=8081)
    assert c.verdict({"exists": True, "text": text}).status == Status.OK
    broken = c.verdict({"exists": True, "text": "server { listen 80;"})
    assert broken.status == Status.CRITICAL and "not valid nginx" in broken.message


def test_config_judgements():
    c = check(
        kind="config",
        path="/etc/vsftpd.conf",
        format="keyvalue",
        key="chroot_local_user",
        equals="yes",
        case_sensitive=False,
    )
    assert c.verdict({"exists": True, "text": "chroot_local_user=YES\n"}).status == Status.OK
    assert c.verdict({"exists": True, "text": "chroot_local_user=NO\n"}).status == Status.CRITICAL
    assert c.verdict({"exists": False}).status == Status.CRITICAL
    assert c.verdict({"exists": True, "text": ""}).message.endswith("is not set")
    absent = check(kind="config", path="/etc/x.json", format="json", key="debug", present=False)
    assert absent.verdict({"exists": True, "text": "{}"}).status == Status.OK
    assert absent.verdict({"exists": True, "text": '{"debug": 1}'}).status == Status.CRITICAL
    assert absent.verdict({"exists": True, "text": "{"}).status == Status.CRITICAL  # not valid json


def test_unit_reads_drop_ins_in_order():
    c = check(kind="unit", unit="fleetops-edge.service", restart="always", wanted_by="multi-user.target", enabled=True)
    raw = {
        "props": {"LoadState": "loaded", "UnitFileState": "enabled", "ActiveState": "active"},
        "text": (DATA / "edge-unit.txt").read_text(),
    }
    assert c.verdict(raw).status == Status.OK
    wrong = check(kind="unit", unit="fleetops-edge.service", restart="on-failure")
    assert "Restart=always (expected on-failure)" in wrong.verdict(raw).message
    disabled = {**raw, "props": {**raw["props"], "UnitFileState": "disabled"}}
    assert c.verdict(disabled).status == Status.CRITICAL
    missing = c.verdict({"props": {"LoadState": "not-found"}, "text": ""})
    assert "not found" in missing.message


def test_timer_calendar_normalised_on_both_sides():
    c = check(kind="timer", unit="backup.timer", on_calendar="daily", persistent=True)
    raw = {
        "props": {"LoadState": "loaded", "ActiveState": "active"},
        "text": "[Timer]\nOnCalendar=*-*-* 00:00:00\nPersistent=true\n",
        "calendar_normalized": "*-*-* 00:00:00",
        "calendars_normalized": ["*-*-* 00:00:00"],
    }
    assert c.verdict(raw).status == Status.OK
    hourly = {**raw, "text": "[Timer]\nOnCalendar=hourly\n", "calendars_normalized": ["*-*-* *:00:00"]}
    outcome = c.verdict(hourly)
    assert (
        outcome.status == Status.CRITICAL
        and "expected daily" in outcome.message
        and "Persistent=false" in outcome.message
    )


def test_login_is_refused_or_unknown_never_a_silent_pass():
    c = check(kind="login", user="dev417", password="s3cret-pass")
    assert c.where == "controller"
    assert c.judge({"login": True, "ms": 12.0}).status == Status.OK
    assert c.judge({"login": False, "reason": "authentication refused"}).status == Status.CRITICAL
    assert c.judge({"error": "host key of x is not in y"}).status == Status.UNKNOWN
    refused = check(kind="login", user="dev417", password="s3cret-pass", expect=False)
    assert refused.judge({"login": False, "reason": "authentication refused"}).status == Status.OK
    assert refused.judge({"login": True}).status == Status.CRITICAL


def test_login_to_a_closed_port_is_unknown():
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    c = check(kind="login", user="dev417", password="s3cret-pass", port=port, timeout=2)
    outcome = c.verdict(c.collect(Target("x", "127.0.0.1"), timeout=2))
    assert outcome.status == Status.UNKNOWN and "cannot connect" in outcome.message
