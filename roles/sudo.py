"""sudo rules in /etc/sudoers.d, each validated with ``visudo -cf`` before it is installed."""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.files import FindFiles
from pyinfra.operations import files

from fleetops.operations.files import managed_file
from fleetops.render import render
from fleetops.roles.packages import install
from fleetops.roles.spec import BaselineData

SUDOERS_D = "/etc/sudoers.d"
PREFIX = "fleetops-"


@deploy("sudo rules")
def sudo_rules(data: BaselineData) -> None:
    """Install declared rules; remove fleetops rules no longer declared."""
    wanted = {f"{SUDOERS_D}/{PREFIX}{rule.name}" for rule in data.sudo_rules}
    if data.sudo_rules:
        install(["sudo"], name="Install sudo")
    for rule in data.sudo_rules:
        managed_file(
            name=f"sudo rule {rule.name}",
            path=f"{SUDOERS_D}/{PREFIX}{rule.name}",
            content=render("sudo/rule.j2", rule=rule),
            mode="440",
            validate="visudo -cf {}",
            backup=False,  # a backup inside sudoers.d would itself be read by sudo
        )
    existing = host.get_fact(FindFiles, path=SUDOERS_D, fname=f"{PREFIX}*", quote_path=True) or []
    for stale in sorted(set(existing) - wanted):
        files.file(name=f"Remove stale sudo rule {stale}", path=stale, present=False)
