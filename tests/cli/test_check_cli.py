"""`fleetops check` through CliRunner: dead hosts, bad input and the Nagios exit contract."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from fleetops.cli import app


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def dead_inventory(tmp_path) -> Path:
    """Two hosts nobody listens for: port 1 on loopback refuses at once."""
    inventory = tmp_path / "inventory.py"
    inventory.write_text(
        'web = [("dead1", {"ssh_hostname": "127.0.0.1", "ssh_port": 1}),\n'
        '       ("dead2", {"ssh_hostname": "127.0.0.1", "ssh_port": 1})]\n'
    )
    return inventory


def test_unreachable_hosts_are_critical_not_a_crash(runner, dead_inventory, isolated_state, tmp_path):
    out = tmp_path / "run.json"
    result = runner.invoke(
        app,
        ["check", "-i", str(dead_inventory), "--json", str(out), "--junit", str(tmp_path / "j.xml"), "--timeout", "3"],
    )
    assert result.exit_code == 2, result.output
    data = json.loads(out.read_text())
    assert data["hosts"] == {"dead1": "critical", "dead2": "critical"}
    statuses = {(r["host"], r["check"]): r["status"] for r in data["results"]}
    assert statuses[("dead1", "reachable")] == "critical"
    assert statuses[("dead1", "disk")] == "unknown"
    reachable = next(r for r in data["results"] if r["check"] == "reachable")
    assert "refused" in reachable["message"].lower() or "unable to connect" in reachable["message"].lower()
    assert (isolated_state / "check-history.sqlite").exists()


def test_nagios_mode_prints_one_line_and_exits_with_the_state(runner, dead_inventory, isolated_state):
    result = runner.invoke(app, ["check", "-i", str(dead_inventory), "--nagios", "--no-history"])
    assert result.exit_code == 2
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("FLEETOPS CRITICAL - ")
    assert not (isolated_state / "check-history.sqlite").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--suite", "nope"], "no suite named 'nope'"),
        (["--json", "/nonexistent/dir/out.json"], "directory does not exist: /nonexistent/dir"),
        (["--limit", "nosuchgroup"], "no group or host matches 'nosuchgroup'"),
        (["--timeout", "0"], "--timeout"),
        (["--nagios", "--json"], "both print to stdout"),
    ],
)
def test_bad_input_is_unknown_and_runs_nothing(runner, dead_inventory, isolated_state, args, message):
    result = runner.invoke(app, ["check", "-i", str(dead_inventory), *args])
    assert result.exit_code == 3, result.output
    assert message in result.output
    assert not (isolated_state / "check-history.sqlite").exists()


def test_bad_group_data_is_named(runner, tmp_path, isolated_state):
    (tmp_path / "group_data").mkdir()
    (tmp_path / "group_data" / "all.py").write_text('check_overrides = {"disk": {"warn": "high"}}\n')
    inventory = tmp_path / "inventory.py"
    inventory.write_text('web = [("web1", {"ssh_hostname": "192.0.2.1"})]\n')
    result = runner.invoke(app, ["check", "-i", str(inventory), "--list"])
    assert result.exit_code == 3
    assert "host web1: check_overrides.disk.warn: Input should be a valid number" in result.output


def test_list_shows_the_plan_without_connecting(runner, dead_inventory, isolated_state):
    result = runner.invoke(app, ["check", "-i", str(dead_inventory), "--list", "--json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert set(plan) == {"dead1", "dead2"}
    assert plan["dead1"][0]["name"] == "reachable"
    assert {"disk", "sshd", "clock"} <= {check["name"] for check in plan["dead1"]}


def test_history_empty_and_bad_since(runner, isolated_state):
    result = runner.invoke(app, ["check", "history"])
    assert result.exit_code == 0 and "no state changes recorded" in result.output
    result = runner.invoke(app, ["check", "history", "--since", "last tuesday"])
    assert result.exit_code == 3 and "--since" in result.output


def test_backup_needs_hosts_with_a_policy(runner, dead_inventory, isolated_state):
    result = runner.invoke(app, ["backup", "list", "-i", str(dead_inventory)])
    assert result.exit_code == 2
    assert "no selected host has a backup policy" in result.output


def test_backup_restore_argument_rules(runner, dead_inventory, isolated_state):
    for args, message in [
        (["--latest", "--backup", "20261125T000000Z"], "--latest or --backup ID, not both"),
        ([], "needs one of --latest, --backup ID, --to TIME or --before-statement REGEX"),
        (["--to", "2026-12-01 10:00:00", "--before-statement", "DROP"], "--to or --before-statement, not both"),
        (["--to", "yesterday"], "--to: not a time"),
        (["--before-statement", "DROP ("], "--before-statement: not a valid pattern"),
        (["--app", "edge", "--to", "2026-12-01 10:00:00"], "an app restore takes --latest or --backup ID only"),
        (["--app", "nginx", "--latest"], "not an app with backups: 'nginx'"),
    ]:
        result = runner.invoke(app, ["backup", "restore", "-i", str(dead_inventory), "--yes", *args])
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)
    from fleetops.backup.remote import agent_command, point_in_time
    from fleetops.errors import InputError

    assert agent_command("restore", "mysql", "latest", "shop").endswith("restore mysql latest shop")
    assert agent_command("restore", "mysql", "latest", before_statement="DROP TABLE `x`; rm -rf /").endswith(
        "--before-statement 'DROP TABLE `x`; rm -rf /'"
    )
    assert point_in_time("2026-12-01 10:42:00") == "2026-12-01 10:42:00"  # host-local, as given
    assert point_in_time("2026-12-01T10:42:00Z") == "@1796121720.0"
    assert point_in_time("2026-12-01T11:42:00+01:00") == "@1796121720.0"
    with pytest.raises(InputError, match="not a backup id"):
        agent_command("restore", "mysql", "x; rm -rf /")
