"""The platform receiver role: the server app gateways report to, and its MySQL database.

Runs on a host that also runs the MySQL role (``deploys/site.py`` orders it after it):

* database and account, through the MySQL role's own fact-driven steps; the account's grants
  are per table (``schema.APP_PRIVILEGES``): it writes what gateways report and can never write
  admins, labels or the schema;
* tables and reference data (registered gateways from the inventory with the sha256 of each
  one's token, event labels, admin accounts as pbkdf2 hashes with random salts), compared with
  what the server holds and written only on drift, so a second converge runs no SQL (an admin's
  stored hash is kept while the declared password still verifies against it);
* HTTPS: the certificate pair from group data, or a self-signed one made on the controller
  (:mod:`fleetops.credentials`) so the edge role can install it on gateways as their CA;
* the app from an offline bundle (releases side by side, atomic ``current``), its 0600 MySQL
  option file (the only place the account's password lives), a config validated by the app,
  and a sandboxed systemd unit running as an unprivileged system user; after a change the
  deploy waits for ``/ready`` (database reachable, schema version right).
"""

from __future__ import annotations

from pyinfra import host, inventory
from pyinfra.api import deploy
from pyinfra.operations import systemd

from fleetops.credentials import gateway_token, platform_certificate
from fleetops.edge.bundle import PLATFORM
from fleetops.facts.platform import PlatformReference
from fleetops.groupdata import host_data
from fleetops.operations.conditions import any_changed
from fleetops.operations.files import managed_file
from fleetops.operations.mysql import mysql_statements, sql_string
from fleetops.platform.app import token_digest
from fleetops.platform.schema import APP_PRIVILEGES, MIGRATIONS, SCHEMA_VERSION, TABLES, password_hash, verify_password
from fleetops.render import render
from fleetops.roles.data import role_data
from fleetops.roles.mysql import databases, users
from fleetops.roles.mysql_spec import Database, DbUserSpec, MysqlSpec
from fleetops.roles.bundled_service import (
    install_release,
    prune_history,
    restart_when_changed,
    service_layout,
    switch_to,
    uninstall,
)
from fleetops.roles.packages import install
from fleetops.roles.platform_spec import PlatformData, PlatformSpec
from fleetops.secrets import Secret

ROOT = "/opt/fleetops-platform"
ETC = "/etc/fleetops-platform"
CONFIG, OPTIONS = f"{ETC}/config.json", f"{ETC}/client.cnf"
TLS_CERT, TLS_KEY = f"{ETC}/tls.crt", f"{ETC}/tls.key"
UNIT = USER = "fleetops-platform"
# The group-data models this role reads: validated before a deploy that uses it connects.
SPECS = (PlatformData,)


@deploy("Platform receiver")
def platform_receiver() -> None:
    """Install (or with ``present: false`` remove) the receiver from the ``platform`` group-data key."""
    spec = role_data(PlatformData).platform
    if spec is None:
        return
    if not spec.present:
        _uninstall()
        return
    account = DbUserSpec(
        name=spec.db_user,
        password=spec.db_password,
        privileges={f"{spec.database}.{table}": privileges for table, privileges in APP_PRIVILEGES.items()},
    )
    database = MysqlSpec(databases=[Database(name=spec.database)], users=[account])
    databases(database)
    reference_data(spec)  # tables first: table-level grants need them
    users(database)

    install(["python3-venv"], name="Install python3-venv")
    service_layout(USER, ROOT, ETC, extra_dirs=())
    release = install_release(ROOT, PLATFORM)
    options = managed_file(
        name="Database option file",
        path=OPTIONS,
        mode="600",
        user=USER,
        group=USER,
        content=render("platform/client.cnf.j2", user=spec.db_user, password=spec.db_password.reveal()),
        sensitive=True,
        backup=False,
    )
    tls = []
    if spec.tls.enabled:
        cert, key = certificate_pair(spec)
        tls = [
            managed_file(name="TLS certificate", path=TLS_CERT, mode="644", content=cert, backup=False),
            managed_file(
                name="TLS private key",
                path=TLS_KEY,
                mode="640",
                group=USER,
                content=key.reveal(),
                sensitive=True,
                backup=False,
            ),
        ]
    config = managed_file(
        name="App configuration",
        path=CONFIG,
        mode="640",
        group=USER,
        backup=False,
        content=render(
            "platform/config.json.j2",
            platform=spec,
            option_file=OPTIONS,
            tls_cert=TLS_CERT if spec.tls.enabled else None,
            tls_key=TLS_KEY if spec.tls.enabled else None,
        ),
        validate=release.check_config(),
    )
    switched = switch_to(ROOT, release)
    unit = managed_file(
        name="Service unit",
        path=f"/etc/systemd/system/{UNIT}.service",
        backup=False,
        content=render("platform/fleetops-platform.service.j2", root=ROOT, config=CONFIG, user=USER),
    )
    systemd.daemon_reload(name="Reload systemd units", _if=unit.did_change)
    systemd.service(name="Platform receiver enabled and running", service=UNIT, running=True, enabled=True)
    changed = any_changed(release.installed, options, *tls, config, switched, unit)
    restart_when_changed(
        UNIT, "platform receiver", spec.port, changed, wait_seconds=30, scheme="https" if spec.tls.enabled else "http"
    )
    prune_history(ROOT, release, keep=3)


