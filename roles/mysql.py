"""The MySQL/MariaDB role: install, secure, tune, databases, users and grants, scheduled backups
(the backup agent and its sets come from :mod:`roles.backup`; binary logs for point-in-time recovery).

Split by concern like a model Ansible role; every step reads facts first and runs SQL only when
something differs, so a second converge changes nothing (password changes included: the stored
hash is compared by digest, see :mod:`fleetops.facts.mysql`).
"""

from __future__ import annotations

import zlib

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files, systemd

from fleetops.facts.mysql import MysqlAccounts, MysqlDatabases, MysqlGrants, MysqlSecurity
from fleetops.operations.files import managed_file
from fleetops.operations.mysql import auth_digest, mysql_statements, sql_string
from fleetops.render import render
from fleetops.roles.backup import backup_set, install_agent, ship_config, timer
from fleetops.roles.backup_spec import BackupData
from fleetops.roles.data import os_family, role_data
from fleetops.roles.mysql_spec import BackupPolicy, DbUserSpec, MysqlData, MysqlSpec
from fleetops.roles.packages import install

PACKAGES = {"debian": ["mariadb-server", "mariadb-client"], "redhat": ["mysql-server"]}
SERVICE = {"debian": "mariadb", "redhat": "mysqld"}
CONFIG = {"debian": "/etc/mysql/mariadb.conf.d/90-fleetops.cnf", "redhat": "/etc/my.cnf.d/90-fleetops.cnf"}
BACKUP_OPTIONS = "/etc/fleetops/mysql-backup.cnf"
BACKUP_KEY = "/etc/fleetops/mysql-backup.key"
BACKUP_UNIT = "fleetops-mysql-backup"
BINLOG_UNIT = "fleetops-mysql-binlogs"
# what mysqldump --single-transaction --master-data needs (RELOAD, BINLOG MONITOR: the position)
BACKUP_PRIVILEGES = ("SELECT", "RELOAD", "PROCESS", "LOCK TABLES", "BINLOG MONITOR", "SHOW VIEW", "EVENT", "TRIGGER")


# The group-data models this role reads: validated before a deploy that uses it connects.
SPECS = (MysqlData, BackupData)


@deploy("MySQL server")
def mysql_server() -> None:
    """Converge the server from the ``mysql`` group-data key (spec: ``roles/mysql_spec.py``)."""
    spec = role_data(MysqlData).mysql
    family = os_family()
    extra = ["zstd"] if spec.backup and spec.backup.compression == "zstd" else []
    if spec.backup and spec.backup.encryption_key:
        extra.append("openssl")
    install(PACKAGES[family] + extra, name="Install the database server")
    config = managed_file(
        name="Server settings",
        path=CONFIG[family],
        content=render("mysql/fleetops.cnf.j2", mysql=spec, binlog=binlog_settings(spec)),
        # the server parses every option file; an unknown or malformed setting fails here
        validate_installed="mariadbd --help --verbose >/dev/null 2>&1 || mysqld --help --verbose >/dev/null",
    )
    systemd.service(name="Database server running and enabled", service=SERVICE[family], running=True, enabled=True)
    systemd.service(name="Restart the database server", service=SERVICE[family], restarted=True, _if=config.did_change)
    secure()
    databases(spec)
    users(spec)
    if spec.backup is not None:
        backups(spec, spec.backup)


def secure() -> None:
    """No anonymous accounts, no root from other hosts, no test database."""
    state = host.get_fact(MysqlSecurity)
    if state == {"anonymous": 0, "remote_root": 0, "test_db": 0}:
        return
    mysql_statements(
        name="Secure the server",
        label="secure",
        statements=[
            "DELETE FROM mysql.global_priv WHERE User=''",
            "DELETE FROM mysql.global_priv WHERE User='root' AND Host NOT IN ('localhost','127.0.0.1','::1')",
            "DROP DATABASE IF EXISTS test",
            "DELETE FROM mysql.db WHERE Db='test' OR Db='test\\\\_%'",
            "FLUSH PRIVILEGES",
        ],
    )


def databases(spec: MysqlSpec) -> None:
    current = host.get_fact(MysqlDatabases)
    statements = []
    for db in spec.databases:
        existing = current.get(db.name)
        if not db.present:
            if existing is not None:
                statements.append(f"DROP DATABASE `{db.name}`")
            continue
        wanted = f"CHARACTER SET {db.encoding} COLLATE {db.collation}"
        if existing is None:
            statements.append(f"CREATE DATABASE IF NOT EXISTS `{db.name}` {wanted}")
        elif (existing["encoding"], existing["collation"]) != (db.encoding, db.collation):
            statements.append(f"ALTER DATABASE `{db.name}` {wanted}")
    if statements:
        mysql_statements(name="Databases", label="databases", statements=statements)


def _account(user: DbUserSpec) -> str:
    return f"{sql_string(user.name)}@{sql_string(user.host)}"


def users(spec: MysqlSpec) -> None:
    """Accounts (created, password converged by digest, removed) and their grants."""
    accounts = host.get_fact(MysqlAccounts)
    for user in spec.users:
        account = _account(user)
        existing = accounts.get((user.name, user.host))
        if not user.present:
            if existing is not None:
                mysql_statements(
                    name=f"Remove database user {user.name}@{user.host}",
                    label="user",
                    statements=[f"DROP USER {account}"],
                )
            continue
        _account_password(
            user,
            existing,
            label="user",
            create_name=f"Database user {user.name}@{user.host}",
            alter_name=f"Password of database user {user.name}@{user.host}",
        )
        _grants(user, account, created=existing is None)


