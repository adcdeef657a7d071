"""Sample every host over the same window at once (one SSH round trip each) and build the report.

The window runs on the hosts (``sample`` probe: /proc counters, or psutil; nvidia-smi for GPUs),
so every host is measured over the same wall-clock interval whatever the fleet size.
"""

from __future__ import annotations

import re
import statistics
import time
from datetime import datetime, timezone

from fleetops.checking.remote import round_trip
from fleetops.checking.target import SshTarget
from fleetops.errors import InputError
from fleetops.fanout import per_host

WINDOW = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|m)?$")
# A metric regresses when it is worse than the baseline by more than this (absolute points for
# percentages, relative for latencies).
THRESHOLDS = {"cpu_pct": 20.0, "mem_pct": 15.0, "disk_pct": 10.0}
LATENCY_GROWTH = 0.5


def parse_window(text: str) -> float:
    match = WINDOW.match(text.strip())
    if not match:
        raise InputError(f"--window: expected seconds like 60s or 2m, got {text!r}")
    seconds = float(match.group(1)) * (60 if match.group(2) == "m" else 1)
    if not 1 <= seconds <= 3600:
        raise InputError("--window must be between 1s and 60m")
    return seconds


def sample_host(target: SshTarget, window: float) -> dict:
    requests = [{"id": "0", "op": "sample", "args": {"window": window}}, {"id": "1", "op": "inference_log", "args": {}}]
    trip = round_trip(target, requests, timeout=window + 30)
    if trip.error or trip.probe_error:
        return {"host": target.name, "reachable": False, "error": trip.error or trip.probe_error}
    sample, inference = trip.results.get("0", {}), trip.results.get("1", {})
    for part in (sample, inference):
        part.pop("_seconds", None)
    if "error" in sample:
        return {"host": target.name, "reachable": True, "error": sample["error"]}
    return {
        "host": target.name,
        "reachable": True,
        "error": None,
        **sample,
        "inference": inference if inference.get("present") and inference.get("count") else None,
    }


def build(targets: list[SshTarget], window: float, parallel: int | None = None) -> dict:
    started = time.time()
    # every host samples the same window at once unless --parallel says fewer
    hosts = per_host(targets, lambda target: sample_host(target, window), parallel or len(targets))
    ok = [host for host in hosts if host["reachable"] and not host["error"]]
    gateways = [host for host in ok if host.get("inference")]

    def mean(key: str) -> float | None:
        values = [host[key] for host in ok]
        return round(statistics.fmean(values), 2) if values else None

    return {
        "format": "fleetops.report/v1",
        "started": datetime.fromtimestamp(started, timezone.utc).isoformat(timespec="seconds"),
        "window_s": window,
        "hosts": hosts,
        "fleet": {
            "hosts": len(hosts),
            "reachable": len(ok),
            "cpu_pct_mean": mean("cpu_pct"),
            "cpu_pct_max": max((h["cpu_pct"] for h in ok), default=None),
            "mem_pct_mean": mean("mem_pct"),
            "mem_pct_max": max((h["mem_pct"] for h in ok), default=None),
            "inferences": sum(h["inference"]["count"] for h in gateways),
            "latency_p95_max": max((h["inference"]["p95"] for h in gateways), default=None),
        },
        "regressions": [],
    }


def compare(report: dict, baseline: dict) -> list[dict]:
    """Metrics worse than the baseline by more than the thresholds, per host."""
    before = {host["host"]: host for host in baseline.get("hosts", []) if host.get("reachable")}
    found = []
    for host in report["hosts"]:
        old = before.get(host["host"])
        if not old or not host.get("reachable") or host.get("error"):
            continue
        for key, limit in THRESHOLDS.items():
            if host.get(key) is not None and old.get(key) is not None and host[key] - old[key] > limit:
                found.append(
                    {"host": host["host"], "metric": key, "baseline": round(old[key], 2), "now": round(host[key], 2)}
                )
        new_inf, old_inf = host.get("inference"), old.get("inference")
        if new_inf and old_inf and old_inf.get("p95") and new_inf["p95"] > old_inf["p95"] * (1 + LATENCY_GROWTH):
            found.append(
                {"host": host["host"], "metric": "latency_p95_ms", "baseline": old_inf["p95"], "now": new_inf["p95"]}
            )
    return found
