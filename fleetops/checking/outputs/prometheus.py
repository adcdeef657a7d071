"""Prometheus textfile-collector output (node_exporter ``--collector.textfile.directory``).

Gauges labelled by host and check: status (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN), the measured
value where it is a number, per-host worst status, and the run's timestamp and duration.
Written atomically, so node_exporter never reads half a file. The only output that is
world-readable (0644): node_exporter runs as its own user, and the file carries no messages,
only names, states and numbers.
"""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge
from prometheus_client.exposition import generate_latest

from fleetops.checking.engine import CheckRun
from fleetops.fileutil import atomic_write_bytes


def registry_for(run: CheckRun) -> CollectorRegistry:
    registry = CollectorRegistry()
    status = Gauge(
        "fleetops_check_status",
        "Check state: 0 ok, 1 warning, 2 critical, 3 unknown.",
        ["host", "check", "kind"],
        registry=registry,
    )
    value = Gauge(
        "fleetops_check_value",
        "Value the check measured (unit in the label).",
        ["host", "check", "kind", "unit"],
        registry=registry,
    )
    duration = Gauge(
        "fleetops_check_duration_seconds", "Time spent on one check.", ["host", "check"], registry=registry
    )
    host_status = Gauge("fleetops_host_status", "Worst check state of a host.", ["host"], registry=registry)
    last_run = Gauge(
        "fleetops_check_last_run_timestamp_seconds",
        "When the check run started (Unix time).",
        ["suite"],
        registry=registry,
    )
    run_duration = Gauge(
        "fleetops_check_run_duration_seconds", "Wall time of the check run.", ["suite"], registry=registry
    )
    for result in run.results:
        status.labels(result.host, result.check, result.kind).set(int(result.status))
        duration.labels(result.host, result.check).set(result.duration_s)
        if result.numeric_value is not None:
            value.labels(result.host, result.check, result.kind, result.unit).set(result.numeric_value)
    for host, worst in run.host_status().items():
        host_status.labels(host).set(int(worst))
    last_run.labels(run.suite).set(run.started)
    run_duration.labels(run.suite).set(run.finished - run.started)
    return registry


def render(run: CheckRun) -> str:
    return generate_latest(registry_for(run)).decode()


def write(run: CheckRun, path: Path) -> None:
    atomic_write_bytes(path, generate_latest(registry_for(run)), mode=0o644)
