"""Compare what a spec wants with what a provider has, by tag: create, keep, start, drift, extra.

Pure: no API call happens here, so the plan is unit-tested from data. Identity is the pair
(fleet tag, name tag); an instance is never matched by count or by a bare name, and drift in
type, zone, region, image or OS is reported for a person to decide, never replaced silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fleetops.cloud.instance import TAG_IMAGE, TAG_OS, Instance
from fleetops.cloud.spec import Wanted

VERBS = ("create", "start", "keep", "drift", "duplicate", "extra")


@dataclass
class Action:
    """One row of the plan."""

    verb: str
    name: str
    wanted: Wanted | None = None
    have: list[Instance] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)

    @property
    def instance(self) -> Instance | None:
        return self.have[0] if len(self.have) == 1 else None

    def describe(self) -> str:
        if self.verb == "create" and self.wanted:
            w = self.wanted
            return f"{w.os} {w.image} {w.instance_type} in {w.zone}"
        if self.verb == "drift":
            return "; ".join(self.drift) + " (not replaced: recreate it by hand or change the spec)"
        if self.verb == "duplicate":
            return f"{len(self.have)} live instances carry this name: " + ", ".join(i.id for i in self.have)
        if self.verb == "extra":
            return "in the fleet but not in the spec (kept; `fleetops cloud destroy` removes it)"
        if self.verb == "start" and self.instance:
            return f"{self.instance.state}: apply starts it"
        return self.instance.state if self.instance else ""

    def to_dict(self) -> dict:
        return {
            "verb": self.verb,
            "name": self.name,
            "instance_ids": [instance.id for instance in self.have],
            "detail": self.describe(),
            "drift": self.drift,
        }


def drift_of(wanted: Wanted, have: Instance) -> list[str]:
    """What differs between a declared instance and the live one, as ``field: have X, want Y``."""
    pairs = [
        ("region", have.region, wanted.region),
        ("zone", have.zone, wanted.zone),
        ("instance_type", have.instance_type, wanted.instance_type),
        # the alias recorded at creation, not today's newest image id for it
        ("image", have.tags.get(TAG_IMAGE, have.image), wanted.image),
        ("os", have.tags.get(TAG_OS, have.os), wanted.os),
    ]
    return [f"{key}: have {old}, want {new}" for key, old, new in pairs if old != new]


def plan(wanted: list[Wanted], have: list[Instance]) -> list[Action]:
    """The actions that bring ``have`` to ``wanted``; spec order first, then extras by name."""
    by_name: dict[str, list[Instance]] = {}
    for instance in have:
        by_name.setdefault(instance.name, []).append(instance)
    actions = []
    for want in wanted:
        found = by_name.pop(want.name, [])
        if not found:
            actions.append(Action("create", want.name, want))
        elif len(found) > 1:
            actions.append(Action("duplicate", want.name, want, found))
        elif drift := drift_of(want, found[0]):
            actions.append(Action("drift", want.name, want, found, drift))
        elif found[0].state in ("stopped", "stopping"):
            actions.append(Action("start", want.name, want, found))
        else:
            actions.append(Action("keep", want.name, want, found))
    for name in sorted(by_name):
        actions.append(Action("extra", name, None, by_name[name]))
    return actions


def changes(actions: list[Action]) -> list[Action]:
    """The actions ``apply`` would carry out (drift, duplicates and extras are only reported)."""
    return [action for action in actions if action.verb in ("create", "start")]
