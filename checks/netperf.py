"""Network performance from a host: ``{kind: ping, target: 10.77.0.12, count: 10}``.

The probe runs the host's own ``ping`` (iputils) inside the one round trip, so the latency is
the host's path to its peer, not the controller's. The value is the p95 round trip in ms
(``warn``/``crit``); packet loss has its own limits (``loss_warn``/``loss_crit``, %). 100 % loss
is CRITICAL; a host without ``ping`` is UNKNOWN, never a pass.
"""

from __future__ import annotations

import re
import statistics
from typing import ClassVar, Literal

from pydantic import Field

from fleetops.checks.base import Check, Outcome, failed
from fleetops.checks.network import HOSTNAME_PATTERN
from fleetops.checks.result import Status

TIME = re.compile(r"time[=<]([0-9.]+) ms")
LOSS = re.compile(r"([0-9.]+)% packet loss")


def parse_ping(text: str) -> dict:
    """iputils ping output -> round trips (ms), transmitted/received, loss %."""
    times = [float(found) for found in TIME.findall(text)]
    sent = re.search(r"(\d+) packets transmitted, (\d+) (?:packets )?received", text)
    loss = LOSS.search(text)
    return {
        "times": times,
        "sent": int(sent.group(1)) if sent else None,
        "received": int(sent.group(2)) if sent else len(times),
        "loss": float(loss.group(1)) if loss else None,
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


class Ping(Check):
    kind: Literal["ping"]
    target: str = Field(pattern=HOSTNAME_PATTERN)
    count: int = Field(10, ge=1, le=100)
    interval: float = Field(0.2, ge=0.2, le=5)
    loss_warn: float = Field(1.0, ge=0, le=100)
    loss_crit: float = Field(10.0, ge=0, le=100)
    unit: ClassVar[str] = "ms"
    default_warn: ClassVar[float | None] = 50.0
    default_crit: ClassVar[float | None] = 200.0

    def default_name(self) -> str:
        return f"ping:{self.target}"

    def probe(self) -> dict:
        return {"op": "ping", "args": {"target": self.target, "count": self.count, "interval": self.interval}}

    def judge(self, raw: dict) -> Outcome:
        if raw.get("missing"):
            return failed("ping is not installed on the host (iputils-ping)", Status.UNKNOWN)
        found = parse_ping(raw["output"])
        loss = found["loss"] if found["loss"] is not None else 100.0
        if not found["times"]:
            return failed(f"ping {self.target}: no reply ({loss:g}% loss of {found['sent'] or self.count})", value=None)
        p50, p95 = statistics.median(found["times"]), percentile(found["times"], 0.95)
        outcome = self.measured(p95, f"ping {self.target}: p95", "{:.3f}")
        outcome.message += f", p50 {p50:.3f} ms, loss {loss:g}% of {found['sent']}"
        loss_status = (
            Status.CRITICAL if loss >= self.loss_crit else Status.WARNING if loss >= self.loss_warn else Status.OK
        )
        if self.loss_warn == 0 and loss == 0:
            loss_status = Status.OK
        if loss_status > outcome.status:
            outcome.status = loss_status
            outcome.message += f" (loss warn {self.loss_warn:g}%, crit {self.loss_crit:g}%)"
        return outcome
