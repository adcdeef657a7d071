"""The provider seam: every cloud (and the local lab) answers the same few questions.

A provider lists a fleet's live instances by tag, says what it offers (regions, zones, instance
types, images), prepares the fleet's key pair and firewall, creates one instance, waits for a
state, stops, starts and destroys. Everything else (planning, retry safety, SSH, inventory,
deploy, checks) is written once, in ``fleetops.cloud.apply``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from fleetops.cloud.errors import NotOffered
from fleetops.cloud.instance import Instance
from fleetops.cloud.spec import CloudSpec, FirewallRule, Wanted


@dataclass
class Launch:
    """Everything one create call needs, decided before the call."""

    wanted: Wanted
    fleet: str
    image_id: str
    token: str  # the idempotency token: the same spec gives the same token, a retry never duplicates
    tags: dict[str, str]
    user_data: str | None = None
    password: str | None = None  # Windows admin password where the API takes one (Aliyun)


@dataclass
class FleetKeys:
    """The fleet's SSH key (and an RSA key for Windows password data, where the API needs one)."""

    public_key: str
    private_key_file: Path
    rsa_public_key: str | None = None
    rsa_private_key_file: Path | None = None


@dataclass
class Prepared:
    """What ``prepare`` set up in a region: names and ids the create calls refer to."""

    key_name: str | None = None
    rsa_key_name: str | None = None
    security_group: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


class Provider:
    """Base class; subclasses implement the calls, this class does the offer checks."""

    name = "provider"
    # what ``cloud list`` and the README say is real about this provider
    honesty = ""

    def __init__(self, spec: CloudSpec) -> None:
        self.spec = spec

    # ----- what the provider offers (read-only calls) -----------------------------------------
    def regions(self) -> list[str]:
        raise NotImplementedError

    def zones(self, region: str) -> list[str]:
        raise NotImplementedError

    def instance_types(self, region: str, zone: str | None = None) -> list[str]:
        raise NotImplementedError

    def resolve_image(self, region: str, alias: str, os: str) -> str:
        raise NotImplementedError

    # ----- the fleet -------------------------------------------------------------------------
    def live(self, regions: Iterable[str] = ()) -> list[Instance]:
        """The fleet's live instances (not terminated) in ``regions``, found by the fleet tag only."""
        raise NotImplementedError

    def prepare(self, region: str, keys: FleetKeys, firewall: list[FirewallRule]) -> Prepared:
        """Key pair and firewall of the fleet in ``region``; idempotent."""
        raise NotImplementedError

    def create(self, launch: Launch, prepared: Prepared) -> str:
        """Send one create call; the new instance's id. Raises TransientCloudError when the
        outcome is unknown (the caller then looks the instance up by its tags)."""
        raise NotImplementedError

    def wait(self, instances: list[Instance], state: str, timeout: float) -> None:
        raise NotImplementedError

    def stop(self, instances: list[Instance]) -> None:
        raise NotImplementedError

    def start(self, instances: list[Instance]) -> None:
        raise NotImplementedError

    def destroy(self, instances: list[Instance]) -> None:
        raise NotImplementedError

    def password(self, instance: Instance, keys: FleetKeys) -> str | None:
        """The Windows administrator password where the API gives it; None otherwise."""
        return None

    def connection(self, instance: Instance) -> dict | None:
        """pyinfra connection data for a Linux instance when the provider knows it better than
        the generic SSH settings (the local lab does); None for the generic settings."""
        return None

    # ----- checks written once ---------------------------------------------------------------
    def check_offered(self, wanted: list[Wanted], progress: Callable[[str], None] = lambda _m: None) -> dict[str, str]:
        """Raise NotOffered for the first region/zone/type/image the provider does not offer;
        return the image id each instance resolves to (read-only calls, nothing created)."""
        images: dict[str, str] = {}
        regions = set(self.regions())
        for want in wanted:
            where = f"instance {want.name}"
            require_offered(want.region, regions, f"{where}: region {want.region!r} is not offered by {self.name}")
            require_offered(
                want.zone, set(self.zones(want.region)), f"{where}: zone {want.zone!r} is not in {want.region}"
            )
            require_offered(
                want.instance_type,
                set(self.instance_types(want.region, want.zone)),
                f"{where}: instance type {want.instance_type!r} is not offered in {want.zone}",
            )
            progress(f"image {want.image} in {want.region}")
            images[want.name] = self.resolve_image(want.region, want.image, want.os)
        return images


def require_offered(value: str, offered: set[str], message: str) -> None:
    if value in offered:
        return
    close = difflib.get_close_matches(value, sorted(offered), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise NotOffered(message + hint)


def make_provider(spec: CloudSpec, **options) -> Provider:
    """The provider a spec names; its SDK is imported only here, on use."""
    if spec.provider == "local":
        from fleetops.cloud.local import LocalProvider

        return LocalProvider(spec, **options)
    if spec.provider == "aws":
        from fleetops.cloud.aws import AwsProvider

        return AwsProvider(spec, **options)
    from fleetops.cloud.aliyun import AliyunProvider

    return AliyunProvider(spec, **options)
