"""Run records: status aggregation, schema validity, redaction, private files."""

import stat

import jsonschema
import pytest

from fleetops.runner.record import HostResult, OperationResult, RunRecord, validate, write
from fleetops.secrets import Secret


def make_record(dry=False) -> RunRecord:
    record = RunRecord(deploy="deploys/baseline.py", inventory="inv.py", dry_run=dry)
    record.hosts["a"] = HostResult(
        status="changed",
        operations=[
            OperationResult("write file", "h1", "changed", True, commands=2, duration_s=0.1, diff="+ x"),
            OperationResult("noop", "h2", "ok", False, commands=0, duration_s=0.0),
        ],
    )
    record.hosts["b"] = HostResult(status="ok", operations=[OperationResult("noop", "h2", "ok", False)])
    record.ended_at = record.started_at
    return record


def test_record_validates_and_counts():
    data = make_record().to_dict()
    validate(data)
    assert data["status"] == "changed"
    assert data["summary"] == {"hosts": 2, "unreachable": 0, "failed": 0, "changed": 1, "ok": 1}
    assert data["hosts"]["a"]["changed"] == 1 and data["hosts"]["a"]["ok"] == 1


def test_worst_host_decides_status():
    record = make_record()
    record.hosts["c"] = HostResult(status="unreachable", error="connection refused")
    record.hosts["d"] = HostResult(status="failed", error="1 operation(s) failed")
    assert record.to_dict()["status"] == "unreachable"


def test_dry_run_with_changes_is_pending():
    assert make_record(dry=True).to_dict()["status"] == "pending"


def test_schema_rejects_unknown_fields():
    data = make_record().to_dict()
    data["hosts"]["a"]["surprise"] = 1
    with pytest.raises(jsonschema.ValidationError):
        validate(data)


def test_secrets_are_redacted_from_records():
    Secret("canary-record-secret")
    record = make_record()
    record.hosts["a"].operations[0].diff = "+ password canary-record-secret"
    data = record.to_dict()
    assert "canary-record-secret" not in str(data)


def test_written_record_is_private(tmp_path):
    path = write(make_record().to_dict(), tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
