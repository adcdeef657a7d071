"""The click app through CliRunner: help of every verb, exit codes, one-line errors."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from fleetops.cli import VERBS, app

REPO = Path(__file__).parents[2]


@pytest.fixture
def runner():
    return CliRunner()


def test_top_level_help_lists_every_verb_with_an_example(runner):
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for verb in VERBS:
        assert verb in result.output
    assert result.output.count("e.g. fleetops") == len(VERBS)


@pytest.mark.parametrize(
    "argv",
    [
        ["lab", "--help"],
        ["lab", "up", "--help"],
        ["lab", "status", "--help"],
        ["lab", "down", "--help"],
        ["lab", "ssh", "--help"],
        ["deploy", "--help"],
        ["runs", "--help"],
        ["runs", "list", "--help"],
        ["runs", "show", "--help"],
        ["cloud", "--help"],
        ["cloud", "plan", "--help"],
        ["cloud", "apply", "--help"],
        ["cloud", "list", "--help"],
        ["cloud", "stop", "--help"],
        ["cloud", "start", "--help"],
        ["cloud", "destroy", "--help"],
        ["cloud", "types", "--help"],
        ["cloud", "password", "--help"],
        ["check", "--help"],
        ["check", "history", "--help"],
        ["backup", "--help"],
        ["backup", "run", "--help"],
        ["backup", "list", "--help"],
        ["backup", "restore", "--help"],
        ["backup", "verify", "--help"],
        ["model", "--help"],
        ["model", "convert", "--help"],
        ["model", "quantize", "--help"],
        ["model", "inspect", "--help"],
        ["smoke", "--help"],
        ["edge", "--help"],
        ["edge", "rollback", "--help"],
        ["edge", "releases", "--help"],
        ["model", "deploy", "--help"],
    ],
)
def test_every_verb_has_help(runner, argv):
    result = runner.invoke(app, argv)
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def write_inventory(tmp_path: Path, group_data: str) -> Path:
    (tmp_path / "group_data").mkdir()
    (tmp_path / "group_data" / "all.py").write_text(group_data)
    inventory = tmp_path / "inventory.py"
    # 192.0.2.0/24 is TEST-NET-1: validation must fail before anything tries to connect.
    inventory.write_text('web = [("web1", {"ssh_hostname": "192.0.2.123"})]\n')
    return inventory


def test_group_data_typo_fails_before_connecting(runner, tmp_path, isolated_state, monkeypatch):
    monkeypatch.chdir(tmp_path)
    inventory = write_inventory(tmp_path, "usres = []\n")
    result = runner.invoke(app, ["deploy", str(REPO / "deploys/baseline.py"), "-i", str(inventory)])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "fleetops: error: host web1: unknown group-data key 'usres' (did you mean 'users'?)"
    )
    assert not (isolated_state / "runs").exists()  # nothing ran, nothing recorded


def test_group_data_wrong_type(runner, tmp_path, isolated_state, monkeypatch):
    monkeypatch.chdir(tmp_path)
    inventory = write_inventory(tmp_path, 'users = [{"name": "ops", "groups": "wheel"}]\n')
    result = runner.invoke(app, ["deploy", str(REPO / "deploys/baseline.py"), "-i", str(inventory)])
    assert result.exit_code == 2
    assert "host web1: users[0].groups: Input should be a valid list" in result.output


@pytest.mark.parametrize(
    "argv, message",
    [
        (["deploy", "missing.py", "-i", "missing_inventory.py"], "inventory not found: missing_inventory.py"),
        (["lab", "up", "--hosts", "0"], "--hosts must be between 1 and 60"),
        (["lab", "up", "--hosts", "2", "--spec", "x.yml"], "either --hosts or --spec"),
        (["lab", "up", "--spec", "nowhere.yml"], "lab spec not found: nowhere.yml"),
        (["runs", "show", "nope"], "no run record 'nope'"),
    ],
)
def test_bad_arguments_are_one_line_exit_2(runner, argv, message, isolated_state):
    result = runner.invoke(app, argv)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_deploy_missing_file_with_valid_inventory(runner, tmp_path, isolated_state, monkeypatch):
    monkeypatch.chdir(tmp_path)
    inventory = write_inventory(tmp_path, "")
    result = runner.invoke(app, ["deploy", "nothere.py", "-i", str(inventory)])
    assert result.exit_code == 2
    assert "deploy file not found: nothere.py" in result.output


def test_runs_list_and_show_latest(runner, isolated_state):
    from fleetops.runner.record import HostResult, RunRecord, write

    record = RunRecord(deploy="d.py", inventory="i.py", dry_run=False)
    record.hosts["a"] = HostResult()
    record.ended_at = record.started_at
    data = record.to_dict()
    write(data)
    listed = runner.invoke(app, ["runs", "list"])
    assert listed.exit_code == 0 and data["run_id"] in listed.output
    shown = runner.invoke(app, ["runs", "show", "latest"])
    assert json.loads(shown.output)["run_id"] == data["run_id"]


def test_top_level_examples_name_only_real_options():
    """``fleetops --help`` lists an example per verb without importing the verbs; each example's
    sub-command and options must exist, so that list cannot drift from the commands."""
    import importlib
    import shlex

    import click

    from fleetops.cli import VERBS

    for verb, (module, attribute, text) in VERBS.items():
        example = shlex.split(text.split("e.g. ", 1)[1])
        assert example[:2] == ["fleetops", verb], text
        command = getattr(importlib.import_module(module), attribute)
        words = example[2:]
        if isinstance(command, click.Group) and words and not words[0].startswith("-"):
            assert words[0] in command.commands, f"{verb}: no sub-command {words[0]!r}"
            command = command.commands[words[0]]
        if verb == "smoke":  # `fleetops smoke` is `fleetops check --suite smoke`: it takes check's options
            command = importlib.import_module("fleetops.cli.check").check
        known = {opt for param in command.params for opt in getattr(param, "opts", [])}
        for word in words:
            if word == "--":
                break  # the end of options: what follows is the scheduled command's own
            if word.startswith("--"):
                assert word in known, f"fleetops {verb}: example uses {word}, which the command does not have"
