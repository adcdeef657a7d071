"""The group-data spec of the edge app role (``edge = {...}``): app config, model, startup policy."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fleetops.edge.app import Tuning
from fleetops.roles.spec import SecretStr, Strict


class EdgeSpec(Strict, Tuning):
    """The inference app on a gateway. ``model_dir`` is a fleetops model directory on the controller
    (``fleetops model convert``), relative to the working directory or absolute."""

    present: bool = True
    model_dir: str
    listen_host: str | None = None  # default: the gateway's own inventory address (never 0.0.0.0 by default)
    port: int = Field(8500, ge=1, le=65535)
    server_api: str | None = Field(None, pattern=r"^https?://[^\s'\"]+$")  # the platform receiver
    server_ca: str | None = None  # PEM the receiver's certificate is checked against (with server_api)
    platform_host: str | None = None  # or: the inventory host running it (its address and port are used)
    rotate_token: bool = False  # replace this gateway's receiver token in this run
    infer_token: SecretStr | None = None  # when set, /infer needs "Authorization: Bearer <token>"
    max_body_bytes: int = Field(4 * 2**20, ge=1024, le=2**28)  # bigger /infer bodies are refused (413)
    log_max_bytes: int = Field(10 * 2**20, ge=4096, le=2**34)  # the inference log rotates beyond this
    restart_limit: int = Field(5, ge=1, le=100)  # restarts allowed per minute before systemd gives up
    keep_releases: int = Field(3, ge=2, le=50)  # app releases and model versions kept for rollback

    @model_validator(mode="after")
    def _one_server(self) -> "EdgeSpec":
        if self.server_api and self.platform_host:
            raise ValueError("set server_api or platform_host, not both")
        if self.server_ca is not None and "BEGIN CERTIFICATE" not in self.server_ca:
            raise ValueError("server_ca: not a PEM certificate")
        if self.listen_host is not None:
            import ipaddress

            try:
                ipaddress.ip_address(self.listen_host)
            except ValueError:
                raise ValueError(f"listen_host: not an IP address: {self.listen_host!r}") from None
        return self

    @property
    def model_path(self) -> Path:
        return Path(self.model_dir).expanduser().resolve()


class EdgeData(BaseModel):
    model_config = ConfigDict(extra="ignore", arbitrary_types_allowed=True, frozen=True)

    edge: EdgeSpec | None = None
