"""The baseline role on a real fleet: converges, converges again with zero changes, works."""

from __future__ import annotations

import hashlib

import paramiko
import pytest

from fleetops.runner.record import validate
from tests.e2e.conftest import HERE, REPO
from tests.e2e.helpers import run

pytestmark = pytest.mark.lab
BASELINE = REPO / "deploys/baseline.py"


def test_first_converge_changes_every_host(converged):
    validate(converged)
    assert converged["summary"]["hosts"] == 3
    assert converged["summary"]["failed"] == converged["summary"]["unreachable"] == 0
    for name, host in converged["hosts"].items():
        assert host["status"] == "changed", name
        changed = {op["name"].split(" | ")[-1] for op in host["operations"] if op["changed"]}
        assert {"User ops", "sudo rule ops", "sshd hardening drop-in", "Install development tools"} <= changed


def test_second_converge_changes_nothing(converged, deploy):
    code, record, err = deploy(BASELINE)
    assert code == 0, err
    validate(record)
    assert record["summary"]["changed"] == 0
    for name, host in record["hosts"].items():
        assert host["status"] == "ok", name
        assert [op["name"] for op in host["operations"] if op["status"] != "ok"] == []


def test_dry_run_after_converge_is_clean(converged, deploy):
    code, record, _err = deploy(BASELINE, "--dry")
    assert code == 0
    assert record["dry_run"] is True and record["status"] == "ok"


def test_users_log_in_with_their_key_and_sudo_rules_hold(converged, lab):
    assert run(lab, "e2e1", "id -un; sudo -n true && echo sudo-ok", user="ops")[1].split() == ["ops", "sudo-ok"]
    code, out, err = run(lab, "e2e1", "sudo -n true", user="student")
    assert code != 0 and "password is required" in err
    with pytest.raises(paramiko.AuthenticationException):
        run(lab, "e2e1", "true", user="leaver")  # locked and expired: even its key is refused


def test_system_settings_and_dev_tools(converged, lab):
    code, out, _ = run(
        lab, "e2e2", "hostname; cat /etc/timezone; git --version; python3 -m venv /tmp/v && echo venv-ok"
    )
    assert code == 0
    lines = out.split("\n")
    assert lines[0] == "e2e2" and lines[1] == "Europe/Berlin"
    assert lines[2].startswith("git version") and "venv-ok" in out
    code, out, _ = run(lab, "e2e2", "sshd -T | grep -E '^(permitrootlogin|passwordauthentication|maxauthtries) '")
    assert sorted(out.split("\n")[:3]) == [
        "maxauthtries 4",
        "passwordauthentication no",
        "permitrootlogin without-password",
    ]


def test_dry_run_shows_drift_and_changes_nothing(converged, deploy, lab):
    run(lab, "e2e1", "rm -f /etc/sudoers.d/fleetops-ops")
    code, record, _err = deploy(BASELINE, "--dry", "--limit", "e2e1")
    assert code == 4
    assert record["status"] == "pending" and list(record["hosts"]) == ["e2e1"]
    pending = [op for op in record["hosts"]["e2e1"]["operations"] if op["status"] == "pending"]
    assert [op["name"].split(" | ")[-1] for op in pending] == ["sudo rule ops"]
    assert "+ %ops ALL=(ALL) NOPASSWD: ALL" in pending[0]["diff"]
    assert run(lab, "e2e1", "test -e /etc/sudoers.d/fleetops-ops")[0] == 1  # still absent
    code, record, _err = deploy(BASELINE, "--limit", "e2e1")
    assert code == 0 and record["summary"]["changed"] == 1
    assert run(lab, "e2e1", "test -e /etc/sudoers.d/fleetops-ops")[0] == 0


def test_canary_secret_never_leaks(converged, deploy, lab, isolated_runs):
    from tests.e2e.group_data.all import CANARY_HASH

    run(lab, "e2e3", "usermod -p '*' canary")  # force the password operation to run again
    code, record, err = deploy(BASELINE, "--limit", "e2e3", "-vvv")
    assert code == 0
    assert "Running command" in err  # -vvv shows every remote command line...
    assert CANARY_HASH not in err  # ...and the secret is on none of them, nor in any log line
    assert CANARY_HASH not in str(record)
    for path in isolated_runs.glob("*.json"):
        assert CANARY_HASH not in path.read_text()
    digest = hashlib.sha256((CANARY_HASH + "\n").encode()).hexdigest()
    assert run(lab, "e2e3", "getent shadow canary | cut -d: -f2 | sha256sum")[1].split()[0] == digest


def test_invalid_config_is_rejected_and_old_one_kept(converged, deploy, lab):
    """managed_file validates with visudo before the rename: a bad file never lands."""
    before = run(lab, "e2e2", "cat /etc/sudoers.d/fleetops-ops")[1]
    code, record, _err = deploy(HERE / "deploys/bad_sudo.py", "--limit", "e2e2")
    assert code == 1
    host = record["hosts"]["e2e2"]
    assert host["status"] == "failed"
    assert "syntax error" in host["operations"][0]["error"]
    assert run(lab, "e2e2", "cat /etc/sudoers.d/fleetops-ops")[1] == before
    assert run(lab, "e2e2", "ls -A /etc/sudoers.d | grep -c fleetops-tmp")[1].strip() == "0"
    assert run(lab, "e2e2", "sudo -n true && echo ok", user="ops")[1].strip() == "ok"
