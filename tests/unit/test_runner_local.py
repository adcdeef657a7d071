"""The deploy runner end to end without root or a lab: pyinfra's ``@local`` connector runs the
operations on this machine, inside a temporary directory. Changed/ok/failed counts, dry runs and
their diffs, operation output in the record, an operation error, a failing host reported as
``failed`` (never ``unreachable``: it has no SSH port to probe)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from fleetops.runner.deploy import DeployOptions, run_deploy
from fleetops.runner.record import validate


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    monkeypatch.setenv("FLEETOPS_RUNS_DIR", str(tmp_path / "runs"))
    (tmp_path / "inventory.py").write_text('hosts = ["@local"]\n')
    return tmp_path


def deploy_file(workspace: Path, body: str) -> Path:
    path = workspace / "deploy.py"
    path.write_text(
        textwrap.dedent(f"""\
        from pyinfra.operations import files, server
        from fleetops.operations.files import managed_file
        ROOT = {str(workspace / "target")!r}
        """)
        + textwrap.dedent(body)
    )
    return path


def run(workspace: Path, deploy: Path, **options):
    record = run_deploy(DeployOptions(deploy_file=deploy, inventory=workspace / "inventory.py", **options))
    data = record.to_dict()
    validate(data)
    return data


CONVERGING = """
    files.directory(name="Target directory", path=ROOT, mode="755")
    managed_file(name="Config file", path=ROOT + "/app.conf", content="port = 8080\\n", backup=False,
                 user=USER, group=GROUP)
    server.shell(name="Say hello", commands=["echo hello-from-local"])
"""


def with_owner(body: str) -> str:
    import grp
    import os
    import pwd

    user, group = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
    return f"USER, GROUP = {user!r}, {group!r}\n" + textwrap.dedent(body)


def test_converges_then_changes_nothing_and_keeps_output(workspace):
    deploy = deploy_file(workspace, with_owner(CONVERGING))
    first = run(workspace, deploy)
    host = first["hosts"]["@local"]
    assert first["status"] == "changed" and host["failed"] == 0, host
    assert (workspace / "target/app.conf").read_text() == "port = 8080\n"
    hello = next(op for op in host["operations"] if op["name"].endswith("Say hello"))
    assert hello["stdout"] == "hello-from-local" and hello["commands"] == 1
    second = run(workspace, deploy)
    changed = [op["name"] for op in second["hosts"]["@local"]["operations"] if op["changed"]]
    assert changed == [next(op["name"] for op in host["operations"] if op["name"].endswith("Say hello"))]


def test_dry_run_changes_nothing_and_shows_the_diff(workspace):
    deploy = deploy_file(workspace, with_owner(CONVERGING))
    run(workspace, deploy)
    (workspace / "target/app.conf").write_text("port = 9090\n")
    dry = run(workspace, deploy, dry=True)
    assert dry["dry_run"] is True and dry["status"] == "pending"
    config = next(op for op in dry["hosts"]["@local"]["operations"] if op["name"].endswith("Config file"))
    assert config["status"] == "pending" and "- port = 9090" in config["diff"] and "+ port = 8080" in config["diff"]
    assert (workspace / "target/app.conf").read_text() == "port = 9090\n"  # untouched


def test_a_failing_operation_fails_the_host_not_reachability(workspace):
    deploy = deploy_file(
        workspace,
        """
        server.shell(name="Breaks", commands=["echo broken-on-purpose >&2; exit 3"])
        server.shell(name="Never runs", commands=["true"])
    """,
    )
    record = run(workspace, deploy)
    host = record["hosts"]["@local"]
    assert host["status"] == "failed" and "Breaks" in host["error"], host
    broken = host["operations"][0]
    assert broken["status"] == "failed" and "broken-on-purpose" in broken["error"]


def test_an_operation_that_cannot_be_planned_fails_the_host_with_the_reason(workspace):
    deploy = deploy_file(
        workspace,
        """
        files.directory(name="A file where a directory should be", path=ROOT, present=True)
    """,
    )
    (workspace / "target").write_text("I am a file")
    record = run(workspace, deploy)
    host = record["hosts"]["@local"]
    assert record["status"] == "failed" and host["status"] == "failed", host  # not "unreachable"
    assert host["error"].startswith("planning failed:") and "target" in host["error"]
    assert (workspace / "target").read_text() == "I am a file"
