"""Files on the host: existence, type, mode, owner, group, content hash and content match."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from fleetops.checks.base import Check, Outcome, compile_pattern, failed, passed


class File(Check):
    """``{kind: file, path: /etc/nginx/nginx.conf, mode: "0644", owner: root}``.

    ``exists: false`` asserts absence. ``sha256`` pins the content; ``contains`` is a regular
    expression the content must match (files up to 64 MiB are read).
    """

    kind: Literal["file"]
    path: str = Field(pattern=r"^/")
    exists: bool = True
    type: Literal["file", "directory", "link"] | None = None
    mode: str | None = Field(None, pattern=r"^0?[0-7]{3,4}$")
    owner: str | None = None
    group: str | None = None
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    contains: str | None = None

    @field_validator("contains")
    @classmethod
    def _contains(cls, value: str | None) -> str | None:
        return compile_pattern(value, "contains") if value else value

    def default_name(self) -> str:
        return f"file:{self.path}"

    def probe(self) -> dict:
        return {"op": "file", "args": {"path": self.path, "sha256": bool(self.sha256), "contains": self.contains}}

    def judge(self, raw: dict) -> Outcome:
        if not raw["exists"]:
            return (
                passed(f"{self.path} is absent", False)
                if not self.exists
                else failed(f"{self.path} does not exist", value=False)
            )
        if not self.exists:
            return failed(f"{self.path} exists but should not", value=True)
        problems = []
        kinds = {"file": raw["is_file"], "directory": raw["is_dir"], "link": raw["is_link"]}
        if self.type and not kinds[self.type]:
            problems.append(f"is not a {self.type}")
        if self.mode and int(raw["mode"], 8) != int(self.mode, 8):
            problems.append(f"mode {raw['mode']} (expected {int(self.mode, 8):04o})")
        if self.owner and raw["owner"] != self.owner:
            problems.append(f"owner {raw['owner']} (expected {self.owner})")
        if self.group and raw["group"] != self.group:
            problems.append(f"group {raw['group']} (expected {self.group})")
        if self.sha256 and raw.get("sha256") != self.sha256:
            problems.append(f"sha256 {str(raw.get('sha256'))[:12]}… (expected {self.sha256[:12]}…)")
        if self.contains and not raw.get("contains"):
            problems.append(f"content does not match {self.contains!r}")
        if problems:
            return failed(f"{self.path}: " + ", ".join(problems), value=True)
        return passed(f"{self.path} {raw['mode']} {raw['owner']}:{raw['group']}", True)
