"""Schedules on a lab host acting as the control node (this controller has no systemd as PID 1).

e2e2 gets fleetops from its offline bundle (``deploys/control.py``) and manages e2e1 and e2e3 with
its own key; its timers run checks and deploys against them. The notifications go to a real HTTP
receiver (bearer token checked) and a real SMTP server (STARTTLS and a login required), both on
this controller's lab bridge address, where the control node reaches them.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from fleetops import sshutil
from tests.e2e.helpers import address, fleetops, inventory_with, run, run_ok
from tests.schedule.receivers import HttpReceiver, SmtpReceiver

pytestmark = pytest.mark.lab

REPO = Path(__file__).parents[2]
NODE = "e2e2"
NODE_INVENTORY = "/etc/fleetops/inventory/inventory.py"
SUITE = """name: sched
checks:
  - {kind: service, unit: fleetops-sched-probe, name: probe-service, hosts: [e2e1]}
"""
SLOW_SUITE = """name: slow
checks:
  - {kind: command, command: "sleep 20", timeout: 30, name: slow, hosts: [e2e1]}
"""
PROBE_UNIT = """[Unit]
Description=a service the schedule tests stop and start
[Service]
ExecStart=/bin/sleep infinity
[Install]
WantedBy=multi-user.target
"""


@pytest.fixture(scope="module")
def control(lab, converged, tmp_path_factory):
    """The inventory with e2e2 in group control; the control role converged twice."""
    work = tmp_path_factory.mktemp("schedule")
    inventory = inventory_with(
        work, lab, "control", f"control = {{'targets': ['e2e1', 'e2e3'], 'deploys': {str(REPO / 'deploys')!r}}}",
    )  # fmt: skip
    with open(inventory, "a") as handle:
        handle.write(f"control = [(name, _HOSTS[name]) for name in [{NODE!r}]]\n")
    first = _deploy(inventory)
    assert first["hosts"][NODE]["status"] == "changed"
    second = _deploy(inventory)
    assert {name: host["changed"] for name, host in second["hosts"].items()} == {"e2e1": 0, "e2e2": 0, "e2e3": 0}
    _write(lab, NODE, "/etc/fleetops/sched.yml", SUITE)
    _write(lab, NODE, "/etc/fleetops/slow.yml", SLOW_SUITE)
    _write(lab, "e2e1", "/etc/systemd/system/fleetops-sched-probe.service", PROBE_UNIT)
    run_ok(lab, "e2e1", "systemctl daemon-reload && systemctl enable --now fleetops-sched-probe")
    for name, value in (("hook.token", "hook-token-123"), ("smtp.password", "mail-pass-456")):
        (work / name).write_text(value + "\n")
    yield {"inventory": inventory, "work": work}
    for name in ("health", "slow", "nightly"):
        schedule("remove", name, inventory=inventory)
    run(
        lab,
        "e2e1",
        "systemctl disable --now fleetops-sched-probe; rm -f /etc/systemd/system/fleetops-sched-probe.service",
    )


def _deploy(inventory: Path) -> dict:
    done = fleetops("deploy", str(REPO / "deploys/control.py"), "-i", str(inventory), "--json", timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def _write(lab, host: str, path: str, text: str) -> None:
    client = sshutil.connect(address(lab, host), user="root", key_file=lab.key_file, known_hosts=lab.known_hosts)
    try:
        sftp = client.open_sftp()
        with sftp.open(path, "w") as handle:
            handle.write(text)
        sftp.close()
    finally:
        client.close()


def schedule(verb: str, *args: str, inventory: Path):
    return fleetops("schedule", verb, "--on", NODE, "-i", str(inventory), *args, timeout=300)


def history(control, name: str) -> list[dict]:
    done = schedule("history", name, "--json", inventory=control["inventory"])
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_without_systemd_here_schedule_says_so_in_one_line():
    done = fleetops("schedule", "list")
    assert done.returncode == 3
    assert done.stderr.strip().startswith("fleetops: error: this machine does not run systemd (PID 1 is")
    assert "use --on HOST" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_the_control_node_runs_fleetops_against_its_targets_with_its_own_key(lab, control):
    out = run_ok(
        lab,
        NODE,
        f"cd / && runuser -u fleetops -- env FLEETOPS_STATE_DIR=/var/lib/fleetops /usr/local/bin/fleetops check -i {NODE_INVENTORY} --suite /etc/fleetops/sched.yml",
    )
    assert "OK" in out
    keys = run_ok(lab, "e2e1", "cat /root/.ssh/authorized_keys")
    assert f"fleetops-control@{NODE}" in keys
    assert run_ok(lab, NODE, "stat -c '%a %U' /var/lib/fleetops/.ssh/id_ed25519").strip() == "600 fleetops"


def test_a_one_minute_check_schedule_runs_by_itself_and_tells_each_change_once(lab, spec, control):
    inventory, work, bridge = control["inventory"], control["work"], str(spec.gateway)
    with HttpReceiver(address=bridge) as hook, SmtpReceiver(work, address=bridge) as smtp:
        _write(lab, NODE, "/etc/fleetops/smtp-ca.pem", Path(smtp.cert).read_text())
        done = schedule(
            "add", "health", "--every", "1m", "--throttle", "0s",
            "--webhook", hook.url, "--webhook-token-file", str(work / "hook.token"),
            "--email", "ops@example.com", "--email-from", "fleetops@example.com", "--smtp-host", bridge,
            "--smtp-port", str(smtp.port), "--smtp-user", smtp.user, "--smtp-password-file", str(work / "smtp.password"),
            "--smtp-ca", "/etc/fleetops/smtp-ca.pem",
            "--", "check", "-i", NODE_INVENTORY, "--suite", "/etc/fleetops/sched.yml",
            inventory=inventory,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        # the secrets went over stdin: in the stored definition (0640 root:fleetops), never in a unit or argv
        assert "hook-token-123" not in run_ok(lab, NODE, "cat /etc/systemd/system/fleetops-schedule-health.*")
        assert (
            run_ok(lab, NODE, "stat -c '%a %U %G' /etc/fleetops/schedules/health.json").strip() == "640 root fleetops"
        )
        deadline = time.monotonic() + 200
        while len(history(control, "health")) < 2 and time.monotonic() < deadline:
            time.sleep(5)
        runs = history(control, "health")
        assert len(runs) >= 2 and {r["state"] for r in runs} == {"OK"}, runs
        assert hook.received == [] and smtp.messages == [], "nothing changed: nothing sent"
        prom = run_ok(lab, NODE, "cat /var/lib/prometheus/node-exporter/fleetops-health.prom")
        assert 'fleetops_check_status{check="probe-service",host="e2e1",kind="service"} 0.0' in prom, prom
        run_ok(lab, "e2e1", "systemctl stop fleetops-sched-probe")
        assert schedule("run", "health", inventory=inventory).returncode == 1
        assert [m["state"] for m in hook.received] == ["CRITICAL"] and len(smtp.messages) == 1
        assert smtp.messages[0]["tls"] and "health on e2e2: OK -> CRITICAL" in smtp.messages[0]["data"]
        assert schedule("run", "health", inventory=inventory).returncode == 1  # still critical: nothing new
        assert len(hook.received) == 1 and len(smtp.messages) == 1
        run_ok(lab, "e2e1", "systemctl start fleetops-sched-probe")
        assert schedule("run", "health", inventory=inventory).returncode == 0
        assert [m["state"] for m in hook.received] == ["CRITICAL", "OK"] and len(smtp.messages) == 2
    listed = schedule("history", "health", inventory=inventory)
    assert "OK → CRITICAL" in listed.stdout and "CRITICAL → OK" in listed.stdout


def test_overlapping_runs_are_prevented(lab, control):
    inventory = control["inventory"]
    done = schedule("add", "slow", "--every", "1d", "--", "check", "-i", NODE_INVENTORY, "--suite",
                    "/etc/fleetops/slow.yml", inventory=inventory)  # fmt: skip
    assert done.returncode == 0, done.stderr
    run_ok(lab, NODE, "systemctl start --no-block fleetops-schedule-slow.service; sleep 2")
    second = schedule("run", "slow", inventory=inventory)
    assert second.returncode == 2 and "schedule slow is running now" in second.stderr
    code, _out, _err = run(
        lab, NODE, "cd / && runuser -u fleetops -- /usr/bin/flock --nonblock /var/lib/fleetops/schedules/slow.lock true"
    )
    assert code == 1, "the run holds its lock: a second exec gives up at once"
    run_ok(
        lab,
        NODE,
        'while [ "$(systemctl show -p ActiveState --value fleetops-schedule-slow.service)" = activating ]; do sleep 1; done',
    )
    assert len(history(control, "slow")) == 1


def test_a_nightly_reconverge_validates_its_calendar_and_runs_on_demand(lab, control):
    inventory = control["inventory"]
    bad = schedule("add", "nightly", "--on-calendar", "25:99", "--", "deploy", "x.py", inventory=inventory)
    assert bad.returncode == 2 and "--on-calendar '25:99'" in bad.stderr
    done = schedule(
        "add", "nightly", "--on-calendar", "*-*-* 02:30:00", "--randomized-delay", "10m", "--",
        "deploy", "/etc/fleetops/deploys/baseline.py", "-i", NODE_INVENTORY, "--limit", "e2e1", "--yes",
        inventory=inventory,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    timer = run_ok(lab, NODE, "systemctl cat fleetops-schedule-nightly.timer")
    assert "OnCalendar=*-*-* 02:30:00" in timer and "Persistent=true" in timer
    ran = schedule("run", "nightly", inventory=inventory)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    (last,) = history(control, "nightly")
    assert last["state"] == "ok" and last["summary"].startswith("run "), last


def test_remove_leaves_no_unit_behind(lab, control):
    inventory = control["inventory"]
    for name in ("health", "slow", "nightly"):
        done = schedule("remove", name, inventory=inventory)
        assert done.returncode == 0, done.stderr
    assert run_ok(lab, NODE, "ls /etc/systemd/system | grep -c fleetops-schedule || true").strip() == "0"
    assert run_ok(lab, NODE, "systemctl list-units --all --no-legend 'fleetops-schedule-*' | wc -l").strip() == "0"
    assert run_ok(lab, NODE, "ls /etc/fleetops/schedules").strip() == ""
