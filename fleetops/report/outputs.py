"""Report outputs: CSV (one row per host), JSON, and a self-contained HTML page with SVG charts."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from fleetops.fileutil import atomic_write_text
from fleetops.render import render

COLUMNS = [
    "host",
    "reachable",
    "cpu_pct",
    "mem_pct",
    "disk_pct",
    "net_rx_bps",
    "net_tx_bps",
    "gpu",
    "inferences",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "below_threshold_share",
    "error",
]


def rows(report: dict) -> list[dict]:
    out = []
    for host in report["hosts"]:
        inference = host.get("inference") or {}
        gpu = host.get("gpu")
        out.append(
            {
                "host": host["host"],
                "reachable": host["reachable"],
                **{
                    key: (round(host[key], 2) if isinstance(host.get(key), float) else host.get(key))
                    for key in ("cpu_pct", "mem_pct", "disk_pct", "net_rx_bps", "net_tx_bps")
                },
                "gpu": "no GPU" if not gpu else f"{gpu['util_pct']:.0f}% util, {gpu['mem_pct']:.0f}% mem",
                "inferences": inference.get("count", 0),
                "latency_p50_ms": inference.get("p50"),
                "latency_p95_ms": inference.get("p95"),
                "latency_p99_ms": inference.get("p99"),
                "below_threshold_share": inference.get("below_threshold_share"),
                "error": host.get("error") or "",
            }
        )
    return out


def to_csv(report: dict) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows(report))
    return buffer.getvalue()


def write_csv(report: dict, path: Path) -> None:
    atomic_write_text(path, to_csv(report))


def write_json(report: dict, path: Path) -> None:
    atomic_write_text(path, json.dumps(report, indent=2) + "\n")


def write_html(report: dict, path: Path) -> None:
    table = rows(report)
    bars = [
        {"host": row["host"], "cpu": row["cpu_pct"] or 0, "mem": row["mem_pct"] or 0}
        for row in table
        if row["reachable"] and not row["error"]
    ]
    gateways = [{"host": host["host"], **host["inference"]} for host in report["hosts"] if host.get("inference")]
    atomic_write_text(
        path,
        render("reports/performance.html.j2", report=report, rows=table, columns=COLUMNS, bars=bars, gateways=gateways),
    )
