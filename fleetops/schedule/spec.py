"""A schedule as data: its name, the fleetops command it runs, when, and whom it tells."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from fleetops.secrets import SecretStr

NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
DURATION = re.compile(r"^(\d{1,6})(s|m|h|d)$")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# verbs a schedule may run (not `schedule` itself, not interactive or lab-building ones)
VERBS = ("check", "deploy", "rollout", "backup", "report", "smoke", "firmware", "cloud", "edge", "model", "exam")


def seconds(text: str, what: str = "duration") -> int:
    """``"15m"`` → 900; ValueError naming ``what`` otherwise."""
    match = DURATION.match(text or "")
    if not match:
        raise ValueError(f"{what}: {text!r} is not a duration like 30s, 15m, 1h or 1d")
    return int(match.group(1)) * UNITS[match.group(2)]


class Notify(BaseModel):
    """Where state changes go. Secrets (the webhook token, the SMTP password) are ``Secret``s."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    webhook: str | None = Field(None, pattern=r"^https?://[^\s'\"]+$")
    webhook_token: SecretStr | None = None  # sent as "Authorization: Bearer <token>"
    webhook_ca: str | None = None  # CA file for an https webhook with a private CA
    email_to: list[str] = Field(default_factory=list)
    email_from: str | None = None
    smtp_host: str | None = Field(None, pattern=r"^[A-Za-z0-9.-]{1,253}$")
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_ca: str | None = None  # CA file the SMTP server's certificate is checked against
    throttle: str = "10m"  # at most one notification per schedule in this window

    @field_validator("email_to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            if not re.fullmatch(r"[^@\s<>]+@[A-Za-z0-9.-]+", address):
                raise ValueError(f"not an email address: {address!r}")
        return value

    @field_validator("throttle")
    @classmethod
    def _throttle(cls, value: str) -> str:
        seconds(value, "throttle")
        return value

    @model_validator(mode="after")
    def _email_needs_smtp(self) -> "Notify":
        if self.email_to and not (self.smtp_host and self.email_from):
            raise ValueError("email_to needs smtp_host and email_from")
        return self


class Schedule(BaseModel):
    """``every`` (a fixed interval) or ``on_calendar`` (systemd calendar syntax), not both."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    name: str = Field(pattern=NAME.pattern)
    args: list[str] = Field(min_length=1)
    every: str | None = None
    on_calendar: str | None = Field(None, max_length=200)
    randomized_delay: str | None = None
    timeout: str = "30m"
    persistent: bool = True  # a calendar run missed while the host was off runs at boot
    user: str = Field("fleetops", pattern=r"^[a-z_][a-z0-9_-]{0,31}$")
    notify: Notify | None = None

    @field_validator("args")
    @classmethod
    def _args(cls, value: list[str]) -> list[str]:
        if value[0] not in VERBS:
            raise ValueError(f"a schedule runs one of {', '.join(VERBS)}, not {value[0]!r}")
        for arg in value:
            if "\n" in arg or "\0" in arg:
                raise ValueError("arguments may not hold newlines")
        return value

    @model_validator(mode="after")
    def _when(self) -> "Schedule":
        if bool(self.every) == bool(self.on_calendar):
            raise ValueError("give --every or --on-calendar (one of them)")
        if self.every:
            seconds(self.every, "every")
        if self.on_calendar and re.search(r"[\n\\]", self.on_calendar):
            raise ValueError("on_calendar: newlines and backslashes are not calendar syntax")
        for name in ("randomized_delay", "timeout"):
            if getattr(self, name):
                seconds(getattr(self, name), name)
        return self

    @property
    def unit(self) -> str:
        return f"fleetops-schedule-{self.name}"

    @property
    def verb(self) -> str:
        return self.args[0]
