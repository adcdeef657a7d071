"""Turn an inventory, a selection and a suite into per-host work, validating everything first."""

from __future__ import annotations

from pathlib import Path

from fleetops.checking.engine import HostWork
from fleetops.checking.target import SshTarget
from fleetops.checks.suite import Suite, plan_host


def host_groups(host) -> set[str]:
    """A pyinfra host's group names (pyinfra adds ``all`` implicitly; so do we)."""
    return {str(group) for group in (host.groups or [])} | {"all"}


def plan(
    inventory_path: Path, suite: Suite, limit: tuple[str, ...] = (), exclude: tuple[str, ...] = ()
) -> list[HostWork]:
    """Every selected host's checks and connection; InputError before anything connects."""
    from fleetops.inventory import load_inventory, select_hosts

    inventory = load_inventory(inventory_path)
    hosts = select_hosts(inventory, limit, exclude)
    return [
        HostWork(
            plan=plan_host(suite, host.name, host_groups(host), dict(host.data.dict())),
            target=SshTarget.from_host(host),
        )
        for host in hosts
    ]
