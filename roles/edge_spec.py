"""The group-data spec of the edge app role (``edge = {...}``): app config, model, startup policy."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fleetops.edge.app import Devices
from fleetops.roles.spec import Strict


class EdgeSpec(Strict):
    """The inference app on a gateway. ``model_dir`` is a fleetops model directory on the controller
    (``fleetops model convert``), relative to the working directory or absolute."""

    present: bool = True
    model_dir: str
    port: int = Field(8500, ge=1, le=65535)
    server_api: str | None = Field(None, pattern=r"^https?://[^\s'\"]+$")
    threads: int = Field(1, ge=1, le=64)
    input_kind: Literal["tabular", "image", "audio"] = "tabular"
    image_size: list[int] = Field(default_factory=list)
    channels: int = Field(1, ge=1, le=4)
    sample_rate: int | None = Field(None, ge=8000, le=192000)
    scale: float = 1.0
    mean: float = 0.0
    std: float = Field(1.0, gt=0)
    confidence_threshold: float = Field(0.5, ge=0, le=1)
    confirm_frames: int = Field(1, ge=1, le=100)
    devices: Devices = Devices()  # the app's own model: group data and the app agree by construction
    restart_limit: int = Field(5, ge=1, le=100)  # restarts allowed per minute before systemd gives up

    @property
    def model_path(self) -> Path:
        return Path(self.model_dir).expanduser().resolve()


class EdgeData(BaseModel):
    model_config = ConfigDict(extra="ignore", arbitrary_types_allowed=True, frozen=True)

    edge: EdgeSpec | None = None
