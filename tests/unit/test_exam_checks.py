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


# ----- onnx, sql, report_matches -----------------------------------------------------------
EDGE_MODEL = Path(__file__).parents[2] / "exams/e-j-edge-app/files/digits"


def probe_locally(request: dict) -> dict:
    """Run a probe of checks/probe.py on this machine, as the probe script would on a host."""
    import ast
    import subprocess
    import sys

    from fleetops.checking.remote import build_script

    proc = subprocess.run(
        [sys.executable, "-"], input=build_script([{"id": "0", **request}]), capture_output=True, timeout=60, check=True
    )
    raw = ast.literal_eval(proc.stdout.decode().splitlines()[1])["results"]["0"]
    raw.pop("_seconds", None)
    return raw


def test_onnx_model_is_checked_on_the_controller_with_golden_inputs(tmp_path):
    pytest.importorskip("onnxruntime")
    c = check(
        kind="onnx",
        path=str(EDGE_MODEL / "model.onnx"),
        opset=13,
        inputs=["X"],
        golden=str(EDGE_MODEL / "manifest.json"),
        quantized=False,
        max_mb=1,
    )
    outcome = c.verdict(probe_locally(c.probe()))
    assert outcome.status == Status.OK, outcome.message
    assert 0.05 < outcome.value < 0.1  # MB
    strict = check(kind="onnx", path=str(EDGE_MODEL / "model.onnx"), opset=99, inputs=["image"], quantized=True)
    message = strict.verdict(probe_locally(strict.probe())).message
    assert "opset 15 (need at least 99)" in message and "no input image" in message and "not quantized" in message


def test_onnx_refuses_a_truncated_or_missing_model(tmp_path):
    pytest.importorskip("onnx")
    broken = tmp_path / "model.onnx"
    broken.write_bytes((EDGE_MODEL / "model.onnx").read_bytes()[:3000])
    c = check(kind="onnx", path=str(broken))
    outcome = c.verdict(probe_locally(c.probe()))
    assert outcome.status == Status.CRITICAL and "not a valid ONNX model" in outcome.message
    missing = check(kind="onnx", path=str(tmp_path / "none.onnx"))
    assert "does not exist" in missing.verdict(probe_locally(missing.probe())).message


def test_onnx_golden_inputs_catch_a_different_model(tmp_path):
    pytest.importorskip("onnxruntime")
    import json

    manifest = json.loads((EDGE_MODEL / "manifest.json").read_text())
    for golden in manifest["golden"]:
        golden["label"] = "7" if golden["label"] != "7" else "3"  # what a wrong conversion would answer
    wrong = tmp_path / "manifest.json"
    wrong.write_text(json.dumps(manifest))
    c = check(kind="onnx", path=str(EDGE_MODEL / "model.onnx"), golden=str(wrong))
    outcome = c.verdict(probe_locally(c.probe()))
    assert outcome.status == Status.CRITICAL and "golden:" in outcome.message


def test_sql_judges_client_side_answers():
    c = check(
        kind="sql",
        user="shop_app",
        password="app-secret",
        database="shop",
        query="SELECT COUNT(*) FROM orders",
        equals=42,
    )
    assert "app-secret" in str(c.probe()["args"])  # sent on the probe's stdin, never argv
    assert c.judge({"exit": 0, "stdout": "42\n", "stderr": ""}).status == Status.OK
    assert "'41' (expected '42')" in c.judge({"exit": 0, "stdout": "41\n", "stderr": ""}).message
    denied = (
        "ERROR 1142 (42000) at line 1: SELECT command denied to user 'shop_app'@'localhost' for table `shop`.`orders`\n"
    )
    assert c.judge({"exit": 1, "stdout": "", "stderr": denied}).status == Status.CRITICAL
    refuse = check(kind="sql", user="shop_ro", password="ro-secret", query="DELETE FROM shop.orders", expect_error=True)
    assert refuse.judge({"exit": 1, "stdout": "", "stderr": denied}).status == Status.OK
    assert refuse.judge({"exit": 0, "stdout": "", "stderr": ""}).status == Status.CRITICAL
    with pytest.raises(InputError, match="line break"):
        check(kind="sql", user="u", password="abcd\nefgh", query="SELECT 1")


def test_sql_probe_keeps_the_password_off_argv(monkeypatch):
    """The probe's mysql command line, captured: the password is only in a removed 0600 file."""
    import os

    from fleetops.checks import probe

    seen = {}

    def fake_run(argv, timeout=10):
        option = next(a for a in argv if a.startswith("--defaults-extra-file="))
        path = option.split("=", 1)[1]
        seen["argv"], seen["mode"], seen["text"] = argv, os.stat(path).st_mode & 0o777, open(path).read()
        seen["path"] = path
        return 0, "1\n", ""

    monkeypatch.setattr(probe, "run", fake_run)
    probe.probe_sql({"user": "u", "password": 'p"w\\d', "query": "SELECT 1", "database": "shop", "host": None})
    assert not any('p"w' in a for a in seen["argv"]) and seen["mode"] == 0o600
    assert seen["text"] == '[client]\npassword="p\\"w\\\\d"\n' and not os.path.exists(seen["path"])


def test_report_matches_compares_with_a_measurement(tmp_path):
    report = tmp_path / "report.txt"
    report.write_text("cpu count: 4\np95 latency: 12.5 ms\n")
    c = check(kind="report_matches", path=str(report), pattern=r"p95 latency: ([0-9.]+)", tolerance=0.1,
              measure={"kind": "command", "command": "echo 12.0", "value_from": "stdout"})  # fmt: skip
    outcome = c.verdict(probe_locally(c.probe()))
    assert outcome.status == Status.OK, outcome.message
    far = check(kind="report_matches", path=str(report), pattern=r"p95 latency: ([0-9.]+)", tolerance=0.01,
                measure={"kind": "command", "command": "echo 20", "value_from": "stdout"})  # fmt: skip
    assert "12.5, measured 20" in far.verdict(probe_locally(far.probe())).message
    with pytest.raises(InputError, match="needs a group"):
        check(kind="report_matches", path="/r", pattern="p95", measure={"kind": "disk"})
    with pytest.raises(InputError, match="host-side"):
        check(kind="report_matches", path="/r", pattern="(1)", measure={"kind": "tcp", "port": 22})
