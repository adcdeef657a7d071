"""Run the host-side backup script (``fleetops-mysql-backup``) over SSH on many hosts at once.

All logic that touches data lives in that one script on the host (run by its systemd timer too);
the controller only chooses hosts, passes allow-listed arguments and reads JSON lines back.
"""

from __future__ import annotations

import json
import re
import shlex
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from fleetops.checking.target import SshTarget
from fleetops.errors import InputError
from fleetops.roles.mysql import BACKUP_SCRIPT, BACKUP_UNIT
from fleetops.secrets import redact

BACKUP_ID = re.compile(r"^(\d{8}T\d{6}Z|latest)$")
DATABASE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass
class HostAnswer:
    """What one host said: JSON lines, or an error."""

    host: str
    ok: bool
    lines: list[dict] = field(default_factory=list)
    error: str = ""


def backup_hosts(inventory_path: Path, limit: tuple[str, ...], exclude: tuple[str, ...]) -> list[SshTarget]:
    """Selected hosts whose group data declares ``mysql.backup``."""
    from fleetops.inventory import load_inventory, select_hosts
    from fleetops.roles.mysql_spec import MysqlData
    from fleetops.validation import describe_validation_error
    from pydantic import ValidationError

    targets = []
    for host in select_hosts(load_inventory(inventory_path), limit, exclude):
        try:
            data = MysqlData.model_validate(dict(host.data.dict()))
        except ValidationError as error:
            raise InputError(f"host {host.name}: {describe_validation_error(error)}") from None
        if data.mysql.backup is not None:
            targets.append(SshTarget.from_host(host))
    if not targets:
        raise InputError("no selected host has a backup policy (group data mysql.backup)")
    return targets


def script_command(action: str, *args: str) -> str:
    """The quoted command line for the host script; arguments are allow-listed first."""
    if action not in ("list", "restore", "verify"):
        raise InputError(f"unknown backup action {action!r}")
    for arg in args:
        if not (BACKUP_ID.match(arg) or DATABASE.match(arg)):
            raise InputError(f"not a backup id or database name: {arg!r}")
    return " ".join(shlex.quote(part) for part in (BACKUP_SCRIPT, action, *args))


RUN_COMMAND = (f"systemctl start {BACKUP_UNIT}.service || "
               f"{{ journalctl -u {BACKUP_UNIT}.service -n 5 --no-pager -o cat >&2; exit 1; }}; "
               f"{BACKUP_SCRIPT} list | tail -n 1")


def _one(target: SshTarget, command: str, timeout: float) -> HostAnswer:
    try:
        client = target.connect(timeout=10)
    except Exception as error:  # noqa: BLE001 - recorded per host
        return HostAnswer(target.name, False, error=f"unreachable: {error}")
    try:
        _in, out, err = client.exec_command(command, timeout=timeout)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
        status = out.channel.recv_exit_status()
    except Exception as error:  # noqa: BLE001
        return HostAnswer(target.name, False, error=f"{type(error).__name__}: {error}")
    finally:
        client.close()
    lines = []
    for line in stdout.splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue
    message = redact(stderr.strip().splitlines()[-1]) if stderr.strip() else ""
    return HostAnswer(target.name, status == 0, lines, "" if status == 0 else message or f"exit {status}")


def on_hosts(targets: list[SshTarget], command: str, timeout: float = 3600) -> list[HostAnswer]:
    """Run ``command`` on every target in parallel; one answer per host, in order."""
    with ThreadPoolExecutor(max_workers=min(32, len(targets))) as pool:
        return list(pool.map(lambda target: _one(target, command, timeout), targets))
