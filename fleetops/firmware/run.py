"""A firmware update across gateways: canary and batches behind a failure budget, one run record.

The batches and the budget are the rollout's (``fleetops.runner.rollout.plan_batches`` and
``budget_of``), so ``--canary 1 --batch 25% --max-fail 0`` means the same in both verbs. A
rollback, a refusal, a timeout or an unreachable gateway each count against the budget; once it is
spent the remaining gateways are not touched and are listed as unattempted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fleetops.checking.target import SshTarget
from fleetops.fanout import per_host
from fleetops.firmware.update import GatewayOutcome, Policy, update_gateway
from fleetops.firmware.verify import VerifiedBundle
from fleetops.runner import record as records
from fleetops.runner.record import HostResult, OperationResult, RunRecord
from fleetops.runner.rollout import budget_of, plan_batches

HOST_STATUS = {
    "committed": "changed",
    "rolled_back": "failed",
    "refused": "failed",
    "failed": "failed",
    "timeout": "failed",
    "unreachable": "unreachable",
}


@dataclass(frozen=True)
class Strategy:
    canary: int = 0
    batch: str | None = None
    max_fail: str | None = None
    parallel: int | None = None

    def to_dict(self, budget: int) -> dict:
        return {"canary": self.canary, "batch": self.batch, "max_fail": self.max_fail, "budget": budget}


def host_result(outcome: GatewayOutcome) -> HostResult:
    """The run record's host entry: each step as an operation."""
    return HostResult(
        status=HOST_STATUS[outcome.outcome],
        error=None if outcome.outcome == "committed" else f"{outcome.outcome}: {outcome.reason}",
        duration_s=round(outcome.duration_s, 3),
        operations=[
            OperationResult(
                name=step.name,
                hash=step.name,
                status=step.status,
                changed=step.name in ("install", "health gate") and step.status == "ok",
                duration_s=step.duration_s,
                error=step.error,
            )
            for step in outcome.steps
        ],
    )


def run_update(
    bundle: VerifiedBundle,
    targets: list[SshTarget],
    policy: Policy,
    strategy: Strategy,
    inventory: str,
    say: Callable[[str], None] = lambda _m: None,
) -> tuple[dict, Path]:
    """Update ``targets`` batch by batch; returns the validated record and where it was written."""
    by_name = {target.name: target for target in targets}
    order = list(by_name)
    batches = plan_batches(order, strategy.canary, strategy.batch)
    budget = budget_of(strategy.max_fail, len(order))
    record = RunRecord(deploy=f"firmware update {bundle.path.name}", inventory=inventory, dry_run=False, limit=order)
    outcomes: dict[str, GatewayOutcome] = {}
    stopped = None
    started = time.monotonic()
    for index, batch in enumerate(batches):
        say(f"batch {index + 1}/{len(batches)}: {', '.join(batch)}")
        for outcome in per_host(
            [by_name[name] for name in batch], lambda t: update_gateway(t, bundle, policy, say), strategy.parallel
        ):
            outcomes[outcome.host] = outcome
            say(f"{outcome.host}: {outcome.outcome}" + (f" ({outcome.by}: {outcome.reason})" if outcome.reason else ""))
        failures = sum(1 for outcome in outcomes.values() if outcome.outcome != "committed")
        if failures > budget and index < len(batches) - 1:
            stopped = f"failure budget spent: {failures} gateways not committed, budget {budget}"
            say(f"stopped: {stopped}")
            break
    record.hosts = {name: host_result(outcome) for name, outcome in outcomes.items()}
    record.ended_at = records.utcnow()
    record.duration_s = time.monotonic() - started
    record.firmware = {
        "bundle": bundle.to_dict(),
        "strategy": strategy.to_dict(budget),
        "gateways": {name: outcome.to_dict() for name, outcome in sorted(outcomes.items())},
        "unattempted": [name for name in order if name not in outcomes],
        "stopped": stopped,
    }
    data = record.to_dict()
    records.validate(data)
    return data, records.write(data)
