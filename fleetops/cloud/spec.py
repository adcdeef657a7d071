"""The cloud spec: which instances a fleet has, where, of what type and image, and who may reach them.

A spec is YAML (``inventory/cloud.yml``), validated completely before any API call: names are
allow-listed (they become tags, key-pair names and inventory entries), firewall rules are parsed
as networks and ports, TTLs as durations. Per-instance values fall back to ``defaults``; what the
provider offers (regions, zones, types, images) is checked afterwards, read-only, by the plan.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from fleetops.lab.spec import GroupName, HostName, LabName
from fleetops.validation import parse_model, read_yaml, resolve_group_data, strict_network

DEFAULT_SPEC_PATH = Path("inventory/cloud.yml")

FleetName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")]
# Region, zone, type and image names of every provider fit this; anything else is a typo or worse.
CloudWord = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$")]
Provider = Literal["local", "aws", "aliyun"]
OsKind = Literal["linux", "windows"]

DURATION = re.compile(r"^(\d+)([smhd])$")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: str) -> int:
    """``"90m"`` -> 5400 seconds; ValueError for anything else."""
    match = DURATION.fullmatch(str(value).strip())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{value!r} is not a duration like 30m, 8h or 2d")
    return int(match.group(1)) * UNIT_SECONDS[match.group(2)]


def _duration(value: str) -> str:
    parse_duration(value)
    return value


Duration = Annotated[str, AfterValidator(_duration)]


class FirewallRule(BaseModel):
    """One inbound rule of the fleet's security group."""

    model_config = ConfigDict(extra="forbid")

    port: int | str = Field(description="a port or a range like 8000-8100")
    cidr: Annotated[ipaddress.IPv4Network, BeforeValidator(strict_network)]
    protocol: Literal["tcp", "udp"] = "tcp"

    @property
    def ports(self) -> tuple[int, int]:
        text = str(self.port)
        low, _, high = text.partition("-")
        try:
            first, last = int(low), int(high or low)
        except ValueError:
            raise ValueError(f"port {text!r} is not a number or a range like 8000-8100") from None
        if not 1 <= first <= last <= 65535:
            raise ValueError(f"port {text!r} is outside 1-65535 or reversed")
        return first, last

    @model_validator(mode="after")
    def _check(self) -> "FirewallRule":
        self.ports  # noqa: B018 - raises on a bad port
        return self


class Defaults(BaseModel):
    """Values every instance takes unless it says otherwise."""

    model_config = ConfigDict(extra="forbid")

    region: CloudWord | None = None
    zone: CloudWord | None = None
    instance_type: CloudWord | None = None
    image: CloudWord | None = None
    os: OsKind = "linux"
    ttl: Duration | None = None
    groups: list[GroupName] = Field(default_factory=list)


class InstanceSpec(BaseModel):
    """One instance as declared; ``resolved`` fills it from the defaults."""

    model_config = ConfigDict(extra="forbid")

    name: HostName
    os: OsKind | None = None
    image: CloudWord | None = None
    region: CloudWord | None = None
    zone: CloudWord | None = None
    instance_type: CloudWord | None = None
    groups: list[GroupName] | None = None
    ttl: Duration | None = None


class Wanted(BaseModel):
    """An instance with every value decided: what the plan compares with what exists."""

    model_config = ConfigDict(frozen=True)

    name: str
    os: OsKind
    image: str
    region: str
    zone: str
    instance_type: str
    groups: tuple[str, ...]
    ttl_s: int | None


class CloudSpec(BaseModel):
    """A whole fleet of cloud instances."""

    model_config = ConfigDict(extra="forbid")

    fleet: FleetName
    provider: Provider
    endpoint: str | None = Field(
        None, description="API endpoint override, e.g. an emulator on 127.0.0.1; its addresses are never contacted"
    )
    ssh_user: Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_-]{0,31}$")] = "root"
    defaults: Defaults = Field(default_factory=Defaults)
    firewall: list[FirewallRule] = Field(default_factory=list, max_length=50)
    instances: list[InstanceSpec] = Field(min_length=1, max_length=60)
    group_data: Path | None = None
    # local provider: the lab that holds the instances (default: the fleet name) and its subnet
    lab: LabName | None = None
    subnet: str | None = None
    # aliyun: the VPC of the fleet's security group and a vSwitch per zone (RunInstances needs one)
    vpc: CloudWord | None = None
    vswitches: dict[CloudWord, CloudWord] = Field(default_factory=dict)

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?/?", value):
            raise ValueError(f"{value!r} is not an http(s)://host[:port] endpoint")
        return value

    @model_validator(mode="after")
    def _check(self) -> "CloudSpec":
        names = [instance.name for instance in self.instances]
        dupes = sorted({name for name in names if names.count(name) > 1})
        if dupes:
            raise ValueError(f"duplicate instance names: {', '.join(dupes)}")
        groups = {group for wanted in self.wanted() for group in wanted.groups}
        clash = set(names) & groups
        if clash:
            raise ValueError(f"names used as both instance and group: {', '.join(sorted(clash))}")
        for key, provider in (("lab", "local"), ("subnet", "local"), ("vpc", "aliyun"), ("vswitches", "aliyun")):
            if getattr(self, key) and self.provider != provider:
                raise ValueError(f"{key}: only the {provider} provider takes it")
        if self.provider == "aliyun":
            if not self.vpc:
                raise ValueError("vpc: the aliyun provider needs the VPC the fleet's security group belongs to")
            for wanted in self.wanted():
                if wanted.zone not in self.vswitches:
                    raise ValueError(f"instance {wanted.name}: zone {wanted.zone} has no vSwitch in `vswitches`")
        return self

    def wanted(self) -> list[Wanted]:
        """Every instance with its defaults applied; ValueError names a value nobody gave."""
        out = []
        for instance in self.instances:
            values = {}
            for key in ("image", "region", "zone", "instance_type"):
                value = getattr(instance, key) or getattr(self.defaults, key)
                if value is None:
                    raise ValueError(f"instance {instance.name}: no {key} (set it on the instance or in defaults)")
                values[key] = value
            ttl = instance.ttl or self.defaults.ttl
            out.append(
                Wanted(
                    name=instance.name,
                    os=instance.os or self.defaults.os,
                    groups=tuple(instance.groups if instance.groups is not None else self.defaults.groups),
                    ttl_s=parse_duration(ttl) if ttl else None,
                    **values,
                )
            )
        return out

    @property
    def emulated(self) -> bool:
        """An endpoint on this machine is an emulator (moto, a test fake): what it returns as
        addresses are not hosts, so nothing ever connects to them."""
        if self.endpoint is None:
            return False
        host = re.sub(r"^https?://", "", self.endpoint).split(":")[0].split("/")[0]
        return host in {"127.0.0.1", "localhost", "::1"}


def parse_cloud_spec(data: object, source: str, base_dir: Path | None = None) -> CloudSpec:
    """Validate raw spec data; a one-line InputError naming the key on failure."""
    spec = parse_model(CloudSpec, data, source, "a cloud spec")
    return spec.model_copy(update={"group_data": resolve_group_data(spec.group_data, source, base_dir)})


def load_cloud_spec(path: Path) -> CloudSpec:
    """Read and validate a YAML cloud spec file."""
    data = read_yaml(path, str(path), missing=f"cloud spec not found: {path}")
    return parse_cloud_spec(data, source=str(path), base_dir=path.parent)
