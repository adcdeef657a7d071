"""The gateways of an inventory that declare A/B firmware (group data ``firmware``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fleetops.checking.target import SshTarget
from fleetops.errors import InputError
from fleetops.roles.firmware_spec import FirmwareSpec


@dataclass(frozen=True)
class FirmwareHost:
    target: SshTarget
    spec: FirmwareSpec


def firmware_hosts(inventory_path: Path, limit: tuple[str, ...], exclude: tuple[str, ...]) -> list[FirmwareHost]:
    """Selected hosts with a ``firmware`` key, validated; InputError when there are none."""
    from fleetops.inventory import hosts_declaring
    from fleetops.roles.firmware_spec import FirmwareData

    found = hosts_declaring(inventory_path, limit, exclude, FirmwareData, lambda data: data.firmware)
    if not found:
        raise InputError("no selected host declares A/B firmware (group data firmware)")
    return [FirmwareHost(SshTarget.from_host(host), spec) for host, spec in found]
