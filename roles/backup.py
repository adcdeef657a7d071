"""The backup role: the backup agent, its backup sets and timers, off-host copies, the store.

* Every host with a backup (``mysql.backup`` through the MySQL role, ``app_backup`` here) gets
  the agent (``fleetops/backup/agent``, python3 alone) under ``/usr/local/lib/fleetops-backup``,
  one config per set in ``/etc/fleetops/backup.d/`` (0600), and a systemd service + timer per set.
* With ``backup_store = "HOST"`` it also gets its own SSH key (made on the controller, 0600) and
  the store's host key (from the controller's known_hosts: strict checking, no first-use trust).
* The host named as a store gets the account ``fleetops-store`` whose authorized_keys pins each
  client's key to ``fleetops-backup store-serve CLIENT`` with ``restrict``: add and read, never
  delete or overwrite. Deletion is the store's own daily GFS pruner, run as root.
"""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

from pyinfra import host, inventory
from pyinfra.api import deploy
from pyinfra.operations import files, server, systemd

from fleetops.backup import agent as agent_package
from fleetops.credentials import backup_ship_key
from fleetops.errors import InputError
from fleetops.operations.conditions import any_changed
from fleetops.operations.files import managed_file
from fleetops.render import render
from fleetops.roles.backup_spec import AppBackupPolicy, BackupData
from fleetops.roles.data import role_data
from fleetops.roles.packages import install
from fleetops.roles.ssh_trust import known_hosts

SPECS = (BackupData,)
AGENT_LIB = "/usr/local/lib/fleetops-backup"
AGENT = "/usr/local/sbin/fleetops-backup"
CONFIG_DIR = "/etc/fleetops/backup.d"
SHIP_KEY, SHIP_KNOWN_HOSTS = "/etc/fleetops/backup-ship/id_ed25519", "/etc/fleetops/backup-ship/known_hosts"
STORE_USER, STORE_HOME, STORE_ROOT = "fleetops-store", "/var/lib/fleetops-store", "/srv/fleetops-backups"
STORE_CONFIG = f"{STORE_HOME}/store.json"  # read by the forced command, as the store account
STORE_PRUNE_UNIT = "fleetops-backup-store-prune"
WRAPPER = (
    "#!/usr/bin/python3 -I\n"
    '"""fleetops-backup: the backup agent (installed by fleetops roles/backup.py)."""\n'
    "import sys\n\n"
    f"sys.path.insert(0, {AGENT_LIB!r})\n"
    "from agent.cli import main  # noqa: E402\n\n"
    "sys.exit(main())\n"
)
# What an application backup holds, per app fleetops deploys (paths, the unit stopped around a
# restore, and the group-data key naming its databases).
APP_LAYOUTS = {
    "edge": {"paths": ["/etc/fleetops-edge", "/opt/fleetops-edge"], "service": "fleetops-edge"},
    "platform": {"paths": ["/etc/fleetops-platform"], "service": "fleetops-platform"},
}


def install_agent() -> None:
    """The agent package and its entry point (plain files: python3 is all it needs)."""
    install(["python3", "zstd", "openssh-client"], name="Install what the backup agent runs")
    files.directory(name="Backup agent directory", path=f"{AGENT_LIB}/agent", mode="755")
    for module in sorted(Path(agent_package.__file__).parent.glob("*.py")):
        files.put(name=f"Backup agent {module.name}", src=str(module), dest=f"{AGENT_LIB}/agent/{module.name}",
                  mode="644")  # fmt: skip
    files.put(name="fleetops-backup on the PATH", src=StringIO(WRAPPER), dest=AGENT, mode="755")
    files.directory(name="Backup set configs", path=CONFIG_DIR, mode="700")


def store_of(data: BackupData):
    """The inventory host named by ``backup_store`` (an unknown name is a one-line error)."""
    if data.backup_store is None:
        return None
    for candidate in inventory:
        if candidate.name == data.backup_store:
            if candidate.name == host.name:
                raise InputError(f"host {host.name}: backup_store names the host itself (copies must be off-host)")
            return candidate
    raise InputError(f"host {host.name}: backup_store {data.backup_store!r} is not a host of the inventory")


def ship_config() -> dict | None:
    """This host's SSH key and the store's host key; the agent's ``store`` settings."""
    store = store_of(role_data(BackupData))
    if store is None:
        return None
    private, _public = backup_ship_key(host.name)
    files.directory(name="Backup shipping directory", path=str(Path(SHIP_KEY).parent), mode="700")
    managed_file(name="Backup shipping key", path=SHIP_KEY, content=private.reveal(), mode="600", sensitive=True,
                 backup=False)  # fmt: skip
    managed_file(name="The backup host's host key", path=SHIP_KNOWN_HOSTS,
                 content=known_hosts([store], "shipping backups to it"), backup=False)  # fmt: skip
    return {
        "address": str(store.data.get("ssh_hostname") or store.name),
        "port": int(store.data.get("ssh_port") or 22),
        "user": STORE_USER,
        "key": SHIP_KEY,
        "known_hosts": SHIP_KNOWN_HOSTS,
    }


