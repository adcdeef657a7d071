"""The group-data spec of the control-node role (``control = {...}``): what the node manages."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from fleetops.roles.spec import Strict


class ControlSpec(Strict):
    """A host of group ``control`` runs fleetops itself (schedules live there). ``targets`` are
    the groups or hosts it manages (default: every other host of the inventory); ``group_data``
    is the controller's group-data folder copied to the node (relative to the working directory
    or absolute), so scheduled deploys and checks see the same data as the controller."""

    targets: list[str] = Field(default_factory=list)
    group_data: str | None = None
    deploys: str | None = None  # a folder of deploy files copied to /etc/fleetops/deploys


class ControlData(BaseModel):
    model_config = ConfigDict(extra="ignore", arbitrary_types_allowed=True, frozen=True)

    control: ControlSpec | None = None
