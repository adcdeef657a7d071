"""A/B firmware state: ``{kind: firmware, version: "2.0.0", slot: b, trial: false}``.

The probe asks the gateway tool (``fleetops-fw status``), the one program that reads the boot
environment, so the check sees what the bootloader and SWUpdate see. CRITICAL when the tool is
missing, the booted version or slot is not the expected one, or a slot is armed that did not
boot outside a trial; WARNING while a trial is pending (unless ``trial: true`` allows it), after
an interrupted install (``recovery_status``) and when the last update was rolled back (its
reason in the message, unless ``warn_on_rollback: false``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from fleetops.checks.base import Check, Outcome, failed, passed
from fleetops.checks.result import Status
from fleetops.firmware import layout
from fleetops.firmware.versions import VERSION


class Firmware(Check):
    """The gateway's firmware: ``version`` and ``slot`` expected (optional), ``trial`` allowed or
    not (default: a pending trial warns), ``warn_on_rollback``."""

    kind: Literal["firmware"]
    version: str | None = Field(None, pattern=VERSION.pattern)
    slot: Literal["a", "b"] | None = None
    trial: bool = False
    warn_on_rollback: bool = True

    def default_name(self) -> str:
        return "firmware"

    def probe(self) -> dict:
        return {"op": "firmware", "args": {"tool": layout.TOOL, "config": layout.CONFIG}}

    def judge(self, raw: dict) -> Outcome:
        if not raw.get("installed"):
            return failed("no A/B firmware on this host (fleetops-fw is not installed)")
        status = raw.get("status") or {}
        if not status.get("ok"):
            return failed(f"fleetops-fw status failed: {status.get('error') or raw.get('stderr', '')[:200]}")
        booted, armed, version = status.get("booted_slot"), status.get("boot_slot"), status.get("version", "")
        summary = f"firmware {version or '?'} on slot {booted or '?'}"
        if self.version is not None and version != self.version:
            return failed(f"{summary}, expected {self.version}", value=version)
        if self.slot is not None and booted != self.slot:
            return failed(f"{summary}, expected slot {self.slot}", value=version)
        if status.get("trial_pending"):
            message = f"{summary}: trial of {status.get('trial_version') or '?'} on slot {armed} pending"
            if status.get("health") == "ok":
                message += " (on-gateway health passed, awaiting commit)"
            return passed(message, value=version) if self.trial else failed(message, Status.WARNING, value=version)
        if booted and armed and booted != armed:
            return failed(f"{summary} but slot {armed} is armed outside a trial", value=version)
        if status.get("recovery_status"):
            return failed(
                f"{summary}: an interrupted install left slot {layout.other(armed or 'a')} incomplete "
                f"(recovery_status={status['recovery_status']})",
                Status.WARNING,
                value=version,
            )
        last = status.get("last_event") or {}
        if self.warn_on_rollback and last.get("event") == "rollback":
            return failed(
                f"{summary}: the update to {last.get('version') or '?'} was rolled back by {last.get('by')}: "
                f"{str(last.get('reason', ''))[:160]}",
                Status.WARNING,
                value=version,
            )
        return passed(f"{summary}, committed", value=version)
