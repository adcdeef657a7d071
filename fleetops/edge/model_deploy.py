"""``fleetops model deploy``: put a model on gateways behind a smoke gate, roll back on failure.

Everything that changes a gateway runs through the deploy runner, with the edge role's own
steps (``roles/edge.py``: ``model_release``, ``model_rollback``):

1. **release**: upload ``model.onnx`` and ``manifest.json`` into ``models/<name>-<sha12>-<msha8>.partial``,
   check their sha256 on the gateway, rename into place (an interrupted upload is never served),
   switch ``models/current`` with a rename, restart the app and wait until it listens;
2. **gate**, from the controller, on every gateway whose model was switched: the app must be ready
   and pass the inference smoke check (golden inputs, a latency budget);
3. **rollback**, for every gateway that failed 1 or 2: ``models/current`` back to the model it
   served before, restart, wait for ``/ready``, and the smoke check once more ("ready again").

One run record covers all three: each gateway's operations of the release, its gate, and, when
rolled back, the rollback's operations, with the reason. The next ``fleetops deploy
deploys/edge.py`` sets ``models/current`` to the model declared in group data again: declare a
model there to keep it.
"""

from __future__ import annotations

import time
from pathlib import Path

from fleetops.checks.base import Target
from fleetops.checks.edge import Inference
from fleetops.checks.result import Status
from fleetops.edge.layout import SWITCH_STEP
from fleetops.models import manifest as manifests
from fleetops.models.manifest import Manifest
from fleetops.runner.record import OperationResult, RunRecord
from fleetops.secrets import redact

GATE_LATENCY_MS = 1000.0  # p95 over HTTP; above this a model fails the gate


def load_model(model_dir: Path) -> Manifest:
    return manifests.load(model_dir)


def smoke(target: Target, port: int, token, requests: int, **thresholds: float | None) -> str | None:
    """The inference smoke check against one gateway: its failure message, or None."""
    check = Inference(kind="inference", url=f"http://{{address}}:{port}", requests=requests, **thresholds)
    check = check.for_host({"edge": {"infer_token": token}})
    outcome = check.judge(check.collect(target, 30))
    return outcome.message if outcome.status == Status.CRITICAL else None


def gate(target: Target, port: int, token) -> str | None:
    """Correctness decides; the latency limit only catches a model that is unusably slow."""
    failure = smoke(target, port, token, 20, warn=None, crit=GATE_LATENCY_MS)
    return f"smoke gate failed: {failure}" if failure else None


def switched(operations: list[OperationResult]) -> bool:
    return any(op.name.endswith(SWITCH_STEP) and op.changed for op in operations)


def attempted(operations: list[OperationResult]) -> bool:
    """Whether the switch ran or was about to (a failed step after it counts)."""
    names = [op.name for op in operations]
    index = next((i for i, name in enumerate(names) if name.endswith(SWITCH_STEP)), None)
    return index is not None and operations[index].status in ("changed", "failed")


def step(name: str, failure: str | None, seconds: float) -> OperationResult:
    """A controller-side step (gate, ready again) as it appears among the host's operations."""
    return OperationResult(
        name=name,
        hash=f"controller-{name}",
        status="failed" if failure else "ok",
        changed=False,
        duration_s=round(seconds, 3),
        error=redact(failure) if failure else None,
    )


def to_roll_back(
    record: RunRecord, targets: dict[str, tuple[Target, int, object]], previous: dict[str, str | None], dest: str
) -> dict[str, str]:
    """Gate every gateway whose model was switched; the gateways to roll back, with the reason."""
    reasons = {}
    for name, result in record.hosts.items():
        if result.status == "unreachable" or not attempted(result.operations):
            continue
        reason: str | None
        if result.status == "failed":
            reason = result.error or "the release failed"
        else:
            started = time.perf_counter()
            reason = gate(*targets[name])
            result.operations.append(step("smoke gate", reason, time.perf_counter() - started))
        if reason:
            if previous.get(name) and previous[name] != dest:
                reasons[name] = reason
            else:
                result.status, result.error = "failed", f"{reason} (no previous model to roll back to)"
    return reasons


def merge_rollback(
    record: RunRecord, rollback: RunRecord, reasons: dict[str, str], targets: dict[str, tuple[Target, int, object]]
) -> None:
    """The rollback's operations and the final smoke check go into the release's record."""
    for name, reason in reasons.items():
        result, back = record.hosts[name], rollback.hosts.get(name)
        if back is not None:
            result.operations.extend(back.operations)
        started = time.perf_counter()
        target, port, token = targets[name]
        failure = None if back is None or back.status in ("ok", "changed") else (back.error or "rollback failed")
        failure = failure or smoke(target, port, token, 5)
        result.operations.append(
            step("ready again", f"after rollback: {failure}" if failure else None, time.perf_counter() - started)
        )
        result.status, result.error = "failed", f"rolled back: {reason}"
