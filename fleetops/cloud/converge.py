"""``cloud apply --deploy``: the cloud phases, then the deploy on the fleet's inventory, then a
check sweep, timed as phases of one run with one run record.

The deploy goes through the same runner as ``fleetops deploy`` (so its host results, diffs and
redaction are the same), and the checks through the same engine as ``fleetops check``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fleetops.checking.engine import CheckRun
from fleetops.cloud.apply import CloudRun, Phase, apply
from fleetops.cloud.provider import Provider
from fleetops.cloud.spec import CloudSpec
from fleetops.errors import InputError
from fleetops.runner.record import RunRecord, new_run_id, utcnow


@dataclass
class ConvergeOptions:
    deploy: Path | None = None
    suite: str | None = None  # checks after the deploy; None: no sweep
    ssh_timeout: float = 300.0


def converge(
    spec: CloudSpec,
    provider: Provider,
    options: ConvergeOptions,
    progress: Callable[[str], None] = lambda _m: None,
) -> tuple[RunRecord, CloudRun, CheckRun | None]:
    """Returns the run record (cloud section filled), the cloud run, and the check run (or None)."""
    if options.deploy is not None:
        if not options.deploy.is_file():
            raise InputError(f"deploy file not found: {options.deploy}")
        if spec.emulated:
            raise InputError(
                f"--deploy: {spec.endpoint} is an API emulator; the addresses it returns are not hosts to configure"
            )
    suite = None
    if options.suite:
        from fleetops.checks.suite import load_suite

        suite = load_suite(options.suite)  # a bad suite fails here, before anything is created
    run_id = new_run_id()
    started = time.monotonic()
    cloud = apply(spec, provider, run_id, progress, options.ssh_timeout)
    record = RunRecord(deploy=str(options.deploy or ""), inventory=str(cloud.inventory or ""), dry_run=False)
    record.run_id = run_id
    checks = None
    if not cloud.failed and options.deploy is not None and cloud.inventory is not None:
        progress("deploy")
        record = _deploy(options.deploy, cloud, run_id)
    if not cloud.failed and suite is not None and cloud.inventory is not None:
        progress(f"check {suite.name}")
        checks = _check(suite, cloud)
    record.cloud = cloud.to_dict()
    if checks is not None:
        record.cloud["checks"] = {
            "suite": suite.name if suite else None,
            "status": checks.status.label,
            "counts": checks.counts(),
            "hosts": {host: status.label for host, status in sorted(checks.host_status().items())},
        }
    record.duration_s = time.monotonic() - started
    record.ended_at = utcnow()
    return record, cloud, checks


def _deploy(deploy: Path, cloud: CloudRun, run_id: str) -> RunRecord:
    from fleetops.runner.deploy import DeployOptions, run_deploy

    started = time.monotonic()
    assert cloud.inventory is not None
    record = run_deploy(DeployOptions(deploy_file=deploy, inventory=cloud.inventory))
    record.run_id = run_id
    summary = record.summary()
    cloud.phases.append(
        Phase(
            "deploy",
            time.monotonic() - started,
            "failed" if summary["failed"] or summary["unreachable"] else "ok",
            f"{summary['hosts']} hosts: {summary['changed']} changed, {summary['ok']} ok, "
            f"{summary['failed']} failed, {summary['unreachable']} unreachable",
        )
    )
    return record


def _check(suite, cloud: CloudRun) -> CheckRun:
    from fleetops.checking.engine import sweep
    from fleetops.checking.plan import plan

    started = time.monotonic()
    assert cloud.inventory is not None
    work = plan(cloud.inventory, suite)
    result = sweep(work, suite=suite.name, inventory=str(cloud.inventory))
    counts = result.counts()
    cloud.phases.append(
        Phase(
            "check",
            time.monotonic() - started,
            "ok" if result.status.label in ("ok", "warning") else "failed",
            f"{suite.name}: {result.status.label} (" + ", ".join(f"{n} {k}" for k, n in counts.items() if n) + ")",
        )
    )
    return result
