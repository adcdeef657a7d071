"""JUnit XML: one ``<testsuite>`` per host, one ``<testcase>`` per check.

CRITICAL and WARNING become ``<failure>`` (with the status as its type) and UNKNOWN becomes
``<error>``, so CI dashboards show anything that is not OK; the message carries the value seen.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

from fleetops.checking.engine import CheckRun
from fleetops.checks.result import Status
from fleetops.fileutil import atomic_write_bytes


def to_xml(run: CheckRun) -> ET.ElementTree:
    root = ET.Element("testsuites", name=f"fleetops check ({run.suite})")
    stamp = datetime.fromtimestamp(run.started, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    hosts: dict[str, list] = {}
    for result in run.results:
        hosts.setdefault(result.host, []).append(result)
    for host, results in hosts.items():
        failures = sum(result.status in (Status.CRITICAL, Status.WARNING) for result in results)
        errors = sum(result.status == Status.UNKNOWN for result in results)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=host,
            hostname=host,
            timestamp=stamp,
            tests=str(len(results)),
            failures=str(failures),
            errors=str(errors),
            skipped="0",
            time=f"{sum(r.duration_s for r in results):.3f}",
        )
        for result in results:
            case = ET.SubElement(
                suite, "testcase", classname=f"fleetops.{host}", name=result.check, time=f"{result.duration_s:.3f}"
            )
            if result.status in (Status.CRITICAL, Status.WARNING):
                failure = ET.SubElement(case, "failure", type=result.status.label, message=result.message)
                failure.text = f"{result.kind} {result.check} on {host}: {result.message}"
            elif result.status == Status.UNKNOWN:
                error = ET.SubElement(case, "error", type="unknown", message=result.message)
                error.text = f"{result.kind} {result.check} on {host}: {result.message}"
            out = ET.SubElement(case, "system-out")
            out.text = f"status={result.status.label} value={result.value}{result.unit}"
        totals["tests"] += len(results)
        totals["failures"] += failures
        totals["errors"] += errors
    root.set("tests", str(totals["tests"]))
    root.set("failures", str(totals["failures"]))
    root.set("errors", str(totals["errors"]))
    root.set("time", f"{run.finished - run.started:.3f}")
    ET.indent(root)
    return ET.ElementTree(root)


def write(run: CheckRun, path: Path) -> None:
    root = to_xml(run).getroot()
    assert root is not None
    atomic_write_bytes(path, ET.tostring(root, encoding="utf-8", xml_declaration=True))