def backup_set(
    set_name: str, config: dict, *, unit: str, description: str, schedule: str, enabled: bool, after: str = ""
) -> None:
    """One set: its 0600 config, a oneshot service running the agent, and its timer."""
    managed_file(name=f"Backup set {set_name}", path=f"{CONFIG_DIR}/{set_name}.json", mode="600", backup=False,
                 content=json.dumps(config, indent=2, sort_keys=True) + "\n")  # fmt: skip
    timer(unit, description, schedule, enabled, f"run {set_name}", after)


def timer(unit: str, description: str, schedule: str, enabled: bool, arguments: str, after: str = "") -> None:
    service = managed_file(
        name=f"{description}: service unit",
        path=f"/etc/systemd/system/{unit}.service",
        content=render(
            "backup/agent.service.j2", description=description, agent=AGENT, arguments=arguments, after=after
        ),  # fmt: skip
        backup=False,
    )
    timer_file = managed_file(
        name=f"{description}: timer unit",
        path=f"/etc/systemd/system/{unit}.timer",
        content=render("backup/agent.timer.j2", description=description, schedule=schedule),
        backup=False,
    )
    systemd.daemon_reload(name="Reload systemd units", _if=any_changed(service, timer_file))
    systemd.service(name=f"{description}: timer enabled and started", service=f"{unit}.timer", running=enabled,
                    enabled=enabled)  # fmt: skip
    systemd.service(name=f"{description}: restart the timer", service=f"{unit}.timer", restarted=True,
                    _if=timer_file.did_change)  # fmt: skip


def app_unit(app: str) -> str:
    return f"fleetops-app-backup-{app}"


@deploy("Application backups")
def app_backups() -> None:
    """Backup sets for the apps in ``app_backup`` (nothing when it is absent)."""
    policy = role_data(BackupData).app_backup
    if policy is None:
        return
    install_agent()
    store = ship_config()
    for app in policy.apps:
        backup_set(
            f"app-{app}",
            app_config(app, policy, store),
            unit=app_unit(app),
            description=f"fleetops {app} app backup",
            schedule=policy.schedule,
            enabled=policy.enabled,
        )


def app_config(app: str, policy: AppBackupPolicy, store: dict | None) -> dict:
    layout = APP_LAYOUTS[app]
    databases: list[str] = []
    if app == "platform":
        from fleetops.roles.platform_spec import PlatformData

        platform = role_data(PlatformData).platform
        if platform is None:
            raise InputError(f"host {host.name}: app_backup lists platform, but the host has no platform")
        databases = [platform.database]
    return {
        "app": app,
        "destination": f"{policy.destination}/{app}",
        "paths": layout["paths"],
        "service": layout["service"],
        "databases": databases,
        "retention": policy.rules(),
        "store": store,
    }


def clients_of(store_name: str) -> list[tuple[str, dict[str, dict]]]:
    """Hosts that name ``store_name`` as their backup store, with each set's retention."""
    from fleetops.roles.mysql_spec import MysqlData

    clients = []
    for candidate in inventory:
        data = BackupData.model_validate(dict(candidate.data.dict()))
        if data.backup_store != store_name:
            continue
        sets: dict[str, dict] = {}
        mysql = MysqlData.model_validate(dict(candidate.data.dict())).mysql.backup
        if mysql is not None:
            sets["mysql"] = mysql.rules()
        for app in data.app_backup.apps if data.app_backup else []:
            sets[f"app-{app}"] = data.app_backup.rules()  # type: ignore[union-attr]
        clients.append((candidate.name, sets))
    return clients


@deploy("Backup store")
def backup_store() -> None:
    """The append-only store on a host other hosts name as ``backup_store`` (nothing otherwise)."""
    clients = clients_of(host.name)
    if not clients:
        return
    install_agent()
    server.user(name="Backup store account", user=STORE_USER, system=True, home=STORE_HOME, shell="/bin/sh",
                create_home=True)  # fmt: skip
    files.directory(name="Store account home", path=STORE_HOME, mode="700", user=STORE_USER, group=STORE_USER)
    files.directory(name="Store account .ssh", path=f"{STORE_HOME}/.ssh", mode="700", user=STORE_USER,
                    group=STORE_USER)  # fmt: skip
    keys = [(name, backup_ship_key(name)[1]) for name, _sets in clients]
    managed_file(name="Store clients (forced command, restrict)", path=f"{STORE_HOME}/.ssh/authorized_keys",
                 content=render("backup/authorized_keys.j2", clients=keys, agent=AGENT), mode="600",
                 user=STORE_USER, group=STORE_USER, backup=False)  # fmt: skip
    files.directory(name="Backup store root", path=STORE_ROOT, mode="700", user=STORE_USER, group=STORE_USER)
    config = {"root": STORE_ROOT, "clients": dict(clients)}
    managed_file(name="Backup store config", path=STORE_CONFIG, mode="640", group=STORE_USER, backup=False,
                 content=json.dumps(config, indent=2, sort_keys=True) + "\n")  # fmt: skip
    timer(STORE_PRUNE_UNIT, "fleetops backup store pruning", "daily", True, "store-prune")
