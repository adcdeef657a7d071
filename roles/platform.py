"""The platform receiver role: the server app gateways report to, and its MySQL database.

Runs on a host that also runs the MySQL role (``deploys/site.py`` orders it after it):

* database and account (the account may only read and write rows, never change the schema),
  through the MySQL role's own fact-driven steps;
* tables and reference data (registered gateways from the inventory, event labels, admin
  accounts as pbkdf2 hashes), compared with what the server holds and written only on drift,
  so a second converge runs no SQL;
* the app from an offline bundle (releases side by side, atomic ``current``), its 0600 MySQL
  option file (the only place the account's password lives), a config validated by the app,
  and a systemd unit running as an unprivileged system user; after a change the deploy waits
  for ``/ready`` (database reachable, schema version right).
"""

from __future__ import annotations

import hashlib

from pyinfra import host, inventory
from pyinfra.api import deploy
from pyinfra.operations import files, server, systemd

from fleetops.edge.bundle import PLATFORM
from fleetops.facts.platform import PlatformReference
from fleetops.operations.conditions import any_changed
from fleetops.operations.files import managed_file
from fleetops.operations.mysql import mysql_statements, sql_string
from fleetops.platform.schema import SCHEMA_VERSION, TABLES, password_hash
from fleetops.render import render
from fleetops.roles.data import role_data
from fleetops.roles.mysql import databases, users
from fleetops.roles.mysql_spec import Database, DbUserSpec, MysqlSpec
from fleetops.roles.bundled_service import install_release, prune_history, restart_when_changed, switch_to
from fleetops.roles.packages import install
from fleetops.roles.platform_spec import PlatformData, PlatformSpec

ROOT = "/opt/fleetops-platform"
ETC = "/etc/fleetops-platform"
CONFIG, OPTIONS = f"{ETC}/config.json", f"{ETC}/client.cnf"
UNIT = USER = "fleetops-platform"
@deploy("Platform receiver")
def platform_receiver() -> None:
    """Install (or with ``present: false`` remove) the receiver from the ``platform`` group-data key."""
    spec = role_data(PlatformData).platform
    if spec is None:
        return
    if not spec.present:
        _uninstall()
        return
    account = DbUserSpec(name=spec.db_user, password=spec.db_password,
                         privileges={spec.database: ["SELECT", "INSERT", "UPDATE", "DELETE"]})
    database = MysqlSpec(databases=[Database(name=spec.database)], users=[account])
    databases(database)
    users(database)
    reference_data(spec)

    install(["python3-venv"], name="Install python3-venv")
    server.user(name="Service account", user=USER, system=True, shell="/usr/sbin/nologin",
                create_home=False, home="/nonexistent")
    for path in (ROOT, f"{ROOT}/bundles", f"{ROOT}/releases"):
        files.directory(name=f"Directory {path}", path=path, mode="755")
    files.directory(name=f"Directory {ETC}", path=ETC, mode="750", user="root", group=USER)
    release = install_release(ROOT, PLATFORM)
    options = managed_file(name="Database option file", path=OPTIONS, mode="600", user=USER, group=USER,
                           content=render("platform/client.cnf.j2", user=spec.db_user,
                                          password=spec.db_password.reveal()),
                           sensitive=True, backup=False)
    config = managed_file(
        name="App configuration", path=CONFIG, mode="640", group=USER, backup=False,
        content=render("platform/config.json.j2", platform=spec, option_file=OPTIONS),
        validate=release.check_config())
    switched = switch_to(ROOT, release)
    unit = managed_file(name="Service unit", path=f"/etc/systemd/system/{UNIT}.service", backup=False,
                        content=render("platform/fleetops-platform.service.j2", root=ROOT, config=CONFIG,
                                       user=USER))
    systemd.daemon_reload(name="Reload systemd units", _if=unit.did_change)
    systemd.service(name="Platform receiver enabled and running", service=UNIT, running=True, enabled=True)
    changed = any_changed(release.installed, options, config, switched, unit)
    restart_when_changed(UNIT, "platform receiver", spec.port, changed, wait_seconds=30)
    prune_history(ROOT, release, keep=3)


def registered_gateways(spec: PlatformSpec) -> list[str]:
    """Every inventory host in the gateway group, plus the spec's extra names."""
    group = inventory.get_group(spec.gateway_group, None) if spec.gateway_group else None
    names = [member.name for member in group] if group else []
    return sorted({*names, *spec.gateways})


def reference_statements(spec: PlatformSpec, current: dict, gateways: list[str]) -> list[str]:
    """SQL that brings tables and reference data to the declaration ([] when nothing differs)."""
    admins = {admin.name: password_hash(admin.name, admin.password.reveal()) for admin in spec.admins}
    wanted_admins = {name: hashlib.sha256(value.encode()).hexdigest() for name, value in admins.items()}
    wanted_labels = {item.label: [item.severity, item.description] for item in spec.event_labels}
    in_sync = (current["schema"] == SCHEMA_VERSION and current["admins"] == wanted_admins
               and set(gateways) <= set(current["gateways"]) and current["labels"] == wanted_labels)
    if in_sync:
        return []
    statements = [f"USE `{spec.database}`", *TABLES]
    for name in gateways:  # gateways are never deleted here: their history stays
        statements.append(f"INSERT IGNORE INTO gateways (name) VALUES ({sql_string(name)})")
    for item in spec.event_labels:
        statements.append(
            "INSERT INTO event_labels (label, severity, description) VALUES "
            f"({sql_string(item.label)}, {sql_string(item.severity)}, {sql_string(item.description)}) "
            "ON DUPLICATE KEY UPDATE severity = VALUES(severity), description = VALUES(description)")
    statements.append(_delete_others("event_labels", "label", list(wanted_labels)))
    for name, value in admins.items():
        statements.append(f"INSERT INTO admins (name, password_hash) VALUES ({sql_string(name)}, "
                          f"{sql_string(value)}) ON DUPLICATE KEY UPDATE password_hash = VALUES(password_hash)")
    statements.append(_delete_others("admins", "name", list(admins)))
    statements.append(f"REPLACE INTO meta (k, v) VALUES ('schema', {sql_string(SCHEMA_VERSION)})")
    return statements


def _delete_others(table: str, column: str, keep: list[str]) -> str:
    if not keep:
        return f"DELETE FROM {table}"
    return f"DELETE FROM {table} WHERE {column} NOT IN ({', '.join(sql_string(value) for value in keep)})"


def reference_data(spec: PlatformSpec) -> None:
    current = host.get_fact(PlatformReference, database=spec.database)
    statements = reference_statements(spec, current, registered_gateways(spec))
    if statements:
        mysql_statements(name="Tables and reference data", label="platform", statements=statements)


def _uninstall() -> None:
    systemd.service(name="Stop the platform receiver", service=UNIT, running=False, enabled=False,
                    _ignore_errors=True)
    files.file(name="Remove the service unit", path=f"/etc/systemd/system/{UNIT}.service", present=False)
    files.directory(name="Remove the app", path=ROOT, present=False)
    files.directory(name="Remove the configuration", path=ETC, present=False)
