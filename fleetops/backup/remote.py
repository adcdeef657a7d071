"""Run the backup agent (``fleetops-backup``) over SSH on many hosts at once.

All logic that touches data lives in the agent on the host (run by its systemd timers too); the
controller only chooses hosts, passes allow-listed arguments and reads JSON lines back.
"""

from __future__ import annotations

import datetime
import re
import shlex
from pathlib import Path

from fleetops.checking.target import SshTarget
from fleetops.errors import InputError
from fleetops.remote_exec import HostAnswer, on_hosts  # noqa: F401 - re-exported for the CLI
from fleetops.roles.backup import AGENT, app_unit
from fleetops.roles.backup_spec import APPS
from fleetops.roles.mysql import BACKUP_UNIT

BACKUP_ID = re.compile(r"^(\d{8}T\d{6}Z|latest)$")
DATABASE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
HOST_TIME = "%Y-%m-%d %H:%M:%S"


def set_name(app: str | None) -> str:
    if app is None:
        return "mysql"
    if app not in APPS:
        raise InputError(f"not an app with backups: {app!r} (one of {', '.join(APPS)})")
    return f"app-{app}"


def backup_hosts(
    inventory_path: Path, limit: tuple[str, ...], exclude: tuple[str, ...], app: str | None = None
) -> list[SshTarget]:
    """Selected hosts that back up the set: ``mysql.backup``, or ``app_backup`` listing the app."""
    from fleetops.inventory import hosts_declaring

    if app is None:
        from fleetops.roles.mysql_spec import MysqlData

        found = hosts_declaring(inventory_path, limit, exclude, MysqlData, lambda data: data.mysql.backup)
        what = "a backup policy (group data mysql.backup)"
    else:
        from fleetops.roles.backup_spec import BackupData

        set_name(app)
        found = hosts_declaring(
            inventory_path,
            limit,
            exclude,
            BackupData,
            lambda data: data.app_backup if data.app_backup and app in data.app_backup.apps else None,
        )
        what = f"{app} app backups (group data app_backup)"
    if not found:
        raise InputError(f"no selected host has {what}")
    return [SshTarget.from_host(host) for host, _policy in found]


def agent_command(action: str, set_: str, *args: str, **options: str | None) -> str:
    """The quoted agent command line; ids and database names are allow-listed first, options
    (``to``, ``before_statement``) checked for what they are and quoted."""
    if action not in ("list", "restore", "verify", "prune"):
        raise InputError(f"unknown backup action {action!r}")
    for arg in args:
        if not (BACKUP_ID.match(arg) or DATABASE.match(arg)):
            raise InputError(f"not a backup id or database name: {arg!r}")
    words = [AGENT, action, set_, *args]
    for name, value in options.items():
        if value is not None:
            words += [f"--{name.replace('_', '-')}", value]
    return " ".join(shlex.quote(word) for word in words)


def point_in_time(value: str) -> str:
    """``--to`` for the agent: a naive time stays host-local; one with an offset (or ``Z``) and
    ``@EPOCH`` become ``@EPOCH``."""
    if value.startswith("@"):
        try:
            return f"@{float(value[1:])}"
        except ValueError:
            raise InputError(f"--to: not an epoch time: {value!r}") from None
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"--to: not a time: {value!r} (like '2026-12-01 10:42:00')") from None
    if moment.tzinfo is None:
        return moment.strftime(HOST_TIME)
    return f"@{moment.timestamp()}"


def statement_pattern(value: str) -> str:
    if not value.strip():
        raise InputError("--before-statement: empty pattern")
    try:
        re.compile(value)
    except re.error as error:
        raise InputError(f"--before-statement: not a valid pattern: {error}") from None
    return value


def run_command(app: str | None) -> str:
    """Start the set's service (the same one the timer starts) and print its newest backup."""
    unit = BACKUP_UNIT if app is None else app_unit(app)
    return (
        f"systemctl start {unit}.service || "
        f"{{ journalctl -u {unit}.service -n 5 --no-pager -o cat >&2; exit 1; }}; "
        f"{agent_command('list', set_name(app))} | tail -n 1"
    )
