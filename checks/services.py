"""What runs on a host: systemd services, processes and listening ports."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from fleetops.checks.base import Check, Outcome, compile_pattern, failed, passed

UNIT_PATTERN = r"^[A-Za-z0-9@._:-]+$"


class Service(Check):
    """A systemd unit is active (running) and, optionally, enabled at boot.

    ``{kind: service, unit: nginx}``; ``enabled: null`` skips the boot check.
    """

    kind: Literal["service"]
    unit_name: str = Field(alias="unit", pattern=UNIT_PATTERN)
    active: bool = True
    enabled: bool | None = True

    def default_name(self) -> str:
        return f"service:{self.unit_name}"

    def probe(self) -> dict:
        return {"op": "service", "args": {"unit": self.unit_name}}

    def judge(self, raw: dict) -> Outcome:
        if raw["load"] == "not-found":
            return failed(f"unit {self.unit_name} not found", value=False)
        is_active = raw["active"] == "active"
        is_enabled = raw["enabled"] in ("enabled", "enabled-runtime", "static", "alias", "indirect", "generated")
        state = f"{raw['active']} ({raw['sub']}), {raw['enabled'] or 'no unit file state'}"
        if is_active != self.active:
            return failed(
                f"{self.unit_name} is {state}; expected {'active' if self.active else 'inactive'}", value=is_active
            )
        if self.enabled is not None and is_enabled != self.enabled:
            return failed(
                f"{self.unit_name} is {state}; expected {'enabled' if self.enabled else 'disabled'}", value=is_active
            )
        return passed(f"{self.unit_name} is {state}", is_active)


class Process(Check):
    """At least ``min_count`` processes match by exact name (comm) and/or command-line regex."""

    kind: Literal["process"]
    process: str | None = Field(None, description="exact process name (comm), e.g. nginx")
    pattern: str | None = Field(None, description="regular expression on the command line")
    min_count: int = Field(1, ge=0)
    max_count: int | None = Field(None, ge=0)

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        return compile_pattern(value, "pattern") if value else value

    @model_validator(mode="after")
    def _something(self) -> "Process":
        if not (self.process or self.pattern):
            raise ValueError("a process check needs 'process' or 'pattern'")
        return self

    def default_name(self) -> str:
        return f"process:{self.process or self.pattern}"

    def probe(self) -> dict:
        return {"op": "process", "args": {"name": self.process, "pattern": self.pattern}}

    def judge(self, raw: dict) -> Outcome:
        count = raw["count"]
        label = self.process or self.pattern
        if count < self.min_count:
            return failed(f"{count} process(es) match {label}; expected at least {self.min_count}", value=count)
        if self.max_count is not None and count > self.max_count:
            return failed(f"{count} process(es) match {label}; expected at most {self.max_count}", value=count)
        return passed(f"{count} process(es) match {label}", count)


class Port(Check):
    """A TCP port is in LISTEN state on the host (seen from inside, like ``ss -lt``)."""

    kind: Literal["port"]
    port: int = Field(ge=1, le=65535)
    listening: bool = True

    def default_name(self) -> str:
        return f"port:{self.port}"

    def probe(self) -> dict:
        return {"op": "listening", "args": {"port": self.port}}

    def judge(self, raw: dict) -> Outcome:
        if raw["listening"] != self.listening:
            state = "listening" if raw["listening"] else "not listening"
            return failed(f"tcp/{self.port} is {state}", value=raw["listening"])
        return passed(f"tcp/{self.port} is {'listening' if raw['listening'] else 'closed'}", raw["listening"])
