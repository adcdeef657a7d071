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


class Throughput(Check):
    """``{kind: throughput, server: db1, seconds: 3}``: TCP throughput from this host to another
    host of the same sweep, measured with iperf3 (Debian's). The check starts a one-shot iperf3
    server on ``server`` (``-s -1``: it exits after one test), runs the client here for
    ``seconds``, and reads the receiver's figure; both over the hosts' own SSH connections, so
    it costs two extra sessions (a throughput test cannot share the probe's round trip). Lower is
    worse: ``warn``/``crit`` in Mbit/s."""

    kind: Literal["throughput"]
    server: str = Field(pattern=HOSTNAME_PATTERN, description="an inventory host name in the same sweep")
    seconds: int = Field(3, ge=1, le=30)
    port: int = Field(5201, ge=1024, le=65535)
    unit: ClassVar[str] = "Mbit/s"
    where: ClassVar[str] = "controller"
    higher_is_worse: ClassVar[bool] = False

    def default_name(self) -> str:
        return f"throughput:{self.server}"

    def collect(self, target, timeout: float) -> dict:
        import json

        from fleetops.remote_exec import run_command

        peers = target.ssh or {}
        if self.server not in peers or target.name not in peers:
            return {"error": f"{self.server} is not a host of this check run"}
        server, client = peers[self.server], peers[target.name]
        start = run_command(
            server, f"command -v iperf3 >/dev/null || exit 127; iperf3 -s -1 -D -p {self.port}", timeout=20
        )
        if isinstance(start, str) or start[0] != 0:
            missing = not isinstance(start, str) and start[0] == 127
            return {
                "error": f"iperf3 is not installed on {self.server}"
                if missing
                else f"cannot start iperf3 on {self.server}: {start}"
            }
        answer = run_command(
            client,
            f"command -v iperf3 >/dev/null || exit 127; sleep 0.3; iperf3 -J -c {server.hostname} -p {self.port} -t {self.seconds}",
            timeout=self.seconds + 30,
        )
        if isinstance(answer, str):
            return {"error": f"{target.name}: {answer}"}
        code, out, _err = answer
        if code == 127:
            return {"error": f"iperf3 is not installed on {target.name}"}
        try:
            data = json.loads(out)
        except ValueError:
            return {"error": f"iperf3 answered no JSON (exit {code})"}
        return {"iperf3": data}

    def judge(self, raw: dict) -> Outcome:
        if "error" in raw:
            return failed(raw["error"], Status.UNKNOWN)
        data = raw["iperf3"]
        if data.get("error"):
            return failed(f"iperf3 to {self.server}: {data['error']}")
        received = data["end"]["sum_received"]["bits_per_second"] / 1e6
        retransmits = data["end"].get("sum_sent", {}).get("retransmits")
        outcome = self.measured(received, f"throughput to {self.server}", "{:.0f}")
        if retransmits is not None:
            outcome.message += f", {retransmits} retransmits in {self.seconds}s"
        return outcome
