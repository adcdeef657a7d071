"""One real lab fleet per test session (systemd-nspawn hosts, real sshd, real systemd)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from fleetops.cli import app
from fleetops.lab.fleet import Lab
from fleetops.lab.spec import load_spec

HERE = Path(__file__).parent
REPO = HERE.parents[1]


def _prerequisites_missing() -> str | None:
    if os.geteuid() != 0:
        return "lab tests need root"
    for tool in ("systemd-nspawn", "debootstrap", "iptables"):
        if shutil.which(tool) is None:
            return f"lab tests need {tool}"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _prerequisites_missing()
    if reason is None:
        return
    if os.environ.get("FLEETOPS_REQUIRE_LAB"):
        raise pytest.UsageError(f"FLEETOPS_REQUIRE_LAB is set but {reason}")
    for item in items:
        if "lab" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def spec():
    return load_spec(HERE / "lab.yml")


@pytest.fixture(scope="session")
def lab(spec):
    """The session's fleet: brought up once, torn down at the end."""
    fleet = Lab(spec.name)
    status = fleet.up(spec)
    assert status.healthy, status
    yield fleet
    fleet.down()


@pytest.fixture(scope="session")
def deploy(lab):
    """Run `fleetops deploy ... --json` in-process; returns (exit code, record, stderr)."""

    def run(deploy_file: str | Path, *args: str) -> tuple[int, dict | None, str]:
        runner = CliRunner()
        result = runner.invoke(app, ["deploy", str(deploy_file), "-i", str(lab.inventory), "--json", *args])
        stdout = result.stdout
        record = json.loads(stdout) if stdout.strip().startswith("{") else None
        return result.exit_code, record, result.stderr

    return run


@pytest.fixture(scope="session")
def converged(deploy):
    """The baseline applied once to the whole fleet: its run record."""
    code, record, err = deploy(REPO / "deploys/baseline.py")
    assert code == 0, err
    return record


@pytest.fixture
def isolated_runs(tmp_path, monkeypatch):
    """Run records of one test go to their own folder."""
    monkeypatch.setenv("FLEETOPS_RUNS_DIR", str(tmp_path / "runs"))
    return tmp_path / "runs"


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory):
    """The digits model the gateways' group data declares (made once per session)."""
    from tests.e2e.helpers import fleetops

    directory = tmp_path_factory.mktemp("models") / "digits"
    proc = fleetops("model", "convert", "--model", "digits", "--out", str(directory), "-q")
    assert proc.returncode == 0, proc.stderr
    os.environ["FLEETOPS_E2E_MODEL_DIR"] = str(directory)
    yield directory
    os.environ.pop("FLEETOPS_E2E_MODEL_DIR", None)


@pytest.fixture(scope="session")
def edge(converged, deploy, model_dir):
    """The edge app converged on both gateways (e2e1, e2e3): its run record."""
    code, record, err = deploy(REPO / "deploys/edge.py")
    assert code == 0, err[-3000:]
    return record


@pytest.fixture(scope="session")
def platform(converged, deploy, edge):
    """The platform receiver converged on e2e2 (after the gateways that report to it): its record."""
    code, record, err = deploy(REPO / "deploys/platform.py")
    assert code == 0, err[-3000:]
    return record
