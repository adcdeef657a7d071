"""OS accounts: users (shell, groups, locked state) and groups (members)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from fleetops.checks.base import Check, Outcome, failed, passed
from fleetops.checks.result import Status

ACCOUNT_PATTERN = r"^[a-z_][a-z0-9_-]*[$]?$"


class User(Check):
    """``{kind: user, user: ops, shell: /bin/bash, groups: [ops], locked: false}``.

    ``member_of`` groups must all be among the user's groups (primary included). ``locked``
    means the password field starts with ``!`` (as ``passwd -S`` reports L; a user created
    without a password is locked in this sense). ``locked`` and ``expired`` read /etc/shadow, so
    they need a root SSH user; otherwise the check is UNKNOWN, not a pass.
    """

    kind: Literal["user"]
    user: str = Field(pattern=ACCOUNT_PATTERN)
    exists: bool = True
    shell: str | None = None
    home: str | None = None
    groups_in: list[str] = Field(default_factory=list, alias="member_of")
    locked: bool | None = None
    expired: bool | None = None

    def default_name(self) -> str:
        return f"user:{self.user}"

    def probe(self) -> dict:
        return {"op": "user", "args": {"name": self.user}}

    def judge(self, raw: dict) -> Outcome:
        if not raw["exists"]:
            return (
                passed(f"user {self.user} is absent", False)
                if not self.exists
                else failed(f"user {self.user} does not exist", value=False)
            )
        if not self.exists:
            return failed(f"user {self.user} exists but should not", value=True)
        problems = []
        if self.shell and raw["shell"] != self.shell:
            problems.append(f"shell {raw['shell']} (expected {self.shell})")
        if self.home and raw["home"] != self.home:
            problems.append(f"home {raw['home']} (expected {self.home})")
        missing = [group for group in self.groups_in if group not in raw["groups"]]
        if missing:
            problems.append(f"not in group(s) {', '.join(missing)}")
        if self.locked is not None:
            if raw.get("locked") is None:
                return Outcome(
                    Status.UNKNOWN,
                    f"user {self.user}: locked state unknown ({raw.get('locked_error', 'no shadow entry')})",
                    True,
                )
            if raw["locked"] != self.locked:
                problems.append("locked" if raw["locked"] else "not locked")
        if self.expired is not None and raw.get("expired") is not None:
            if raw["expired"] != self.expired:
                problems.append("expired" if raw["expired"] else "not expired")
        elif self.expired is not None:
            return Outcome(
                Status.UNKNOWN, f"user {self.user}: expiry unknown ({raw.get('locked_error', 'no shadow entry')})", True
            )
        if problems:
            return failed(f"user {self.user}: " + ", ".join(problems), value=True)
        return passed(f"user {self.user} uid {raw['uid']} {raw['shell']} groups {','.join(raw['groups'])}", True)


class Group(Check):
    """``{kind: group, group: students, members: [student]}``: exists with these members."""

    kind: Literal["group"]
    group: str = Field(pattern=ACCOUNT_PATTERN)
    exists: bool = True
    members: list[str] = Field(default_factory=list, description="each must be a member")

    def default_name(self) -> str:
        return f"group:{self.group}"

    def probe(self) -> dict:
        return {"op": "group", "args": {"name": self.group}}

    def judge(self, raw: dict) -> Outcome:
        if not raw["exists"]:
            return (
                passed(f"group {self.group} is absent", False)
                if not self.exists
                else failed(f"group {self.group} does not exist", value=False)
            )
        if not self.exists:
            return failed(f"group {self.group} exists but should not", value=True)
        missing = [member for member in self.members if member not in raw["members"]]
        if missing:
            return failed(f"group {self.group} lacks {', '.join(missing)}", value=True)
        return passed(f"group {self.group} gid {raw['gid']}", True)
