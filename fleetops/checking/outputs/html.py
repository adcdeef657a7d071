"""A self-contained HTML report: host × check status grid, worst hosts first, then the problems."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from fleetops.checking.engine import CheckRun
from fleetops.checks.result import Status
from fleetops.fileutil import atomic_write_text
from fleetops.render import render


def context(run: CheckRun) -> dict:
    host_status = run.host_status()
    hosts = sorted(host_status, key=lambda host: (-host_status[host].rank, host))
    checks: list[str] = []
    cells: dict[str, dict[str, object]] = {host: {} for host in hosts}
    for result in run.results:
        if result.check not in checks:
            checks.append(result.check)
        cells[result.host][result.check] = result
    problems = sorted(
        (result for result in run.results if result.status != Status.OK),
        key=lambda result: (-result.status.rank, result.host, result.check),
    )
    return {
        "run": run,
        "started": datetime.fromtimestamp(run.started, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "duration": f"{run.finished - run.started:.2f}",
        "status": run.status.label,
        "counts": run.counts(),
        "hosts": [{"name": host, "status": host_status[host].label} for host in hosts],
        "checks": checks,
        "cells": cells,
        "problems": problems,
    }


def render_html(run: CheckRun) -> str:
    return render("reports/check-report.html.j2", **context(run))


def write(run: CheckRun, path: Path) -> None:
    atomic_write_text(path, render_html(run))
