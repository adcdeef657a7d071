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
    from pydantic import ValidationError

    from fleetops.inventory import load_inventory, select_hosts
    from fleetops.roles.firmware_spec import FirmwareData
    from fleetops.validation import describe_validation_error

    found = []
    for host in select_hosts(load_inventory(inventory_path), limit, exclude):
        try:
            spec = FirmwareData.model_validate(dict(host.data.dict())).firmware
        except ValidationError as error:
            raise InputError(f"host {host.name}: {describe_validation_error(error)}") from None
        if spec is not None:
            found.append(FirmwareHost(SshTarget.from_host(host), spec))
    if not found:
        raise InputError("no selected host declares A/B firmware (group data firmware)")
    return found
