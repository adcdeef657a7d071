"""The run record: a versioned, schema-validated JSON account of one deploy run.

Everything in it has passed through ``redact()``; it is written 0600 under ``<state>/runs/``.
The schema lives in ``fleetops/schemas/run-record.v1.json`` and is documented in
``docs/run-record.md``.
"""

from __future__ import annotations

import getpass
import json
import os
import secrets as _random
import socket
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import jsonschema

from fleetops.fileutil import private_dir
from fleetops.paths import runs_dir, schema_path
from fleetops.secrets import redact_data

SCHEMA_ID = "fleetops.run-record/v1"

# Host outcomes, worst first: the run's status is its worst host's.
HOST_STATUSES = ("unreachable", "failed", "changed", "ok")


def utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + _random.token_hex(3)


def operator() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}"


@dataclass
class OperationResult:
    """One operation on one host: ``changed``/``ok``/``failed``/``skipped``, or ``pending`` (dry)."""

    name: str
    hash: str
    status: str
    changed: bool
    commands: int = 0
    duration_s: float | None = None
    diff: str | None = None
    error: str | None = None
    stdout: str | None = None  # the operation's output, tail-capped, redacted with the record
    stderr: str | None = None


@dataclass
class HostResult:
    status: str = "ok"
    error: str | None = None
    duration_s: float = 0.0
    operations: list[OperationResult] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "changed": sum(op.changed for op in self.operations),
            "ok": sum(op.status == "ok" for op in self.operations),
            "failed": sum(op.status == "failed" for op in self.operations),
        }


@dataclass
class RunRecord:
    """The whole run; ``to_dict`` gives the documented JSON form."""

    deploy: str
    inventory: str
    dry_run: bool
    limit: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    run_id: str = field(default_factory=new_run_id)
    operator: str = field(default_factory=operator)
    started_at: str = field(default_factory=utcnow)
    ended_at: str | None = None
    duration_s: float = 0.0
    hosts: dict[str, HostResult] = field(default_factory=dict)
    cloud: dict | None = None  # `cloud apply`: its phases, plan and instances (the deploy is the rest)
    firmware: dict | None = None  # `firmware update`: the bundle and each gateway's outcome

    @property
    def status(self) -> str:
        if self.cloud is not None and self.cloud.get("error"):
            return "failed"  # a cloud phase failed: the fleet is not what the spec says
        statuses = {host.status for host in self.hosts.values()}
        for status in HOST_STATUSES:
            if status in statuses:
                return "pending" if self.dry_run and status == "changed" else status
        return "ok"

    @property
    def kind(self) -> str:
        if self.cloud is not None:
            return "cloud-apply"
        return "deploy" if self.firmware is None else "firmware-update"

    def summary(self) -> dict[str, int]:
        counts = {status: 0 for status in HOST_STATUSES}
        for host in self.hosts.values():
            counts[host.status] += 1
        return {"hosts": len(self.hosts), **counts}

    def to_dict(self) -> dict:
        hosts = {}
        for name, host in sorted(self.hosts.items()):
            data = asdict(host)
            data.update(host.counts)
            hosts[name] = data
        record = {
            "schema": SCHEMA_ID,
            "run_id": self.run_id,
            "kind": self.kind,
            "deploy": self.deploy,
            "inventory": self.inventory,
            "operator": self.operator,
            "dry_run": self.dry_run,
            "limit": self.limit,
            "exclude": self.exclude,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "duration_s": round(self.duration_s, 3),
            "status": self.status,
            "summary": self.summary(),
            "hosts": hosts,
        }
        if self.cloud is not None:
            record["cloud"] = self.cloud
        if self.firmware is not None:
            record["firmware"] = self.firmware
        return dict(redact_data(record))  # type: ignore[call-overload]  # a dict stays a dict


def validate(record: dict) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``record`` matches the v1 schema."""
    schema = json.loads(schema_path("run-record.v1.json").read_text())
    jsonschema.validate(record, schema)


def write(record: dict, directory: Path | None = None) -> Path:
    """Write the record as ``<run_id>.json`` (mode 0600) and return its path."""
    directory = private_dir(directory or runs_dir())
    path = directory / f"{record['run_id']}.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(record, handle, indent=2)
    return path
