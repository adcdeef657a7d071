"""The base of every check: a validated declaration that knows how to probe and how to judge.

A check is declared as data (``{kind: disk, warn: 80, crit: 90}``) and validated by its pydantic
model. It runs in two halves, like a pyinfra fact: ``probe()`` names what to collect (on the host,
batched into one remote script, or on the controller) and ``judge(raw)`` is a pure function from
the collected data to an :class:`Outcome`, so every rule is unit-tested from captured output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fleetops.checks.result import CheckResult, Status
from fleetops.secrets import redact

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:/@-]{0,79}$"


@dataclass
class Outcome:
    """The judgement of one check: status, a short message and the value seen."""

    status: Status
    message: str
    value: Any = None


@dataclass
class Target:
    """What controller-side checks need to know about a host; ``ssh`` maps every host of the
    sweep to how to reach it (an SshTarget), for checks that work between two hosts."""

    name: str
    address: str
    ssh: dict[str, Any] | None = None


class Check(BaseModel):
    """Common fields: name, severity, warn/crit thresholds and the suite selectors."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str
    name: str = Field("", pattern=r"^$|" + NAME_PATTERN)
    severity: Literal["critical", "warning"] = "critical"
    warn: float | None = None
    crit: float | None = None
    groups: list[str] = Field(default_factory=list, description="only hosts in these groups")
    hosts: list[str] = Field(default_factory=list, description="only these hosts")

    where: ClassVar[Literal["host", "controller"]] = "host"
    unit: ClassVar[str] = ""
    higher_is_worse: ClassVar[bool] = True
    default_warn: ClassVar[float | None] = None
    default_crit: ClassVar[float | None] = None

    @model_validator(mode="after")
    def _defaults(self) -> "Check":
        if not self.name:
            object.__setattr__(self, "name", self.default_name())
        if self.warn is None and "warn" not in self.model_fields_set:
            object.__setattr__(self, "warn", self.default_warn)
        if self.crit is None and "crit" not in self.model_fields_set:
            object.__setattr__(self, "crit", self.default_crit)
        if self.warn is not None and self.crit is not None:
            if (self.warn > self.crit) if self.higher_is_worse else (self.warn < self.crit):
                order = "above" if self.higher_is_worse else "below"
                raise ValueError(f"crit ({self.crit:g}) must be {order} warn ({self.warn:g}) for a {self.kind} check")
        return self

    def default_name(self) -> str:
        """The name used when the suite gives none, e.g. ``service:nginx``."""
        return self.kind

    def for_host(self, data: dict) -> "Check":
        """This check as it runs on a host with group data ``data`` (most kinds need nothing from
        it; a kind that needs a host's credential takes it here, never from a suite file)."""
        return self

    # -- the two halves ----------------------------------------------------------------------
    def probe(self) -> dict:
        """Host-side checks: the remote probe to run, ``{"op": ..., "args": {...}}``."""
        raise NotImplementedError

    def collect(self, target: Target, timeout: float) -> dict:
        """Controller-side checks: gather the raw data from here."""
        raise NotImplementedError

    def verdict(self, raw: dict) -> Outcome:
        """What the engine calls: a host-side probe that failed on the host is UNKNOWN for every
        kind (decided here, once), anything else is the kind's own :meth:`judge`."""
        if self.where == "host" and (error := probe_error(raw)):
            return error
        return self.judge(raw)

    def judge(self, raw: dict) -> Outcome:
        """Pure: turn raw probe data into an outcome."""
        raise NotImplementedError

    # -- helpers -----------------------------------------------------------------------------
    def grade(self, value: float) -> Status:
        """Compare a measured value with the warn/crit thresholds."""

        def beyond(limit: float | None) -> bool:
            if limit is None:
                return False
            return value >= limit if self.higher_is_worse else value <= limit

        if beyond(self.crit):
            return Status.CRITICAL
        if beyond(self.warn):
            return Status.WARNING
        return Status.OK

    def measured(self, value: float, what: str, fmt: str = "{:.1f}") -> Outcome:
        """A threshold outcome with a message such as ``disk / 91.2% (warn 80, crit 90)``."""
        status = self.grade(value)
        shown = fmt.format(value) + self.unit
        limits = ", ".join(
            f"{label} {limit:g}" for label, limit in (("warn", self.warn), ("crit", self.crit)) if limit is not None
        )
        return Outcome(status, f"{what} {shown}" + (f" ({limits})" if limits else ""), value)

    def result(self, host: str, outcome: Outcome, duration_s: float = 0.0, details: dict | None = None) -> CheckResult:
        """The final result, with the check's severity capping a failure at WARNING."""
        status = outcome.status
        if self.severity == "warning" and status == Status.CRITICAL:
            status = Status.WARNING
        value = outcome.value
        if isinstance(value, float):
            value = round(value, 4)
        return CheckResult(
            host=host,
            check=self.name,
            kind=self.kind,
            status=status,
            message=redact(outcome.message),
            value=value,
            unit=self.unit,
            severity=self.severity,
            warn=self.warn,
            crit=self.crit,
            duration_s=round(duration_s, 4),
            details=details or {},
        )


def failed(message: str, status: Status = Status.CRITICAL, value: Any = None) -> Outcome:
    return Outcome(status, message, value)


def passed(message: str, value: Any = None) -> Outcome:
    return Outcome(Status.OK, message, value)


def probe_error(raw: dict) -> Outcome | None:
    """An UNKNOWN outcome when the probe itself failed on the host."""
    if "error" in raw:
        return Outcome(Status.UNKNOWN, f"probe failed: {raw['error']}")
    return None


def compile_pattern(pattern: str, field: str) -> str:
    """Validate a regular expression in a check declaration."""
    try:
        re.compile(pattern)
    except re.error as error:
        raise ValueError(f"{field}: invalid regular expression: {error}") from None
    return pattern
