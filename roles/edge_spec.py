"""The group-data spec of the edge app role (``edge = {...}``): app config, model, startup policy."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fleetops.edge.app import Tuning
from fleetops.roles.spec import Strict


class EdgeSpec(Strict, Tuning):
    """The inference app on a gateway. ``model_dir`` is a fleetops model directory on the controller
    (``fleetops model convert``), relative to the working directory or absolute."""

    present: bool = True
    model_dir: str
    port: int = Field(8500, ge=1, le=65535)
    server_api: str | None = Field(None, pattern=r"^https?://[^\s'\"]+$")  # the platform receiver
    platform_host: str | None = None  # or: the inventory host running it (its address and port are used)
    restart_limit: int = Field(5, ge=1, le=100)  # restarts allowed per minute before systemd gives up
    keep_releases: int = Field(3, ge=2, le=50)  # app releases and model versions kept for rollback

    @model_validator(mode="after")
    def _one_server(self) -> "EdgeSpec":
        if self.server_api and self.platform_host:
            raise ValueError("set server_api or platform_host, not both")
        return self

    @property
    def model_path(self) -> Path:
        return Path(self.model_dir).expanduser().resolve()


class EdgeData(BaseModel):
    model_config = ConfigDict(extra="ignore", arbitrary_types_allowed=True, frozen=True)

    edge: EdgeSpec | None = None
