"""The group-data spec of the control-node role (``control = {...}``): what the node manages."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from fleetops.roles.spec import Strict


class ControlSpec(Strict):
    """A host of group ``control`` runs fleetops itself (schedules live there). ``targets`` are
    the groups or hosts it manages (default: every other host of the inventory); their data, as
    the controller evaluates it, goes into the node's inventory."""

    targets: list[str] = Field(default_factory=list)
    deploys: str | None = None  # a folder of deploy files copied to /etc/fleetops/deploys


class ControlData(BaseModel):
    model_config = ConfigDict(extra="ignore", arbitrary_types_allowed=True, frozen=True)

    control: ControlSpec | None = None
