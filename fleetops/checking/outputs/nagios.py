"""The Nagios plugin contract: one status line with performance data; exit code = state."""

from __future__ import annotations

from fleetops.checking.engine import CheckRun
from fleetops.checks.result import Status


def status_line(run: CheckRun, shown: int = 3) -> str:
    """e.g. ``FLEETOPS CRITICAL - 1 critical, 0 unknown, 1 warning, 38 ok on 3 hosts: db1 disk ...``."""
    counts = run.counts()
    problems = sorted(
        (result for result in run.results if result.status != Status.OK), key=lambda result: -result.status.rank
    )
    summary = (
        f"{counts['critical']} critical, {counts['unknown']} unknown, "
        f"{counts['warning']} warning, {counts['ok']} ok on {len(run.host_status())} hosts"
    )
    detail = "; ".join(f"{result.host} {result.check}: {result.message}" for result in problems[:shown])
    if len(problems) > shown:
        detail += f"; and {len(problems) - shown} more"
    perf = " ".join(f"{label}={counts[label]};;;0" for label in ("ok", "warning", "critical", "unknown"))
    perf += f" duration={run.finished - run.started:.3f}s;;;0"
    text = f"FLEETOPS {run.status.name} - {summary}" + (f": {detail}" if detail else "")
    return text.replace("|", "/") + f" | {perf}"
