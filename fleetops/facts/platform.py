"""What the platform receiver's database holds as reference data, read as root over the socket.

Admin password hashes never leave the server: each is reported as a sha256 of the stored hash.
"""

from __future__ import annotations

import shlex

from pyinfra.api import FactBase

from fleetops.facts.mysql import GUARD, MYSQL


class PlatformReference(FactBase):
    """``{"schema": version|None, "admins": {name: sha256}, "gateways": [...], "labels": {label: [severity, description]}}``
    (``schema`` None and the rest empty when the database or its tables do not exist yet)."""

    @staticmethod
    def default() -> dict:
        return {"schema": None, "admins": {}, "gateways": [], "labels": {}}

    def command(self, database: str) -> str:
        sql = ("SELECT 'schema', v, '' FROM meta WHERE k = 'schema'; "
               "SELECT 'admin', name, SHA2(password_hash, 256) FROM admins; "
               "SELECT 'gateway', name, '' FROM gateways; "
               "SELECT 'label', label, CONCAT(severity, '|', description) FROM event_labels")
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
                state["gateways"].append(key)
            elif kind == "label":
                severity, _, description = value.partition("|")
                state["labels"][key] = [severity, description]
        return state
