"""``fleetops cloud`` through CliRunner against moto: exit codes, tables, JSON, run records,
one-line errors that change nothing."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from fleetops.cli import app
from fleetops.runner import record as records
from tests.cloud.backends import AwsBackend


@pytest.fixture
def spec_file(ec2, tmp_path):
    path = tmp_path / "cloud.yml"
    path.write_text(yaml.safe_dump(AwsBackend(ec2).spec()))
    return path


def cloud(*args: str):
    return CliRunner().invoke(app, ["cloud", *args])


def test_plan_apply_list_destroy(ec2, spec_file, isolated_state):
    planned = cloud("plan", "-f", str(spec_file))
    assert planned.exit_code == 4, planned.output  # apply would create
    assert "create" in planned.stdout and "lin1" in planned.stdout

    applied = cloud("apply", "-f", str(spec_file), "--json")
    assert applied.exit_code == 0, applied.output
    data = json.loads(applied.stdout)
    records.validate(data)
    assert data["kind"] == "cloud-apply" and data["status"] == "ok"
    assert [p["name"] for p in data["cloud"]["phases"]] == [
        "offers", "plan", "create", "start", "running", "ssh", "inventory",
    ]  # fmt: skip
    assert sorted(data["cloud"]["created"]) == ["lin1", "win1"]
    saved = list((isolated_state / "runs").glob("*.json"))
    assert [p.stem for p in saved] == [data["run_id"]]
    assert oct(saved[0].stat().st_mode & 0o777) == "0o600"

    assert cloud("plan", "-f", str(spec_file)).exit_code == 0  # in sync
    listed = json.loads(cloud("list", "-f", str(spec_file), "--json").stdout)
    assert sorted(i["name"] for i in listed["instances"]) == ["lin1", "win1"]

    refused = cloud("destroy", "-f", str(spec_file))
    assert refused.exit_code == 2 and "add --yes" in refused.output
    assert len(AwsBackend(ec2).live_ids()) == 2
    gone = cloud("destroy", "-f", str(spec_file), "win1", "--yes", "--json")
    assert gone.exit_code == 0 and [i["name"] for i in json.loads(gone.stdout)["destroyed"]] == ["win1"]
    assert cloud("destroy", "-f", str(spec_file), "nope", "--yes").exit_code == 2
    assert cloud("destroy", "-f", str(spec_file), "--yes").exit_code == 0
    assert AwsBackend(ec2).live_ids() == []


def test_drift_exits_6(ec2, spec_file, isolated_state):
    assert cloud("apply", "-f", str(spec_file), "-q").exit_code == 0
    backend = AwsBackend(ec2)
    lin1 = json.loads(cloud("list", "-f", str(spec_file), "--json").stdout)["instances"]
    backend.resize(next(i["id"] for i in lin1 if i["name"] == "lin1"), "t3.medium")
    planned = cloud("plan", "-f", str(spec_file))
    assert planned.exit_code == 6 and "drift" in planned.stdout and "t3.medium" in planned.stdout
    assert cloud("apply", "-f", str(spec_file), "-q").exit_code == 6


def test_deploy_against_an_emulator_is_refused_before_anything(ec2, spec_file, isolated_state):
    result = cloud("apply", "-f", str(spec_file), "--deploy", "deploys/baseline.py")
    assert result.exit_code == 2
    assert "is an API emulator" in result.output and len(result.output.strip().splitlines()) == 1
    assert AwsBackend(ec2).live_ids() == [] and "RunInstances" not in ec2.faults.seen


def test_types(ec2, spec_file):
    shown = cloud("types", "-f", str(spec_file), "--zone", "us-east-1a", "--json")
    assert shown.exit_code == 0
    data = json.loads(shown.stdout)
    assert "t3.micro" in data["types"] and "us-east-1a" in data["zones"]
    bad = cloud("types", "-f", str(spec_file), "--region", "us-esat-1")
    assert bad.exit_code == 2 and "region 'us-esat-1' is not offered by aws; did you mean" in bad.output
    assert "us-east-1" in bad.output
    bad_zone = cloud("types", "-f", str(spec_file), "--zone", "us-east-1z")
    assert bad_zone.exit_code == 2 and "zone 'us-east-1z' is not in us-east-1" in bad_zone.output


def test_bad_spec_is_one_line_and_nothing_is_called(ec2, tmp_path):
    path = tmp_path / "cloud.yml"
    path.write_text(yaml.safe_dump(AwsBackend(ec2).spec(instances=[{"name": "Bad Name"}])))
    result = cloud("apply", "-f", str(path))
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and "instances[0].name" in result.output
    assert ec2.faults.seen == []


def test_password_is_only_for_windows(ec2, spec_file, isolated_state):
    cloud("apply", "-f", str(spec_file), "-q")
    linux = cloud("password", "-f", str(spec_file), "lin1")
    assert linux.exit_code == 2 and "logs in with the fleet's SSH key" in linux.output
    windows = cloud("password", "-f", str(spec_file), "win1")  # moto's password data is random bytes
    assert windows.exit_code == 1 and "does not decrypt" in windows.output
