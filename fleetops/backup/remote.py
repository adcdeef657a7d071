"""Run the host-side backup script (``fleetops-mysql-backup``) over SSH on many hosts at once.

All logic that touches data lives in that one script on the host (run by its systemd timer too);
the controller only chooses hosts, passes allow-listed arguments and reads JSON lines back.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from fleetops.checking.target import SshTarget
from fleetops.errors import InputError
from fleetops.remote_exec import HostAnswer, on_hosts  # noqa: F401 - re-exported for the CLI
from fleetops.roles.mysql import BACKUP_SCRIPT, BACKUP_UNIT

BACKUP_ID = re.compile(r"^(\d{8}T\d{6}Z|latest)$")
DATABASE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def backup_hosts(inventory_path: Path, limit: tuple[str, ...], exclude: tuple[str, ...]) -> list[SshTarget]:
    """Selected hosts whose group data declares ``mysql.backup``."""
    from fleetops.inventory import hosts_declaring
    from fleetops.roles.mysql_spec import MysqlData

    found = hosts_declaring(inventory_path, limit, exclude, MysqlData, lambda data: data.mysql.backup)
    if not found:
        raise InputError("no selected host has a backup policy (group data mysql.backup)")
    return [SshTarget.from_host(host) for host, _policy in found]


def script_command(action: str, *args: str) -> str:
    """The quoted command line for the host script; arguments are allow-listed first."""
    if action not in ("list", "restore", "verify"):
        raise InputError(f"unknown backup action {action!r}")
    for arg in args:
        if not (BACKUP_ID.match(arg) or DATABASE.match(arg)):
            raise InputError(f"not a backup id or database name: {arg!r}")
    return " ".join(shlex.quote(part) for part in (BACKUP_SCRIPT, action, *args))


RUN_COMMAND = (
    f"systemctl start {BACKUP_UNIT}.service || "
    f"{{ journalctl -u {BACKUP_UNIT}.service -n 5 --no-pager -o cat >&2; exit 1; }}; "
    f"{BACKUP_SCRIPT} list | tail -n 1"
)
