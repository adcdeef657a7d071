"""``fleetops rollout``: one deploy across the fleet in batches, behind a fleet-wide failure budget.

Hosts go in a stable order (the inventory's, recorded): a canary batch first, then batches of N
hosts or P % of the fleet. Failed **and unreachable** hosts count against one budget for the whole
rollout (``--max-fail N|P%``, default 0); when a batch spends it, the rollout stops and every host
not yet tried is recorded ``unattempted``. Between batches it can pause, or run a check suite on the
hosts done so far and go on only when it passes. Each batch is an ordinary deploy run (a fresh
pyinfra state, as pyinfra needs); the rollout record (``fleetops.run-record/v2``) is rewritten after
every batch, so a killed rollout still says where it stood. ``--resume RUN_ID`` runs only that
record's failed, unreachable, aborted and unattempted hosts, in its order, and links the records.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from fleetops.errors import InputError
from fleetops.fileutil import atomic_write_text, private_dir
from fleetops.paths import runs_dir, schema_path
from fleetops.runner.deploy import DeployOptions, Progress, run_deploy
from fleetops.runner.record import HostResult, new_run_id, operator, utcnow
from fleetops.secrets import redact_data

SCHEMA_ID = "fleetops.run-record/v2"
COUNTED = ("failed", "unreachable")  # what spends the budget
TO_RESUME = ("failed", "unreachable", "aborted", "unattempted")


def parse_size(text: str, total: int, what: str) -> int:
    """``"2"`` or ``"30%"`` of ``total`` hosts; a percentage rounds down, to at least 1 (as Ansible)."""
    value = str(text).strip()
    try:
        if value.endswith("%"):
            percent = float(value[:-1])
            if not 0 < percent <= 100:
                raise ValueError
            return max(1, math.floor(percent / 100 * total))
        number = int(value)
    except ValueError:
        raise InputError(f"{what} {text!r}: a number of hosts or a percentage like 25%") from None
    if number < 0 or (number == 0 and what != "--max-fail"):
        raise InputError(f"{what} {text!r}: must be positive")
    return number


def budget_of(max_fail: str | None, total: int) -> int:
    """How many failed or unreachable hosts the rollout tolerates (a percentage rounds down)."""
    if max_fail is None:
        return 0
    value = str(max_fail).strip()
    if value.endswith("%"):
        try:
            percent = float(value[:-1])
        except ValueError:
            raise InputError(f"--max-fail {max_fail!r}: a number of hosts or a percentage like 25%") from None
        if not 0 <= percent <= 100:
            raise InputError(f"--max-fail {max_fail!r}: a percentage between 0 and 100")
        return math.floor(percent / 100 * total)
    return parse_size(value, total, "--max-fail")


def plan_batches(hosts: list[str], canary: int = 0, batch: str | None = None) -> list[list[str]]:
    """The batches, in order: ``canary`` hosts alone, then batches of ``batch`` (all when None)."""
    if canary < 0:
        raise InputError(f"--canary {canary}: must not be negative")
    if canary >= len(hosts) and canary:
        raise InputError(f"--canary {canary}: the selection has only {len(hosts)} host(s)")
    batches = [hosts[:canary]] if canary else []
    rest = hosts[canary:]
    size = parse_size(batch, len(hosts), "--batch") if batch else len(rest) or 1
    batches.extend(rest[i : i + size] for i in range(0, len(rest), size))
    return [b for b in batches if b]


@dataclass
class RolloutOptions:
    deploy_file: Path
    inventory: Path
    limit: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    canary: int = 0
    batch: str | None = None
    max_fail: str | None = None
    pause_s: float = 0.0
    gate_suite: str | None = None
    resume: str | None = None
    parallel: int | None = None


@dataclass
class Batch:
    index: int
    hosts: list[str]
    status: str = "pending"  # pending | ok | changed | failed | aborted
    started_at: str | None = None
    duration_s: float = 0.0
    gate: str | None = None  # the check gate's verdict after this batch


@dataclass
class RolloutRecord:
    deploy: str
    inventory: str
    order: list[str]
    strategy: dict
    batches: list[Batch]
    run_id: str = field(default_factory=new_run_id)
    operator: str = field(default_factory=operator)
    started_at: str = field(default_factory=utcnow)
    ended_at: str | None = None
    duration_s: float = 0.0
    hosts: dict[str, dict] = field(default_factory=dict)
    stopped: str | None = None  # why the rollout stopped before the end
    resumed_from: str | None = None
    running: bool = True

    @property
    def failures(self) -> int:
        return sum(host["status"] in COUNTED for host in self.hosts.values())

    @property
    def status(self) -> str:
        if self.running:
            return "running"
        if self.stopped:
            return "stopped"
        statuses = {host["status"] for host in self.hosts.values()}
        for status in ("failed", "unreachable", "changed"):
            if status in statuses:
                return "failed" if status == "unreachable" else status
        return "ok"

    def summary(self) -> dict[str, int]:
        counts = {key: 0 for key in ("ok", "changed", "failed", "unreachable", "aborted", "unattempted")}
        for host in self.hosts.values():
            counts[host["status"]] += 1
        return {"hosts": len(self.hosts), **counts}

    def to_dict(self) -> dict:
        data = {
            "schema": SCHEMA_ID,
            "run_id": self.run_id,
            "kind": "rollout",
            "deploy": self.deploy,
            "inventory": self.inventory,
            "operator": self.operator,
            "dry_run": False,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "duration_s": round(self.duration_s, 3),
            "status": self.status,
            "stopped": self.stopped,
            "resumed_from": self.resumed_from,
            "order": self.order,
            "strategy": self.strategy,
            "failures": self.failures,
            "batches": [asdict(batch) for batch in self.batches],
            "summary": self.summary(),
            "hosts": {name: self.hosts[name] for name in self.order},
        }
        return dict(redact_data(data))  # type: ignore[call-overload]


def validate(record: dict) -> None:
    import jsonschema

    jsonschema.validate(record, json.loads(schema_path("run-record.v2.json").read_text()))


def write(record: RolloutRecord) -> Path:
    """(Re)write the record: 0600, atomically, after every batch."""
    data = record.to_dict()
    validate(data)
    path = private_dir(runs_dir()) / f"{record.run_id}.json"
    atomic_write_text(path, json.dumps(data, indent=2))
    return path


def previous(run_id: str) -> dict:
    path = runs_dir() / f"{run_id}.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"--resume: no run record {run_id!r}") from None
    if data.get("kind") != "rollout":
        raise InputError(f"--resume: {run_id} is a {data.get('kind')} record, not a rollout")
    return data


def _host_entry(result: HostResult, batch: int) -> dict:
    data = asdict(result)
    data.update(result.counts, batch=batch)
    return data


def run_rollout(
    options: RolloutOptions,
    progress: Callable[[str], None] = lambda _m: None,
    gate: Callable[[list[str]], str | None] | None = None,
    deploy: Callable[[DeployOptions], object] = run_deploy,
    deploy_progress: Progress | None = None,
) -> tuple[RolloutRecord, Path]:
    """Run the rollout; returns the final record and its path. ``gate(hosts)`` returns None when
    the check suite passes on ``hosts``, else why not."""
    from fleetops.inventory import load_inventory, select_hosts

    resumed = previous(options.resume) if options.resume else None
    if resumed:
        order = [name for name in resumed["order"] if resumed["hosts"][name]["status"] in TO_RESUME]
        if not order:
            raise InputError(f"--resume: every host of {options.resume} already succeeded")
    else:
        order = [host.name for host in select_hosts(load_inventory(options.inventory), options.limit, options.exclude)]
    batches = plan_batches(order, options.canary, options.batch)
    budget = budget_of(options.max_fail, len(order))
    record = RolloutRecord(
        deploy=str(options.deploy_file),
        inventory=str(options.inventory),
        order=order,
        strategy={
            "canary": options.canary,
            "batch": options.batch,
            "max_fail": options.max_fail,
            "budget": budget,
            "pause_s": options.pause_s,
            "gate": options.gate_suite,
        },
        batches=[Batch(i, hosts) for i, hosts in enumerate(batches)],
        resumed_from=options.resume,
    )
    record.hosts = {name: {"status": "unattempted", "batch": None, "error": None} for name in order}
    started = time.monotonic()
    path = write(record)
    try:
        for batch in record.batches:
            progress(f"batch {batch.index + 1}/{len(record.batches)}: {', '.join(batch.hosts)}")
            batch.started_at, batch_started = utcnow(), time.monotonic()
            for name in batch.hosts:
                record.hosts[name] = {"status": "aborted", "batch": batch.index, "error": "the rollout was interrupted"}
            path = write(record)  # a rollout killed outright still shows which batch was under way
            result = deploy(
                replace(
                    DeployOptions(deploy_file=options.deploy_file, inventory=options.inventory),
                    limit=tuple(batch.hosts),
                    parallel=options.parallel,
                )
            )
            for name in batch.hosts:
                host_result = result.hosts.get(name) or HostResult(status="failed", error="not in the deploy's result")  # type: ignore[attr-defined]
                record.hosts[name] = _host_entry(host_result, batch.index)
            batch.duration_s = round(time.monotonic() - batch_started, 3)
            statuses = {record.hosts[name]["status"] for name in batch.hosts}
            batch.status = "failed" if statuses & set(COUNTED) else ("changed" if "changed" in statuses else "ok")
            last = batch.index == len(record.batches) - 1
            if record.failures > budget:
                record.stopped = f"failure budget spent: {record.failures} failed or unreachable, budget {budget}"
            elif gate is not None and not last:
                done = [name for name in order if record.hosts[name]["status"] in ("ok", "changed")]
                verdict = gate(done)
                batch.gate = verdict or "passed"
                if verdict:
                    record.stopped = f"check gate after batch {batch.index + 1}: {verdict}"
            record.duration_s = time.monotonic() - started
            path = write(record)
            if record.stopped:
                progress(f"stopped: {record.stopped}")
                break
            if options.pause_s and not last:
                progress(f"pause {options.pause_s:g}s")
                time.sleep(options.pause_s)
    except KeyboardInterrupt:
        record.stopped = "interrupted"
        raise
    finally:
        record.running = False
        record.ended_at = utcnow()
        record.duration_s = time.monotonic() - started
        path = write(record)
    return record, path
