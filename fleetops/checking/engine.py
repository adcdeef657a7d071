"""Sweep the fleet: every host in parallel, each host's probes in one SSH round trip.

The flow per host: controller-side checks (TCP, HTTP, TLS) and the SSH round trip run side by
side; then every check judges its raw data. A host that is down, slow or broken yields results
(CRITICAL ``reachable``, UNKNOWN for what could not be measured) and never delays the others
beyond its own timeout.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timezone

from fleetops.checking.remote import RoundTrip, round_trip
from fleetops.checking.target import SshTarget
from fleetops.checks.base import Check, Outcome, Target
from fleetops.checks.network import Reachable
from fleetops.checks.result import CheckResult, Status, worst
from fleetops.checks.suite import HostPlan
from fleetops.secrets import redact

DEFAULT_TIMEOUT = 10.0


@dataclass
class HostWork:
    """A host's plan and how to reach it."""

    plan: HostPlan
    target: SshTarget


@dataclass
class CheckRun:
    """The results of one sweep, the input of every output format."""

    suite: str
    inventory: str
    started: float
    finished: float = 0.0
    results: list[CheckResult] = field(default_factory=list)

    @property
    def status(self) -> Status:
        return worst([result.status for result in self.results])

    def host_status(self) -> dict[str, Status]:
        statuses: dict[str, list[Status]] = {}
        for result in self.results:
            statuses.setdefault(result.host, []).append(result.status)
        return {host: worst(found) for host, found in statuses.items()}

    def counts(self) -> dict[str, int]:
        counts = {status.label: 0 for status in Status}
        for result in self.results:
            counts[result.status.label] += 1
        return counts

    def to_dict(self) -> dict:
        return {
            "format": "fleetops.check-run/v1",
            "suite": self.suite,
            "inventory": self.inventory,
            "started": datetime.fromtimestamp(self.started, timezone.utc).isoformat(),
            "duration_s": round(self.finished - self.started, 3),
            "status": self.status.label,
            "exit_code": int(self.status),
            "counts": self.counts(),
            "hosts": {host: status.label for host, status in sorted(self.host_status().items())},
            "results": [result.to_dict() for result in self.results],
        }


def _requests(checks: list[Check]) -> tuple[list[dict], dict[str, str]]:
    """Deduplicated remote probes, and which probe id answers each check."""
    requests: list[dict] = []
    ids: dict[str, str] = {}
    by_key: dict[str, str] = {}
    for check in checks:
        if check.where != "host":
            continue
        probe = check.probe()
        if probe["op"] == "clock":
            continue
        key = json.dumps(probe, sort_keys=True)
        if key not in by_key:
            by_key[key] = str(len(requests))
            requests.append({"id": by_key[key], **probe})
        ids[check.name] = by_key[key]
    return requests, ids


def _judge(check: Check, raw: dict) -> Outcome:
    try:
        return check.verdict(raw)
    except (KeyError, TypeError, ValueError) as error:  # a probe answered something unexpected
        return Outcome(Status.UNKNOWN, f"could not judge probe data: {type(error).__name__}: {error}")


def check_host(work: HostWork, timeout: float, peers: dict[str, SshTarget] | None = None) -> list[CheckResult]:
    """All checks of one host; never raises for anything the host does."""
    checks = work.plan.checks
    requests, ids = _requests(checks)
    target = Target(name=work.target.name, address=work.target.hostname, ssh=peers)
    local = [check for check in checks if check.where == "controller"]
    local_raw: dict[str, tuple[dict, float]] = {}
    if not local:
        trip: RoundTrip = round_trip(work.target, requests, timeout)
    else:  # controller-side checks run while the host answers over SSH
        with ThreadPoolExecutor(max_workers=min(len(local), 4)) as pool:
            local_futures = {check.name: pool.submit(_collect_local, check, target, timeout) for check in local}
            trip = round_trip(work.target, requests, timeout)
            local_raw = {name: future.result() for name, future in local_futures.items()}
    results = []
    for check in checks:
        raw: dict
        duration = 0.0
        if isinstance(check, Reachable):
            raw = {"error": trip.error, "ms": trip.ms}
            duration = trip.ms / 1000
            if trip.cpu_s is not None:
                results.append(
                    check.result(
                        work.plan.host,
                        _judge(check, raw),
                        duration,
                        {"probe_cpu_ms": round(trip.cpu_s * 1000, 1), "probes": len(requests)},
                    )
                )
                continue
        elif check.where == "controller":
            raw, duration = local_raw[check.name]
        elif trip.error:
            results.append(
                check.result(work.plan.host, Outcome(Status.UNKNOWN, f"not measured: host unreachable ({trip.error})"))
            )
            continue
        elif trip.probe_error:
            results.append(check.result(work.plan.host, Outcome(Status.UNKNOWN, trip.probe_error)))
            continue
        elif check.probe()["op"] == "clock":
            raw = {"remote": trip.remote_clock, "sent": trip.sent, "received": trip.clock_at}
        else:
            raw = dict(trip.results.get(ids[check.name], {"error": "no answer from probe"}))
            duration = raw.pop("_seconds", 0.0)
            if not isinstance(duration, (int, float)) or isinstance(duration, bool):
                duration = 0.0
        results.append(check.result(work.plan.host, _judge(check, raw), duration))
    return results


def _host_failed(work: HostWork, error: BaseException) -> list[CheckResult]:
    """UNKNOWN for every check of a host whose results could not be built at all."""
    why = redact(f"could not check this host: {type(error).__name__}: {error}")[:300]
    return [check.result(work.plan.host, Outcome(Status.UNKNOWN, why)) for check in work.plan.checks]


def _collect_local(check: Check, target: Target, timeout: float) -> tuple[dict, float]:
    started = time.perf_counter()
    try:
        raw = check.collect(target, timeout)
    except Exception as error:  # noqa: BLE001 - a broken collector is an UNKNOWN, not a crash
        raw = {"error": f"{type(error).__name__}: {error}"}
    return raw, time.perf_counter() - started


def sweep(
    work: list[HostWork],
    *,
    suite: str,
    inventory: str,
    timeout: float = DEFAULT_TIMEOUT,
    parallel: int | None = None,
    on_host_done: Callable[[str, Status], None] | None = None,
) -> CheckRun:
    """Check every host in parallel (up to ``parallel`` at once, default all up to 100)."""
    run = CheckRun(suite=suite, inventory=inventory, started=time.time())
    workers = max(1, min(parallel or 100, len(work) or 1))
    by_host: dict[str, list[CheckResult]] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        peers = {item.target.name: item.target for item in work}
        futures = {pool.submit(check_host, item, timeout, peers): item.plan.host for item in work}
        for future in as_completed(futures):
            host = futures[future]
            try:
                by_host[host] = future.result()
            except Exception as error:  # noqa: BLE001 - one host never ends the whole sweep
                by_host[host] = _host_failed(next(w for w in work if w.plan.host == host), error)
            if on_host_done:
                on_host_done(host, worst([result.status for result in by_host[host]]))
    for item in work:
        run.results.extend(by_host[item.plan.host])
    run.finished = time.time()
    return run
