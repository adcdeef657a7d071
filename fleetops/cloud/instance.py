"""What a provider reports about one instance, the same shape for every provider."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# tags every fleetops instance carries: identity is (fleet, name), never a count or a bare name
TAG_FLEET = "fleetops:fleet"
TAG_NAME = "fleetops:name"
TAG_OS = "fleetops:os"
TAG_EXPIRES = "fleetops:expires"
TAG_IMAGE = "fleetops:image"

# provider states mapped onto these; "gone" instances are never listed
STATES = ("pending", "running", "stopping", "stopped")


@dataclass
class Instance:
    """One live (not terminated) instance of a fleet."""

    name: str
    id: str
    state: str
    os: str
    image: str  # the provider's image id
    region: str
    zone: str
    instance_type: str
    public_ip: str | None = None
    private_ip: str | None = None
    expires: str | None = None  # ISO time from the TTL tag
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def address(self) -> str | None:
        """Where SSH goes: the public address, else the private one."""
        return self.public_ip or self.private_ip

    def to_dict(self) -> dict:
        return asdict(self)


def by_region(instances: list[Instance]) -> dict[str, list[str]]:
    """Instance ids grouped by region: every cloud API call is about one region."""
    out: dict[str, list[str]] = {}
    for instance in instances:
        out.setdefault(instance.region, []).append(instance.id)
    return out


def snake_case(operation: str) -> str:
    """``RunInstances`` -> ``run_instances`` (the SDKs' method names for an API action)."""
    return "".join(f"_{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(operation))
