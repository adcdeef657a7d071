"""systemd unit settings: ``{kind: unit, unit: edge.service, restart: always, wanted_by: multi-user.target}``
and timers: ``{kind: timer, unit: backup.timer, on_calendar: daily, active: true}``.

The probe runs ``systemctl show`` for the properties and ``systemctl cat`` for the unit text (what
systemd loaded, drop-ins merged in order), so ``Restart=`` set in a drop-in counts and a line in
a file systemd never read does not. The judge is a pure function of that text.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field

from fleetops.checks.base import Check, Outcome, failed, passed
from fleetops.checks.services import UNIT_PATTERN

ENABLED_STATES = ("enabled", "enabled-runtime", "static", "alias", "indirect", "generated")


def parse_unit_text(text: str) -> dict[str, dict[str, list[str]]]:
    """``systemctl cat`` output -> {section: {key: [values in order]}}; an empty value resets a
    list setting, as systemd does (``WantedBy=`` then ``WantedBy=x`` is just x)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        if current is None or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if value == "":
            current[key] = []
        else:
            current.setdefault(key, []).extend(value.split() if key in ("WantedBy", "RequiredBy", "Alias") else [value])
    return sections


def setting(sections: dict[str, dict[str, list[str]]], section: str, key: str) -> str | None:
    """The effective (last) value of a single-valued setting, or None when unset."""
    values = sections.get(section, {}).get(key) or []
    return values[-1] if values else None


class Unit(Check):
    """Unit file settings as systemd loaded them: ``restart`` (Restart=), ``wanted_by``
    ([Install] WantedBy=), ``enabled``, ``active``, ``user`` (User=) and ``exec`` (a regular
    expression on ExecStart=)."""

    kind: Literal["unit"]
    unit_name: str = Field(alias="unit", pattern=UNIT_PATTERN)
    restart: str | None = Field(None, pattern=r"^(no|always|on-success|on-failure|on-abnormal|on-abort|on-watchdog)$")
    wanted_by: str | None = Field(None, pattern=UNIT_PATTERN)
    enabled: bool | None = None
    active: bool | None = None
    user: str | None = None
    exec_matches: str | None = Field(None, alias="exec")

    def default_name(self) -> str:
        return f"unit:{self.unit_name}"

    def probe(self) -> dict:
        return {"op": "unit", "args": {"unit": self.unit_name}}

    def judge(self, raw: dict) -> Outcome:
        props = raw["props"]
        if props.get("LoadState") == "not-found" or not raw.get("text"):
            return failed(f"unit {self.unit_name} not found", value=False)
        sections = parse_unit_text(raw["text"])
        problems = []
        restart = setting(sections, "Service", "Restart") or "no"
        if self.restart is not None and restart != self.restart:
            problems.append(f"Restart={restart} (expected {self.restart})")
        wanted = sections.get("Install", {}).get("WantedBy") or []
        if self.wanted_by is not None and self.wanted_by not in wanted:
            problems.append(f"WantedBy={' '.join(wanted) or '(none)'} (expected {self.wanted_by})")
        is_enabled = props.get("UnitFileState") in ENABLED_STATES
        if self.enabled is not None and is_enabled != self.enabled:
            problems.append(f"{props.get('UnitFileState') or 'no unit file state'}")
        is_active = props.get("ActiveState") == "active"
        if self.active is not None and is_active != self.active:
            problems.append(f"{props.get('ActiveState')}")
        user = setting(sections, "Service", "User") or "root"
        if self.user is not None and user != self.user:
            problems.append(f"User={user} (expected {self.user})")
        exec_start = " ".join(sections.get("Service", {}).get("ExecStart") or [])
        if self.exec_matches is not None and not re.search(self.exec_matches, exec_start):
            problems.append(f"ExecStart does not match {self.exec_matches!r}")
        if problems:
            return failed(f"{self.unit_name}: " + ", ".join(problems), value=False)
        return passed(
            f"{self.unit_name}: Restart={restart}, WantedBy={' '.join(wanted) or '-'}, {props.get('UnitFileState')}",
            True,
        )


class Timer(Check):
    """A systemd timer: ``on_calendar`` (OnCalendar= as written, normalised by systemd when it
    can), ``active`` (waiting for its next run), ``persistent`` and the unit it starts."""

    kind: Literal["timer"]
    unit_name: str = Field(alias="unit", pattern=r"^[A-Za-z0-9@_.:-]+\.timer$")
    on_calendar: str | None = None
    active: bool = True
    persistent: bool | None = None
    starts: str | None = Field(None, pattern=UNIT_PATTERN)

    def default_name(self) -> str:
        return f"timer:{self.unit_name}"

    def probe(self) -> dict:
        return {"op": "unit", "args": {"unit": self.unit_name, "calendar": self.on_calendar}}

    def judge(self, raw: dict) -> Outcome:
        props = raw["props"]
        if props.get("LoadState") == "not-found" or not raw.get("text"):
            return failed(f"timer {self.unit_name} not found", value=False)
        sections = parse_unit_text(raw["text"])
        problems = []
        calendars = sections.get("Timer", {}).get("OnCalendar") or []
        if self.on_calendar is not None:
            wanted = raw.get("calendar_normalized") or self.on_calendar
            seen = set(calendars) | set(raw.get("calendars_normalized") or [])
            if self.on_calendar not in seen and wanted not in seen:
                problems.append(f"OnCalendar={' / '.join(calendars) or '(none)'} (expected {self.on_calendar})")
        if (props.get("ActiveState") == "active") != self.active:
            problems.append(props.get("ActiveState") or "unknown state")
        persistent = (setting(sections, "Timer", "Persistent") or "false").lower() in ("true", "yes", "1", "on")
        if self.persistent is not None and persistent != self.persistent:
            problems.append(f"Persistent={'true' if persistent else 'false'}")
        starts = setting(sections, "Timer", "Unit") or self.unit_name.removesuffix(".timer") + ".service"
        if self.starts is not None and starts != self.starts:
            problems.append(f"starts {starts} (expected {self.starts})")
        if problems:
            return failed(f"{self.unit_name}: " + ", ".join(problems), value=False)
        return passed(f"{self.unit_name}: OnCalendar={' / '.join(calendars)}, starts {starts}", True)
