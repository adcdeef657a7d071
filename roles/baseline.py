"""The baseline role: what every fleet host gets (skills A-J1.2, A-J1.3, A-J3.1, A-M1.2)."""

from __future__ import annotations

from pyinfra.api import deploy

from fleetops.roles.data import role_data
from fleetops.roles.devenv import devenv
from fleetops.roles.packages import package_manager
from fleetops.roles.spec import BaselineData
from fleetops.roles.sshd import sshd_hardening
from fleetops.roles.sudo import sudo_rules
from fleetops.roles.system import system
from fleetops.roles.users import users


# The group-data models this role reads: validated before a deploy that uses it connects.
SPECS = (BaselineData,)


@deploy("Baseline")
def baseline() -> None:
    """Hostname, timezone, packages, users and groups, sudo rules, sshd hardening, dev tools.

    Reads its settings from host data (see ``roles/spec.py`` for every key and default).
    """
    data = role_data(BaselineData)
    package_manager(data)
    system(data)
    users(data)
    sudo_rules(data)
    sshd_hardening(data)
    devenv(data)
