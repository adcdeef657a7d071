"""``fleetops firmware update``: one gateway's A/B update, from preflight to the recorded verdict.

Per gateway: preflight (the tool's status: no trial pending, the bundle fits the gateway's
``/etc/hwrevision``, the version gate) → upload to the private incoming directory → install into
the inactive slot (the gateway tool runs SWUpdate and trusts the exit code only when the
environment agrees) → reboot → wait until the new boot has settled: the trial ended on the gateway
(its health tests failed, or the boot limit was hit) or its on-gateway health passed → the
controller's health gate, a check suite run against the gateway: all OK commits, anything else
rolls back with the failing checks' output as the reason and reboots into the old slot.

The controller never commits on a timeout: a gateway that does not settle in time keeps its
trial, and its own deadline timer or boot limit decides. Every outcome names who decided
(``health-gate``, ``health``, ``bootloader``, ``deadline``) and why, read from the gateway's
history, so the record says what the gateway itself wrote.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from fleetops.checking.target import SshTarget
from fleetops.firmware import layout, remote, versions
from fleetops.firmware.remote import Unreachable
from fleetops.firmware.verify import VerifiedBundle, hardware_refusal

BOOT_SECONDS = 90.0  # one boot of a gateway, generously (lab containers take 1-3 s)
POLL_SECONDS = 1.0
OUTCOMES = ("committed", "rolled_back", "refused", "failed", "timeout", "unreachable")


@dataclass
class Step:
    name: str
    status: str = "ok"
    duration_s: float = 0.0
    error: str | None = None


@dataclass
class GatewayOutcome:
    """What happened on one gateway; ``outcome`` is one of OUTCOMES."""

    host: str
    outcome: str = "failed"
    by: str | None = None
    reason: str | None = None
    from_version: str = ""
    to_version: str = ""
    from_slot: str = ""
    to_slot: str = ""
    boots: int = 0
    duration_s: float = 0.0
    steps: list[Step] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "outcome": self.outcome,
            "by": self.by,
            "reason": self.reason,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "from_slot": self.from_slot,
            "to_slot": self.to_slot,
            "boots": self.boots,
            "duration_s": round(self.duration_s, 3),
        }


class Stop(Exception):
    """Ends one gateway's update with an outcome (raised inside a step)."""

    def __init__(self, outcome: str, reason: str, by: str | None = None) -> None:
        super().__init__(reason)
        self.outcome, self.reason, self.by = outcome, reason, by


@dataclass(frozen=True)
class Policy:
    """How updates are judged: the gate (a callable running the check suite on one host and
    returning None or the failing checks' output), ``force`` (same version, downgrade), and the
    gateway's trial timings from its group data."""

    gate: Callable[[str], str | None] | None
    force: bool = False
    health_timeout: dict[str, int] = field(default_factory=dict)


def update_gateway(
    target: SshTarget, bundle: VerifiedBundle, policy: Policy, say: Callable[[str], None] = lambda _m: None
) -> GatewayOutcome:
    """Update one gateway; never raises for what a gateway does (the outcome records it)."""
    result = GatewayOutcome(target.name, to_version=bundle.version)
    started = time.monotonic()

    @contextmanager
    def step(name: str):
        entry = Step(name)
        result.steps.append(entry)
        begun = time.monotonic()
        try:
            yield entry
        except Stop as stop:
            entry.status, entry.error = ("failed", stop.reason)
            raise
        except Unreachable as error:
            entry.status, entry.error = "failed", str(error)
            raise Stop("unreachable", f"{name}: {error}") from None
        finally:
            entry.duration_s = round(time.monotonic() - begun, 3)

    try:
        with step("preflight"):
            status = _status(target)
            result.from_version, result.from_slot = status.get("version", ""), status.get("booted_slot", "")
            if status.get("trial_pending"):
                raise Stop("refused", f"a trial of {status.get('trial_version') or 'an update'} is pending")
            refusal = hardware_refusal(bundle, status.get("board", ""), status.get("revision", ""))
            refusal = refusal or versions.gate(bundle.version, result.from_version, policy.force)
            if refusal:
                raise Stop("refused", refusal)
            if status.get("recovery_status"):
                say(f"{target.name}: an earlier install was interrupted (recovery_status); installing over it")
        incoming = f"{layout.INCOMING}/{bundle.sha256[:16]}.swu"
        with step("upload"):
            remote.upload(target, str(bundle.path), incoming)
        with step("install"):
            say(f"{target.name}: installing {bundle.version} into the inactive slot")
            args = ["install", incoming, "--version", bundle.version] + (["--force"] if policy.force else [])
            answer = remote.run_tool(target, *args, timeout=1800)
            remote.run_shell(target, f"rm -f {incoming}")
            if not answer.ok:
                outcome = "refused" if answer.status == 3 or "refused" in answer.error else "failed"
                raise Stop(outcome, answer.error, by="install")
            result.to_slot = answer.data["slot"]
        with step("reboot"):
            say(f"{target.name}: rebooting into slot {result.to_slot}")
            remote.reboot(target)
        budget = (status.get("bootlimit", 3) + 1) * (BOOT_SECONDS + policy.health_timeout.get(target.name, 50)) + 60
        with step("trial"):
            settled = wait_settled(target, status.get("boot_id", ""), budget)
        if not settled.get("trial_pending"):
            _from_history(target, result)  # the gateway ended the trial itself
        else:
            with step("health gate"):
                verdict = policy.gate(target.name) if policy.gate else None
                if verdict is None:
                    answer = remote.run_tool(target, "commit", "--by", "health-gate")
                    if not answer.ok:
                        raise Stop("failed", f"commit failed: {answer.error}")
                else:
                    say(f"{target.name}: health gate failed, rolling back: {verdict}")
                    answer = remote.run_tool(target, "rollback", "--by", "health-gate", "--reboot", stdin=verdict)
                    if not answer.ok:
                        raise Stop("failed", f"rollback failed: {answer.error}")
            if verdict is not None:
                with step("rollback boot"):
                    wait_settled(target, settled.get("boot_id", ""), BOOT_SECONDS + 60)
            _from_history(target, result)
    except Stop as stop:
        result.outcome, result.reason, result.by = stop.outcome, stop.reason, stop.by
    result.duration_s = time.monotonic() - started
    return result


