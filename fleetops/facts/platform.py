"""What the platform receiver's database holds as reference data, read as root over the socket.

Admin passwords are reported as their stored pbkdf2 hashes (random salt, 200,000 rounds), so
the controller can check the declared password against them without ever storing a new salt;
gateway tokens as the sha256 the receiver compares against (tokens are 256 random bits).
"""

from __future__ import annotations

import shlex

from pyinfra.api import FactBase

from fleetops.facts.mysql import GUARD, MYSQL


class PlatformReference(FactBase):
    """``{"schema": version|None, "admins": {name: pbkdf2 hash}, "gateways": {name: token sha256 or ""},
    "labels": {label: [severity, description]}}`` (``schema`` None and the rest empty when the
    database or its tables do not exist yet)."""

    @staticmethod
    def default() -> dict:
        return {"schema": None, "admins": {}, "gateways": {}, "labels": {}}

    def command(self, database: str) -> str:
        sql = (
            "SELECT 'schema', v, '' FROM meta WHERE k = 'schema'; "
            "SELECT 'admin', name, password_hash FROM admins; "
            "SELECT 'gateway', name, IFNULL(token_sha256, '') FROM gateways; "
            "SELECT 'label', label, CONCAT(severity, '|', description) FROM event_labels"
        )
        return f"{GUARD}{MYSQL} -D {shlex.quote(database)} -e {shlex.quote(sql)} 2>/dev/null || true"

    def process(self, output: list[str]) -> dict:
        state = self.default()
        for line in output:
            kind, _, rest = line.partition("\t")
            key, _, value = rest.partition("\t")
            if kind == "schema":
                state["schema"] = key
            elif kind == "admin":
                state["admins"][key] = value
            elif kind == "gateway":
                state["gateways"][key] = value
            elif kind == "label":
                severity, _, description = value.partition("|")
                state["labels"][key] = [severity, description]
        return state
