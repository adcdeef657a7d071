"""The group-data spec of the firmware role (``firmware = {...}``): hardware, trust, trial policy."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fleetops.firmware.description import BOARD, REVISION
from fleetops.firmware.pki import SIGNER_NAME
from fleetops.firmware.versions import VERSION
from fleetops.roles.spec import Strict


class FirmwareSpec(Strict):
    """A/B firmware on a gateway. ``ca_file`` is the controller's PEM of the CA that signs releases
    (relative to the working directory or absolute); ``signer_name`` pins the release signer's
    common name, so a certificate the same CA issued for something else cannot sign firmware."""

    board: str = Field(pattern=BOARD.pattern)
    revision: str = Field(pattern=REVISION.pattern)
    ca_file: str
    signer_name: str = Field(pattern=SIGNER_NAME.pattern)
    bootlimit: int = Field(3, ge=1, le=10)  # trial boots before the bootloader falls back
    health_timeout: int = Field(20, ge=5, le=600)  # seconds the on-gateway health tests may take to pass
    soak_seconds: int = Field(30, ge=0, le=3600)  # the health tests keep passing this long before the commit
    trial_timeout: int = Field(600, ge=60, le=86400)  # seconds after boot before an uncommitted trial rolls back
    factory_version: str = Field("1.0.0", pattern=VERSION.pattern)  # what slot a holds on a new gateway
    factory_dir: str | None = None  # the factory firmware tree on the controller (default: fleetops' own)

    @field_validator("ca_file", "factory_dir")
    @classmethod
    def _no_newline(cls, value: str | None) -> str | None:
        if value is not None and ("\n" in value or not value.strip()):
            raise ValueError("must be a path")
        return value

    @property
    def ca_path(self) -> Path:
        return Path(self.ca_file).expanduser().resolve()


class FirmwareData(BaseModel):
    model_config = ConfigDict(extra="ignore", arbitrary_types_allowed=True, frozen=True)

    firmware: FirmwareSpec | None = None
