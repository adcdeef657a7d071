"""What a check run produces: a Nagios-style status and the value the check saw.

The statuses follow the Nagios plugin contract (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN), so the
worst status of a run is also the exit code of ``fleetops check``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import IntEnum


class Status(IntEnum):
    """Nagios plugin states; the integer is the exit code."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @property
    def rank(self) -> int:
        """Badness for sorting: CRITICAL > UNKNOWN > WARNING > OK."""
        return {Status.OK: 0, Status.WARNING: 1, Status.UNKNOWN: 2, Status.CRITICAL: 3}[self]


def worst(statuses: list[Status]) -> Status:
    """The Nagios exit status of a set of results: CRITICAL, then UNKNOWN, then WARNING, then OK.

    A check that could not be measured (UNKNOWN) hides more than a known warning, so it ranks
    above WARNING; a dead host is CRITICAL through its ``reachable`` check anyway.
    """
    return max(statuses, key=lambda status: status.rank, default=Status.OK)


@dataclass
class CheckResult:
    """One check on one host: its status, the measured value and a human message."""

    host: str
    check: str
    kind: str
    status: Status
    message: str
    value: float | str | bool | None = None
    unit: str = ""
    severity: str = "critical"
    warn: float | None = None
    crit: float | None = None
    duration_s: float = 0.0
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["status"] = self.status.label
        return data

    @property
    def numeric_value(self) -> float | None:
        """The value as a number for metrics (booleans become 0/1), or None."""
        if isinstance(self.value, bool):
            return float(self.value)
        if isinstance(self.value, (int, float)):
            return float(self.value)
        return None
