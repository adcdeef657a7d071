"""A number the candidate wrote down equals fleetops' own measurement:
``{kind: report_matches, path: /root/report.txt, pattern: "p95[^0-9]*([0-9.]+)", tolerance: 0.2,
measure: {kind: command, command: "nproc"}}``.

``measure`` is any host-side check; its measured value is the reference. The candidate's number is
the first group of ``pattern`` in the file. ``tolerance`` is relative (0.2 = within 20 %) unless
``absolute: true``. Both are read in the same round trip, so they describe the same moment.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator

from fleetops.checks.base import Check, Outcome, compile_pattern, failed, passed
from fleetops.checks.result import Status


class ReportMatches(Check):
    kind: Literal["report_matches"]
    path: str = Field(pattern=r"^/")
    pattern: str
    measure: dict[str, Any]
    tolerance: float = Field(0.1, ge=0)
    absolute: bool = False

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        compile_pattern(value, "pattern")
        if re.compile(value).groups < 1:
            raise ValueError("pattern: needs a group around the number, e.g. 'p95: ([0-9.]+)'")
        return value

    @field_validator("measure")
    @classmethod
    def _measure(cls, value: dict[str, Any]) -> dict[str, Any]:
        check = _measure_check(value)
        if check.where != "host":
            raise ValueError(f"measure: a host-side check kind is needed, not {check.kind}")
        return value

    def default_name(self) -> str:
        return f"report:{self.path}"

    def probe(self) -> dict:
        return {"op": "report", "args": {"path": self.path, "measure": _measure_check(self.measure).probe()}}

    def judge(self, raw: dict) -> Outcome:
        if not raw["exists"]:
            return failed(f"{self.path} does not exist")
        found = re.search(self.pattern, raw["text"], re.MULTILINE)
        if not found:
            return failed(f"{self.path}: no number matching {self.pattern!r}")
        try:
            written = float(found.group(1))
        except ValueError:
            return failed(f"{self.path}: {found.group(1)!r} is not a number")
        reference = _measure_check(self.measure).verdict(raw["measure"])
        if reference.status == Status.UNKNOWN or not isinstance(reference.value, (int, float)):
            return Outcome(Status.UNKNOWN, f"reference not measured: {reference.message}")
        actual = float(reference.value)
        allowed = self.tolerance if self.absolute else self.tolerance * abs(actual)
        if abs(written - actual) > allowed:
            return failed(f"{self.path}: {written:g}, measured {actual:g} (tolerance {allowed:g})", value=written)
        return passed(f"{self.path}: {written:g}, measured {actual:g}", written)


def _measure_check(declaration: dict[str, Any]) -> Check:
    from fleetops.checks.registry import CHECK_LIST

    return CHECK_LIST.validate_python([declaration])[0]
