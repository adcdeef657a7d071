"""Database servers and their backups: server up, status values, backup age, last verification."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from fleetops.checks.base import Check, Outcome, failed, passed
from fleetops.checks.result import Status


class Mysql(Check):
    """MariaDB/MySQL on the host, read as root over its unix socket.

    + ``metric: alive`` (default): the server answers ``mysqladmin ping``; value = uptime (s)
    + ``metric: connections``: connected threads in % of ``max_connections`` (warn 80, crit 95)
    + ``metric: slow_queries``: the server's slow-query counter (give warn/crit)
    """

    kind: Literal["mysql"]
    metric: Literal["alive", "connections", "slow_queries"] = "alive"

    def default_name(self) -> str:
        return "mysql" if self.metric == "alive" else f"mysql:{self.metric}"

    @property
    def unit(self) -> str:  # type: ignore[override]
        return {"alive": "s", "connections": "%", "slow_queries": ""}[self.metric]

    def model_post_init(self, _context: object) -> None:
        if self.metric == "connections":
            if "warn" not in self.model_fields_set:
                object.__setattr__(self, "warn", 80.0)
            if "crit" not in self.model_fields_set:
                object.__setattr__(self, "crit", 95.0)

    def probe(self) -> dict:
        return {"op": "mysql"}

    def judge(self, raw: dict) -> Outcome:
        if not raw["alive"]:
            return failed(f"server not answering: {raw.get('error_text', '')}", value=False)
        if "status" not in raw:
            return Outcome(Status.UNKNOWN, f"cannot read status: {raw.get('error_text', '')}")
        status = raw["status"]
        if self.metric == "alive":
            return passed(f"up {status['uptime']} s, {status['threads_connected']} connected", status["uptime"])
        if self.metric == "connections":
            used = 100.0 * status["threads_connected"] / max(1, status["max_connections"])
            outcome = self.measured(used, "connections")
            outcome.message += f" ({status['threads_connected']} of {status['max_connections']})"
            return outcome
        return self.measured(float(status["slow_queries"]), "slow queries", "{:.0f}")


class Backup(Check):
    """Backups under ``destination``: the newest one's age, or the last successful verification's.

    + ``what: age`` (default): hours since the newest complete backup (crit 26 h by default)
    + ``what: verified``: hours since the last successful ``fleetops backup verify`` (crit 8 d);
      a failed last verification is CRITICAL whatever its age
    """

    kind: Literal["backup"]
    what: Literal["age", "verified"] = "age"
    destination: str = Field("/var/backups/fleetops-mysql", pattern=r"^/[^\x00\n]*$")
    unit: ClassVar[str] = "h"

    def model_post_init(self, _context: object) -> None:
        if "crit" not in self.model_fields_set:
            object.__setattr__(self, "crit", 26.0 if self.what == "age" else 192.0)

    def default_name(self) -> str:
        return "backup:age" if self.what == "age" else "backup:verified"

    def probe(self) -> dict:
        return {"op": "backups", "args": {"destination": self.destination}}

    def judge(self, raw: dict) -> Outcome:
        if not raw["exists"]:
            return failed(f"{self.destination}: {raw['error_text']}")
        if self.what == "age":
            if not raw["newest"]:
                return failed(f"no complete backup in {self.destination}")
            hours = (raw["now"] - raw["newest"]["mtime"]) / 3600
            outcome = self.measured(hours, f"newest backup {raw['newest']['id']} age", "{:.1f}")
            outcome.message += f"; {raw['count']} kept"
            return outcome
        last = raw.get("last_verify")
        if last and last.get("status") != "ok":
            return failed(f"last verification of {last.get('backup')} failed: {last.get('detail')}")
        if not raw.get("verified"):
            return failed("never verified (run `fleetops backup verify`)")
        hours = (raw["now"] - raw["verified"]["time"]) / 3600
        return self.measured(hours, f"backup {raw['verified']['backup']} verified, age", "{:.1f}")