def _account_password(
    user: DbUserSpec,
    existing: dict | None,
    *,
    label: str,
    create_name: str,
    alter_name: str,
    grants_on_create: tuple[str, ...] = (),
) -> None:
    """Create the account, or change its password when the stored hash's digest differs."""
    account, password = _account(user), sql_string(user.password.reveal())
    if existing is None:
        mysql_statements(
            name=create_name,
            label=label,
            statements=[f"CREATE USER {account} IDENTIFIED BY {password}", *grants_on_create],
        )
    elif existing["auth_sha256"] != auth_digest(user.password) or existing["plugin"] != "mysql_native_password":
        mysql_statements(name=alter_name, label=label, statements=[f"ALTER USER {account} IDENTIFIED BY {password}"])


def _grants(user: DbUserSpec, account: str, created: bool) -> None:
    wanted = {
        (privilege, _grant_object(db).replace("`", ""))
        for db, privileges in user.privileges.items()
        for privilege in privileges
    }
    current = set() if created else host.get_fact(MysqlGrants, user=user.name, host=user.host)
    if wanted == current:
        return
    statements = [f"REVOKE ALL PRIVILEGES, GRANT OPTION FROM {account}"] if current else []
    for db, privileges in sorted(user.privileges.items()):
        target = _grant_object(db)
        statements.append(f"GRANT {', '.join(privileges)} ON {target} TO {account}")
    mysql_statements(name=f"Grants of {user.name}@{user.host}", label="grants", statements=statements)


def _grant_object(key: str) -> str:
    """``*`` -> ``*.*``, ``db`` -> ```db`.*``, ``db.table`` -> ```db`.`table``` (names allow-listed)."""
    if key == "*":
        return "*.*"
    database, _, table = key.partition(".")
    return f"`{database}`.`{table}`" if table else f"`{database}`.*"


def backups(spec: MysqlSpec, policy: BackupPolicy) -> None:
    """The backup account (grants converged), its 0600 option file, the key, and the agent's
    ``mysql`` set with its timer, plus the binlog timer when point-in-time recovery is on."""
    backup_user = DbUserSpec(name="fleetops_backup", host="localhost", password=policy.password)
    account = _account(backup_user)
    existing = host.get_fact(MysqlAccounts).get(("fleetops_backup", "localhost"))
    _account_password(
        backup_user,
        existing,
        label="backup-user",
        create_name="Backup account",
        alter_name="Password of the backup account",
        grants_on_create=(f"GRANT {', '.join(BACKUP_PRIVILEGES)} ON *.* TO {account}",),
    )
    if existing is not None:
        granted = host.get_fact(MysqlGrants, user="fleetops_backup", host="localhost")
        if granted != {(privilege, "*.*") for privilege in BACKUP_PRIVILEGES}:
            mysql_statements(
                name="Grants of the backup account",
                label="grants",
                statements=[
                    f"REVOKE ALL PRIVILEGES, GRANT OPTION FROM {account}",
                    f"GRANT {', '.join(BACKUP_PRIVILEGES)} ON *.* TO {account}",
                ],
            )
    files.directory(name="fleetops settings directory", path="/etc/fleetops", mode="700")
    managed_file(
        name="Backup account option file",
        path=BACKUP_OPTIONS,
        mode="600",
        content=render("mysql/backup-client.cnf.j2", password=policy.password.reveal()),
        sensitive=True,
        backup=False,
    )
    if policy.encryption_key is not None:
        managed_file(
            name="Backup encryption key",
            path=BACKUP_KEY,
            mode="600",
            content=policy.encryption_key.reveal() + "\n",
            sensitive=True,
            backup=False,
        )
    install_agent()
    config = {
        "destination": policy.destination,
        "databases": [db.name for db in spec.databases if db.present],
        "compression": policy.compression,
        "key_file": BACKUP_KEY if policy.encryption_key is not None else None,
        "options_file": BACKUP_OPTIONS,
        "pitr": policy.pitr,
        "retention": policy.rules(),
        "store": ship_config(),
    }
    backup_set("mysql", config, unit=BACKUP_UNIT, description="fleetops MySQL/MariaDB backup",
               schedule=policy.schedule, enabled=policy.enabled, after=f"{SERVICE[os_family()]}.service")  # fmt: skip
    if policy.pitr:
        timer(BINLOG_UNIT, "fleetops MySQL/MariaDB binlog copies", policy.binlog_schedule, policy.enabled,
              "ship-binlogs", after=f"{SERVICE[os_family()]}.service")  # fmt: skip


def binlog_settings(spec: MysqlSpec) -> dict | None:
    """The server's binary-log settings when backups want point-in-time recovery."""
    if spec.backup is None or not spec.backup.pitr:
        return None
    server_id = spec.backup.server_id or zlib.crc32(host.name.encode()) % 4294967294 + 1
    return {"server_id": server_id, "expire_seconds": spec.backup.binlog_expire_days * 86400}
