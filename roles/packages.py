"""Package manager: apt on Debian/Ubuntu, dnf or yum on RHEL-likes, chosen from facts."""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.server import LinuxDistribution, Which
from pyinfra.operations import apt, dnf, yum

from fleetops.operations.files import managed_file
from fleetops.render import render
from fleetops.roles.data import os_family
from fleetops.roles.spec import BaselineData

APT_CACHE_SECONDS = 6 * 3600


def install(packages: list[str], name: str | None = None) -> None:
    """Install ``packages`` with the host's package manager (refreshing apt lists if stale)."""
    if not packages:
        return
    label = name or f"Install {', '.join(packages)}"
    if os_family() == "debian":
        apt.packages(name=label, packages=packages, update=True, cache_time=APT_CACHE_SECONDS)
    elif host.get_fact(Which, command="dnf"):
        dnf.packages(name=label, packages=packages)
    else:
        yum.packages(name=label, packages=packages)


@deploy("Package manager")
def package_manager(data: BaselineData) -> None:
    """Optional mirror configuration, then the host's package list."""
    if data.apt_mirror is not None and os_family() == "debian":
        codename = host.get_fact(LinuxDistribution)["release_meta"].get("VERSION_CODENAME", "")
        mirror = managed_file(
            name="Configure apt mirror",
            path="/etc/apt/sources.list",
            content=render("apt/sources.list.j2", mirror=data.apt_mirror, codename=codename),
        )
        apt.update(name="Refresh package lists after a mirror change", _if=mirror.did_change)
    install(list(data.packages), name="Install baseline packages")
