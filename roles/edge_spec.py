"""The group-data spec of the edge app role (``edge = {...}``): app config, model, startup policy."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fleetops.edge.app import Devices
from fleetops.roles.spec import Strict


class EdgeSpec(Strict):
    """The inference app on a gateway. ``model_dir`` is a fleetops model directory on the controller
    (``fleetops model convert``), relative to the working directory or absolute."""

    present: bool = True
    model_dir: str
    port: int = Field(8500, ge=1, le=65535)
    server_api: str | None = Field(None, pattern=r"^https?://[^\s'\"]+$")  # the platform receiver
    platform_host: str | None = None  # or: the inventory host running it (its address and port are used)
    heartbeat_interval: float = Field(10.0, ge=0.5, le=3600)
    threads: int = Field(1, ge=1, le=64)
    # what this gateway's devices deliver; when set, a model declaring other input is refused
    input_kind: Literal["tabular", "image", "audio", "text"] | None = None
    image_size: list[int] | None = Field(None, min_length=2, max_length=2)
    channels: int | None = Field(None, ge=1, le=4)
    sample_rate: int | None = Field(None, ge=8000, le=192000)
    # preprocessing overrides (default: the model's own normalisation from its manifest)
    scale: float | None = None
    mean: list[float] | None = None
    std: list[float] | None = None
    confidence_threshold: float = Field(0.5, ge=0, le=1)
    confirm_frames: int = Field(1, ge=1, le=100)
    event_labels: list[str] | None = None  # labels that count as detections (default: all)
    devices: Devices = Devices()  # the app's own model: group data and the app agree by construction
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
