"""sudo rules as sudo itself sees them: ``{kind: sudo, user: dev, allows: "/usr/bin/systemctl restart nginx"}``.

The probe asks sudo on the host (``sudo -l -U USER`` for the rule list, ``sudo -l -U USER CMD``
for each command, whose exit status is sudo's own verdict), so grading follows the real
policy, aliases, includes and ``Defaults`` included, not a parse of ``/etc/sudoers``. The rule
list is parsed only for what the per-command answer does not say: whether a password is asked.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Literal

from pydantic import Field, model_validator

from fleetops.checks.accounts import ACCOUNT_PATTERN
from fleetops.checks.base import Check, Outcome, failed, passed

RULE_LINE = re.compile(r"^\s+\((?P<runas>[^)]*)\)\s*(?P<rest>.*)$")
TAG = re.compile(r"^(NOPASSWD|PASSWD|NOEXEC|EXEC|SETENV|NOSETENV|LOG_INPUT|NOLOG_INPUT|LOG_OUTPUT|NOLOG_OUTPUT):\s*")


@dataclass(frozen=True)
class SudoRule:
    """One line of ``sudo -l`` output: run-as spec, tags and the commands it covers."""

    runas: str
    tags: frozenset[str]
    commands: tuple[str, ...]

    def covers(self, command: str) -> bool:
        """sudoers' own matching, for the cases the list can show: ``ALL``, an exact command, or
        a command given without arguments (which allows any arguments)."""
        argv = shlex.split(command)
        for spec in self.commands:
            if spec == "ALL" or spec == command:
                return True
            spec_argv = shlex.split(spec)
            if len(spec_argv) == 1 and argv and argv[0] == spec_argv[0]:
                return True
        return False


def parse_sudo_list(text: str) -> list[SudoRule]:
    """The rules of ``sudo -l -U USER`` output (the 'may run the following commands' part)."""
    rules: list[SudoRule] = []
    in_rules = False
    for line in text.splitlines():
        if "may run the following commands" in line:
            in_rules = True
            continue
        if not in_rules:
            continue
        match = RULE_LINE.match(line)
        if not match:
            continue
        rest, tags = match["rest"], set()
        while tag := TAG.match(rest):
            tags.add(tag[1])
            rest = rest[tag.end() :]
        commands = tuple(part.strip() for part in rest.split(",") if part.strip())
        rules.append(SudoRule(match["runas"].strip(), frozenset(tags), commands))
    return rules


class Sudo(Check):
    """``allows``: sudo permits this command (as root); ``nopasswd``: without a password.
    ``denies``: sudo refuses it (e.g. ``/bin/bash``, so the grant stays narrow). ``any: false``
    asserts the user has no sudo rights at all."""

    kind: Literal["sudo"]
    user: str = Field(pattern=ACCOUNT_PATTERN)
    allows: list[str] = Field(default_factory=list)
    denies: list[str] = Field(default_factory=list)
    nopasswd: bool | None = None
    any: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _lists(cls, data: object) -> object:
        if isinstance(data, dict):
            data = dict(data)
            for key in ("allows", "denies"):
                if isinstance(data.get(key), str):
                    data[key] = [data[key]]
        return data

    @model_validator(mode="after")
    def _something(self) -> "Sudo":
        if not (self.allows or self.denies or self.any is not None):
            raise ValueError("a sudo check needs allows, denies or any")
        for command in (*self.allows, *self.denies):
            if not command.startswith("/"):
                raise ValueError(f"sudo command {command!r}: give the full path, as sudoers needs")
        return self

    def default_name(self) -> str:
        return f"sudo:{self.user}"

    def probe(self) -> dict:
        return {"op": "sudo", "args": {"user": self.user, "commands": [*self.allows, *self.denies]}}

    def judge(self, raw: dict) -> Outcome:
        if not raw.get("user_exists", True):
            return failed(f"user {self.user} does not exist", value=False)
        rules = parse_sudo_list(raw["list"])
        verdicts: dict[str, bool] = raw["commands"]
        if self.any is not None and bool(rules) != self.any:
            return failed(f"{self.user} {'has' if rules else 'has no'} sudo rules", value=bool(rules))
        problems = [f"{command} is not allowed" for command in self.allows if not verdicts.get(command)]
        problems += [f"{command} is allowed" for command in self.denies if verdicts.get(command)]
        if self.nopasswd is not None and not problems:
            for command in self.allows:
                rule = next((r for r in rules if r.covers(command)), None)
                nopasswd = rule is not None and "NOPASSWD" in rule.tags
                if nopasswd != self.nopasswd:
                    problems.append(f"{command} {'needs no' if nopasswd else 'asks for a'} password")
        if problems:
            return failed(f"sudo for {self.user}: " + ", ".join(problems), value=False)
        shown = "; ".join(f"({r.runas}) {' '.join(sorted(r.tags))} {', '.join(r.commands)}" for r in rules) or "none"
        return passed(f"sudo for {self.user}: {shown}", True)
