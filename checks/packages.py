"""Installed packages (dpkg on Debian-likes, rpm on RHEL-likes)."""

from __future__ import annotations

import fnmatch
from typing import Literal

from pydantic import Field

from fleetops.checks.base import Check, Outcome, failed, passed


class Package(Check):
    """``{kind: package, package: nginx, version: "1.22*"}``: installed, optionally at a version.

    ``version`` is a shell pattern on the full package version; ``installed: false`` asserts the
    package is absent.
    """

    kind: Literal["package"]
    package: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9+._-]*$")
    installed: bool = True
    version: str | None = None

    def default_name(self) -> str:
        return f"package:{self.package}"

    def probe(self) -> dict:
        return {"op": "package", "args": {"name": self.package}}

    def judge(self, raw: dict) -> Outcome:
        version = raw.get("version")
        if raw["installed"] != self.installed:
            state = f"installed ({version})" if raw["installed"] else "not installed"
            return failed(f"{self.package} is {state}", value=version)
        if not raw["installed"]:
            return passed(f"{self.package} is not installed", None)
        if self.version and not fnmatch.fnmatchcase(version or "", self.version):
            return failed(f"{self.package} {version} does not match {self.version}", value=version)
        return passed(f"{self.package} {version}", version)