def certificate_pair(spec: PlatformSpec, target=None) -> tuple[str, Secret]:
    """The receiver's certificate (PEM) and key (Secret): from group data, or self-signed on the
    controller for the host's inventory name and address (``target``: default the current host)."""
    if spec.tls.cert is not None:
        return spec.tls.cert, spec.tls.key
    target = target or host
    address = target.data.get("ssh_hostname") or target.name
    names = list(dict.fromkeys([str(address), target.name, *spec.tls.names]))
    return platform_certificate(target.name, names)


def gateway_ca(spec: PlatformSpec, target) -> str:
    """What gateways trust for this receiver: ``tls.ca``, else its certificate itself."""
    return spec.tls.ca or certificate_pair(spec, target)[0]


def registered_gateways(spec: PlatformSpec) -> list[str]:
    """Every inventory host in the gateway group, plus the spec's extra names."""
    group = inventory.get_group(spec.gateway_group, None) if spec.gateway_group else None
    names = [member.name for member in group] if group else []
    return sorted({*names, *spec.gateways})


def wants_rotation(name: str) -> bool:
    """Whether the inventory host ``name`` asks for a new receiver token (``edge.rotate_token``)."""
    from fleetops.roles.edge_spec import EdgeData

    target = inventory.get_host(name, None)
    if target is None:
        return False
    try:
        edge = EdgeData.model_validate(host_data(target)).edge
    except ValueError:  # that host's own deploy reports its bad data; here it just keeps its token
        return False
    return bool(edge and edge.rotate_token)


def token_digests(gateways: list[str]) -> dict[str, str]:
    """sha256 of each gateway's token (generated on the controller on first use, see credentials)."""
    return {name: token_digest(gateway_token(name, rotate=wants_rotation(name)).reveal()) for name in gateways}


def reference_statements(spec: PlatformSpec, current: dict, tokens: dict[str, str]) -> list[str]:
    """SQL that brings tables and reference data to the declaration ([] when nothing differs).

    ``tokens`` maps each registered gateway to the sha256 of its token. An admin whose stored
    hash still verifies the declared password keeps it (a new random salt would change it on
    every run); any other admin gets a new hash."""
    admins = {admin.name: admin.password.reveal() for admin in spec.admins}
    stale_admins = {
        name for name, password in admins.items() if not verify_password(password, current["admins"].get(name, ""))
    }
    wanted_labels = {item.label: [item.severity, item.description] for item in spec.event_labels}
    in_sync = (
        current["schema"] == SCHEMA_VERSION
        and not stale_admins
        and set(current["admins"]) == set(admins)
        and all(current["gateways"].get(name) == digest for name, digest in tokens.items())
        and current["labels"] == wanted_labels
    )
    if in_sync:
        return []
    statements = [f"USE `{spec.database}`", *TABLES, *MIGRATIONS]
    for name, digest in sorted(tokens.items()):  # gateways are never deleted here: their history stays
        statements.append(f"INSERT IGNORE INTO gateways (name) VALUES ({sql_string(name)})")
        if current["gateways"].get(name) != digest:
            statements.append(
                f"UPDATE gateways SET token_sha256 = {sql_string(digest)} WHERE name = {sql_string(name)}"
            )
    for item in spec.event_labels:
        statements.append(
            "INSERT INTO event_labels (label, severity, description) VALUES "
            f"({sql_string(item.label)}, {sql_string(item.severity)}, {sql_string(item.description)}) "
            "ON DUPLICATE KEY UPDATE severity = VALUES(severity), description = VALUES(description)"
        )
    statements.append(_delete_others("event_labels", "label", list(wanted_labels)))
    for name in sorted(stale_admins):
        statements.append(
            f"INSERT INTO admins (name, password_hash) VALUES ({sql_string(name)}, "
            f"{sql_string(password_hash(admins[name]))}) "
            "ON DUPLICATE KEY UPDATE password_hash = VALUES(password_hash)"
        )
    statements.append(_delete_others("admins", "name", list(admins)))
    statements.append(f"REPLACE INTO meta (k, v) VALUES ('schema', {sql_string(SCHEMA_VERSION)})")
    return statements


def _delete_others(table: str, column: str, keep: list[str]) -> str:
    if not keep:
        return f"DELETE FROM {table}"
    return f"DELETE FROM {table} WHERE {column} NOT IN ({', '.join(sql_string(value) for value in keep)})"


def reference_data(spec: PlatformSpec) -> None:
    current = host.get_fact(PlatformReference, database=spec.database)
    statements = reference_statements(spec, current, token_digests(registered_gateways(spec)))
    if statements:
        mysql_statements(name="Tables and reference data", label="platform", statements=statements)


def _uninstall() -> None:
    uninstall(UNIT, "platform receiver", ROOT, ETC)
