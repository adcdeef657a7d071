"""The group-data spec of the platform receiver role (``platform = {...}``)."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from fleetops.roles.mysql_spec import DbName, DbUser
from fleetops.roles.spec import CertificatePair, OptionFileSecret, SecretStr, Strict

Label = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")]
GatewayName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]


class Admin(Strict):
    """An admin account of the platform (reads events); the password is stored as a pbkdf2 hash."""

    name: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.-]{0,63}$")]
    password: SecretStr


class EventLabel(Strict):
    """Reference data: a detection label and how serious it is."""

    label: Label
    severity: Literal["info", "warning", "critical"] = "info"
    description: Annotated[str, StringConstraints(pattern=r"^[^\t\n\r\\'|]{0,255}$")] = ""


class PlatformTls(CertificatePair):
    """HTTPS for the receiver (on by default). Without ``cert``/``key`` fleetops makes a
    self-signed pair on the controller (kept under its state directory), valid for the host's
    inventory name and address plus ``names``; gateways verify the receiver against ``ca`` (default:
    the certificate itself), which the edge role installs on them."""

    enabled: bool = True
    names: list[Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9.:-]{0,252}$")]] = Field(
        default_factory=list
    )
    ca: str | None = None

    @model_validator(mode="after")
    def _ca(self) -> "PlatformTls":
        if self.ca is not None and "BEGIN CERTIFICATE" not in self.ca:
            raise ValueError("ca: not a PEM certificate")
        return self


class PlatformSpec(Strict):
    """The receiver app on a server that also runs the MySQL role (its database lives there)."""

    present: bool = True
    listen_host: str = "0.0.0.0"
    port: int = Field(8600, ge=1, le=65535)
    tls: PlatformTls = PlatformTls()
    database: DbName = "edge_platform"
    db_user: DbUser = "edge_platform"
    db_password: OptionFileSecret
    admins: list[Admin] = Field(min_length=1)
    gateway_group: str = "gateway"  # every inventory host in it is registered as a gateway
    gateways: list[GatewayName] = Field(default_factory=list)  # extra gateways not in the inventory
    event_labels: list[EventLabel] = Field(default_factory=list)

    @field_validator("listen_host")
    @classmethod
    def _address(cls, value: str) -> str:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise ValueError(f"not an IP address: {value!r}") from None
        return value


class PlatformData(BaseModel):
    model_config = ConfigDict(extra="ignore", arbitrary_types_allowed=True, frozen=True)

    platform: PlatformSpec | None = None
