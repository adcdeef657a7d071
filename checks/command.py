"""Run a command on the host and judge its exit code and output."""

from __future__ import annotations

import re
from typing import ClassVar, Literal

from pydantic import Field, field_validator

from fleetops.checks.base import Check, Outcome, compile_pattern, failed, passed
from fleetops.checks.result import Status


class Command(Check):
    """``{kind: command, name: nginx-config, command: "nginx -t", exit: 0, match: "ok"}``.

    The command comes from the suite (trusted repository data) and runs with ``/bin/sh -c`` on
    the host, inside the probe script, so it never appears on the SSH command line. ``match`` is a
    regular expression searched in stdout; ``warn``/``crit`` limit its run time in seconds.
    """

    kind: Literal["command"]
    command: str = Field(min_length=1)
    exit: int = 0
    match: str | None = None
    timeout: float = Field(10.0, gt=0, le=300)
    value_from: Literal["runtime", "stdout", "text"] = Field(
        "runtime",
        description="stdout: the value is the number the command prints (a reference measurement); "
        "text: the value is its output (up to 4 KiB)",
    )
    unit: ClassVar[str] = "s"

    @field_validator("match")
    @classmethod
    def _match(cls, value: str | None) -> str | None:
        return compile_pattern(value, "match") if value else value

    def default_name(self) -> str:
        slug = re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9_.-]+", "-", self.command))
        return "command:" + slug[:40].strip("-")

    def probe(self) -> dict:
        return {"op": "command", "args": {"command": self.command, "timeout": self.timeout}}

    def judge(self, raw: dict) -> Outcome:
        if raw.get("timeout"):
            return failed(f"timed out after {self.timeout:g}s", value=raw["seconds"])
        if raw["exit"] != self.exit:
            tail = (raw["stderr"] or raw["stdout"]).strip().splitlines()[-1:] or [""]
            return failed(f"exit {raw['exit']} (expected {self.exit}) {tail[0][:200]}", value=raw["seconds"])
        if self.match and not re.search(self.match, raw["stdout"]):
            return failed(f"output does not match {self.match!r}", value=raw["seconds"])
        if self.value_from == "text":
            return passed(f"exit {raw['exit']}", raw["stdout"].strip()[:4096])
        if self.value_from == "stdout":
            try:
                number = float(raw["stdout"].strip().split()[0])
            except (ValueError, IndexError):
                return failed(f"output {raw['stdout'].strip()[:40]!r} is not a number")
            return passed(f"exit {raw['exit']}, prints {number:g}", number)
        outcome = self.measured(raw["seconds"], "ran in", "{:.2f}")
        if outcome.status == Status.OK:
            outcome.message = f"exit {raw['exit']} in {raw['seconds']:.2f}s"
        return outcome
