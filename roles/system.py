"""Hostname and timezone."""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files, server

from fleetops.operations.files import managed_file
from fleetops.roles.packages import install
from fleetops.roles.spec import BaselineData


@deploy("System identity")
def system(data: BaselineData) -> None:
    """Set the hostname (group data ``hostname``, else the inventory name) and the timezone."""
    server.hostname(name="Set hostname", hostname=data.hostname or host.name)
    install(["tzdata"], name="Install tzdata")
    files.link(
        name=f"Set timezone {data.timezone}",
        path="/etc/localtime",
        target=f"/usr/share/zoneinfo/{data.timezone}",
    )
    managed_file(name="Write /etc/timezone", path="/etc/timezone", content=f"{data.timezone}\n")
