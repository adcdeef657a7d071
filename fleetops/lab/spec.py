"""The lab spec: which hosts a local lab has, their groups, subnet and group data.

A spec is YAML (``fleetops lab up --spec lab.yml``) or generated from ``--hosts N``. It is
validated completely before anything on the machine changes; names are allow-listed because
they end up in interface names, cgroup paths and inventory files.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from fleetops.errors import InputError
from fleetops.validation import describe_validation_error

LabName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]{0,9}$")]
HostName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$|^[a-z]$")]
GroupName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,30}$")]

DEFAULT_SPEC_PATH = Path("inventory/lab.yml")


class LabHost(BaseModel):
    """One container of the lab."""

    model_config = ConfigDict(extra="forbid")

    name: HostName
    groups: list[GroupName] = Field(default_factory=list)


class LabSpec(BaseModel):
    """A whole lab; ``group_data`` is resolved relative to the spec file."""

    model_config = ConfigDict(extra="forbid")

    name: LabName = "lab"
    subnet: ipaddress.IPv4Network = ipaddress.IPv4Network("10.77.0.0/24")
    hosts: list[LabHost] = Field(min_length=1, max_length=60)
    group_data: Path | None = None

    @model_validator(mode="after")
    def _check(self) -> "LabSpec":
        names = [host.name for host in self.hosts]
        dupes = sorted({name for name in names if names.count(name) > 1})
        if dupes:
            raise ValueError(f"duplicate host names: {', '.join(dupes)}")
        if not self.subnet.is_private:
            raise ValueError(f"subnet {self.subnet} is not a private range")
        if self.subnet.num_addresses - 12 < len(self.hosts):
            raise ValueError(f"subnet {self.subnet} is too small for {len(self.hosts)} hosts")
        clash = {host.name for host in self.hosts} & {g for h in self.hosts for g in h.groups}
        if clash:
            raise ValueError(f"names used as both host and group: {', '.join(sorted(clash))}")
        return self

    @property
    def gateway(self) -> ipaddress.IPv4Address:
        """The controller's address on the lab bridge."""
        return self.subnet.network_address + 1

    def address_of(self, index: int) -> ipaddress.IPv4Address:
        """Hosts get .11, .12, ... so addresses stay stable as hosts are added."""
        return self.subnet.network_address + 11 + index

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
    if not isinstance(data, dict):
        raise InputError(f"{source}: a lab spec must be a mapping, got {type(data).__name__}")
    try:
        spec = LabSpec.model_validate(data)
    except ValidationError as error:
        raise InputError(f"{source}: {describe_validation_error(error)}") from None
    if spec.group_data is not None and base_dir is not None and not spec.group_data.is_absolute():
        spec = spec.model_copy(update={"group_data": (base_dir / spec.group_data).resolve()})
    if spec.group_data is not None and not spec.group_data.is_dir():
        raise InputError(f"{source}: group_data directory not found: {spec.group_data}")
    return spec


def load_spec(path: Path) -> LabSpec:
    """Read and validate a YAML lab spec file."""
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise InputError(f"lab spec not found: {path}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise InputError(f"{path}:{where} invalid YAML: {getattr(error, 'problem', error)}") from None
    return parse_spec(data, source=str(path), base_dir=path.parent)
