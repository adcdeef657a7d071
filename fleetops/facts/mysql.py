"""Facts about a MariaDB/MySQL server, read as root over its unix socket (no credentials).

Password hashes never leave the host: accounts are reported with a sha256 of their
authentication string, computed by the server (``SHA2``), and ``SHOW GRANTS`` lines lose their
``IDENTIFIED BY PASSWORD`` clause before they are printed.
"""

from __future__ import annotations

import shlex

from pyinfra.api import FactBase

MYSQL = "mysql --protocol=socket -u root -N -B"
GUARD = "command -v mysql >/dev/null 2>&1 && mysqladmin --protocol=socket -u root ping >/dev/null 2>&1 || exit 0; "


def _sql(statement: str) -> str:
    return f"{GUARD}{MYSQL} -e {shlex.quote(statement)}"


class MysqlDatabases(FactBase):
    """``{name: {"encoding": ..., "collation": ...}}``; ``{}`` when the server is not running."""

    default = dict

    def command(self) -> str:
        return _sql(
            "SELECT schema_name, default_character_set_name, default_collation_name FROM information_schema.schemata"
        )

    def process(self, output: list[str]) -> dict:
        databases = {}
        for line in output:
            parts = line.split("\t")
            if len(parts) == 3:
                databases[parts[0]] = {"encoding": parts[1], "collation": parts[2]}
        return databases


class MysqlAccounts(FactBase):
    """``{(user, host): {"plugin": ..., "auth_sha256": ...}}`` (a digest, never the hash)."""

    default = dict

    def command(self) -> str:
        return _sql("SELECT User, Host, plugin, SHA2(authentication_string, 256) FROM mysql.user")

    def process(self, output: list[str]) -> dict:
        accounts = {}
        for line in output:
            parts = line.split("\t")
            if len(parts) == 4:
                accounts[(parts[0], parts[1])] = {"plugin": parts[2], "auth_sha256": parts[3]}
        return accounts


class MysqlGrants(FactBase):
    """The ``GRANT`` lines of one account as a set of (privilege, object) pairs."""

    default = set

    def command(self, user: str, host: str) -> str:
        statement = f"SHOW GRANTS FOR '{user}'@'{host}'"  # user/host are allow-listed by the spec
        return (
            f"{GUARD}{MYSQL} -e {shlex.quote(statement)} 2>/dev/null | "
            "sed -E \"s/ IDENTIFIED BY PASSWORD '[^']*'//\" || true"
        )

    def process(self, output: list[str]) -> set:
        return parse_grants(output)


def parse_grants(lines: list[str]) -> set[tuple[str, str]]:
    """``GRANT SELECT, INSERT ON `app`.* TO ...`` -> {("SELECT", "app.*"), ("INSERT", "app.*")}."""
    pairs: set[tuple[str, str]] = set()
    for line in lines:
        if not line.startswith("GRANT ") or " ON " not in line:
            continue
        privileges, _, rest = line[len("GRANT ") :].partition(" ON ")
        target = rest.split(" TO ", 1)[0].replace("`", "").strip()
        for privilege in privileges.split(", "):
            if privilege == "USAGE":
                continue
            pairs.add((privilege.strip(), target))
    return pairs


class MysqlSecurity(FactBase):
    """Counts of anonymous accounts, remote root accounts and test databases (all should be 0)."""

    default = dict

    def command(self) -> str:
        return _sql(
            "SELECT (SELECT COUNT(*) FROM mysql.user WHERE User=''), "
            "(SELECT COUNT(*) FROM mysql.user WHERE User='root' "
            "AND Host NOT IN ('localhost','127.0.0.1','::1')), "
            "(SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name='test')"
        )

    def process(self, output: list[str]) -> dict:
        for line in output:
            parts = line.split("\t")
            if len(parts) == 3:
                return {"anonymous": int(parts[0]), "remote_root": int(parts[1]), "test_db": int(parts[2])}
        return {}