def _status(target: SshTarget) -> dict:
    answer = remote.run_tool(target, "status", timeout=30)
    if not answer.ok:
        raise Stop("failed", f"fleetops-fw status failed ({answer.error}): converge deploys/firmware.py first")
    return answer.data


SETTLE_COMMAND = (
    remote.tool_command("status")
    + f"; systemctl is-system-running; systemctl show -p ActiveState --value {layout.HEALTH_UNIT}"
)


def settled_state(stdout: str, old_boot_id: str) -> dict | None:
    """The status once a new boot has settled (booted, system up, health gate done), else None. Pure."""
    import json

    lines = stdout.strip().splitlines()
    status_lines = [line for line in lines if line.startswith("{")]
    if not status_lines or len(lines) < 3:
        return None
    try:
        status = json.loads(status_lines[-1])
    except ValueError:
        return None
    system, health = lines[-2].strip(), lines[-1].strip()
    if not status.get("ok") or not status.get("boot_id") or status["boot_id"] == old_boot_id:
        return None
    if system not in ("running", "degraded") or health in ("activating", "deactivating", "reloading"):
        return None
    if status.get("booted_slot") != status.get("boot_slot"):
        return None  # the environment was switched on this boot: the reboot into it is under way
    if status.get("trial_pending") and status.get("health") != "ok":
        return None  # the trial's health gate has not passed (a boot loop, or still to run)
    return status


def wait_settled(target: SshTarget, old_boot_id: str, budget: float) -> dict:
    deadline = time.monotonic() + budget
    while time.monotonic() < deadline:
        try:
            _code, stdout = remote.run_shell(target, SETTLE_COMMAND, timeout=15)
            state = settled_state(stdout, old_boot_id)
            if state is not None:
                return state
        except Unreachable:
            pass  # rebooting
        time.sleep(POLL_SECONDS)
    raise Stop(
        "timeout",
        f"the gateway did not settle within {budget:.0f} s; its boot limit or trial deadline decides",
    )


def _from_history(target: SshTarget, result: GatewayOutcome) -> None:
    """Outcome, decider, reason and boots from the gateway's history since the last install."""
    answer = remote.run_tool(target, "history", "--last", "50")
    events = answer.data.get("events", []) if answer.ok else []
    installs = [i for i, event in enumerate(events) if event.get("event") == "install"]
    trial = events[installs[-1] + 1 :] if installs else []
    result.boots = sum(1 for event in trial if event.get("event") == "trial-boot")
    ends = [event for event in trial if event.get("event") in ("commit", "rollback")]
    if not ends:
        raise Stop("failed", "the gateway's history records no commit or rollback for this trial")
    end = ends[-1]
    result.by, result.reason = end.get("by"), end.get("reason")
    if end["event"] == "commit":
        result.outcome = "committed"
    else:
        result.outcome = "rolled_back"
