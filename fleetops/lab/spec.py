"""The lab spec: which hosts a local lab has, their groups, subnet and group data.

A spec is YAML (``fleetops lab up --spec lab.yml``) or generated from ``--hosts N``. It is
validated completely before anything on the machine changes; names are allow-listed because
they end up in interface names, cgroup paths and inventory files.
"""

from __future__ import annotations

import ipaddress
import keyword
import re
from pathlib import Path
from typing import Annotated

from pydantic import (
    AfterValidator,
    BeforeValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from fleetops.errors import InputError
from fleetops.validation import parse_model, read_yaml, resolve_group_data, strict_network

# A lab name becomes a directory under <state>/labs, the bridge ``fo-<name>`` (interface names
# have at most 15 characters) and cgroup paths, so it is allow-listed wherever it comes from.
LAB_NAME = re.compile(r"[a-z][a-z0-9]{0,9}")
LabName = Annotated[str, StringConstraints(pattern=f"^{LAB_NAME.pattern}$")]
HostName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$|^[a-z]$")]


def _not_a_keyword(name: str) -> str:
    """Group names become Python names in the generated inventory file."""
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise ValueError(f"group name {name!r} is a Python keyword (groups are names in inventory.py)")
    return name


GroupName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,30}$"), AfterValidator(_not_a_keyword)]

# Ranges a lab bridge must never take: they belong to the machine itself or to nobody.
FORBIDDEN_NETWORKS = tuple(
    ipaddress.IPv4Network(net) for net in ("0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "240.0.0.0/4")
)


def validate_lab_name(name: str) -> str:
    """``name`` when it is a valid lab name, else InputError (``--name``, ``$FLEETOPS_LAB``)."""
    if not isinstance(name, str) or not LAB_NAME.fullmatch(name):
        raise InputError(f"lab name {name!r}: use 1-10 lowercase letters and digits, starting with a letter")
    return name


DEFAULT_SPEC_PATH = Path("inventory/lab.yml")


class LabHost(BaseModel):
    """One container of the lab."""

    model_config = ConfigDict(extra="forbid")

    name: HostName
    groups: list[GroupName] = Field(default_factory=list)
    memory_max_mb: int | None = Field(None, ge=64, le=1024 * 1024, description="the host's memory limit (its cgroup)")
    slot: int | None = Field(
        None, ge=0, le=243, description="address index (.11 + slot); default: the host's position in the spec"
    )


class LabSpec(BaseModel):
    """A whole lab; ``group_data`` is resolved relative to the spec file."""

    model_config = ConfigDict(extra="forbid")

    name: LabName = "lab"
    subnet: Annotated[ipaddress.IPv4Network, BeforeValidator(strict_network)] = ipaddress.IPv4Network("10.77.0.0/24")

    hosts: list[LabHost] = Field(min_length=1, max_length=60)
    group_data: Path | None = None
    private_users: bool = Field(False, description="root in a host is an unprivileged UID range outside (exam seats)")

    @model_validator(mode="after")
    def _check(self) -> "LabSpec":
        names = [host.name for host in self.hosts]
        dupes = sorted({name for name in names if names.count(name) > 1})
        if dupes:
            raise ValueError(f"duplicate host names: {', '.join(dupes)}")
        if not self.subnet.is_private or any(self.subnet.overlaps(net) for net in FORBIDDEN_NETWORKS):
            raise ValueError(
                f"subnet {self.subnet} is not a private range a lab may use (use 10.x, 172.16-31.x or 192.168.x)"
            )
        if self.subnet.num_addresses - 12 < len(self.hosts):
            raise ValueError(f"subnet {self.subnet} is too small for {len(self.hosts)} hosts")
        slots = [self.slot_of(position) for position in range(len(self.hosts))]
        taken = sorted({slot for slot in slots if slots.count(slot) > 1})
        if taken:
            raise ValueError(f"hosts share an address slot: {', '.join(map(str, taken))}")
        if max(slots) + 12 > self.subnet.num_addresses - 1:
            raise ValueError(f"subnet {self.subnet} has no address for slot {max(slots)}")
        clash = {host.name for host in self.hosts} & {g for h in self.hosts for g in h.groups}
        if clash:
            raise ValueError(f"names used as both host and group: {', '.join(sorted(clash))}")
        return self

    def with_name(self, name: str) -> "LabSpec":
        """This spec under another name, validated again (``model_copy`` would not validate)."""
        return LabSpec.model_validate({**self.model_dump(), "name": name})

    @property
    def gateway(self) -> ipaddress.IPv4Address:
        """The controller's address on the lab bridge."""
        return self.subnet.network_address + 1

    def address_of(self, index: int) -> ipaddress.IPv4Address:
        """Hosts get .11, .12, ... so addresses stay stable as hosts are added."""
        return self.subnet.network_address + 11 + index

    def slot_of(self, position: int) -> int:
        """The address index of the host at ``position``: its ``slot`` when given (a host keeps its
        address when one before it goes, as cloud instances do), else its position."""
        slot = self.hosts[position].slot
        return position if slot is None else slot

    def host_address(self, position: int) -> ipaddress.IPv4Address:
        return self.address_of(self.slot_of(position))

    @property
    def bridge(self) -> str:
        return f"fo-{self.name}"


def generated_spec(hosts: int, name: str = "lab", subnet: str | None = None) -> LabSpec:
    """A spec of ``hosts`` plain hosts named ``<name>1..N`` in the group ``lab``."""
    if not 1 <= hosts <= 60:
        raise InputError(f"--hosts must be between 1 and 60, got {hosts}")
    data: dict = {
        "name": name,
        "hosts": [{"name": f"{name}{i}", "groups": ["lab"]} for i in range(1, hosts + 1)],
    }
    if subnet:
        data["subnet"] = subnet
    return parse_spec(data, source="--hosts")


def parse_spec(data: object, source: str, base_dir: Path | None = None) -> LabSpec:
    """Validate raw spec data; one-line InputError naming the key on failure."""
    spec = parse_model(LabSpec, data, source, "a lab spec")
    return spec.model_copy(update={"group_data": resolve_group_data(spec.group_data, source, base_dir)})


def load_spec(path: Path) -> LabSpec:
    """Read and validate a YAML lab spec file."""
    data = read_yaml(path, str(path), missing=f"lab spec not found: {path}")
    return parse_spec(data, source=str(path), base_dir=path.parent)
