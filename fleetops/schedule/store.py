"""Where a host keeps its schedules: ``/etc/fleetops/schedules/NAME.json`` (0640, group fleetops:
the file holds notification secrets, which the schedule's user must read and nobody else may)."""

from __future__ import annotations

import grp
import json
import os
from pathlib import Path

from pydantic import ValidationError

from fleetops.errors import InputError
from fleetops.fileutil import atomic_write_text
from fleetops.schedule.spec import Schedule
from fleetops.validation import describe_validation_error

SCHEDULES = Path(os.environ.get("FLEETOPS_SCHEDULES_DIR", "/etc/fleetops/schedules"))


def path_of(name: str) -> Path:
    return SCHEDULES / f"{name}.json"


def save(schedule: Schedule) -> Path:
    SCHEDULES.mkdir(parents=True, exist_ok=True, mode=0o750)
    data = schedule.model_dump(mode="python")
    if schedule.notify is not None:
        for key in ("webhook_token", "smtp_password"):
            value = getattr(schedule.notify, key)
            data["notify"][key] = value.reveal() if value is not None else None
    path = path_of(schedule.name)
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n", mode=0o640)
    try:
        os.chown(path, 0, grp.getgrnam(schedule.user).gr_gid)
        os.chown(SCHEDULES, 0, grp.getgrnam(schedule.user).gr_gid)
    except (KeyError, PermissionError):
        pass  # no such group here (unit tests): the file stays root's
    return path


def load(name: str) -> Schedule:
    path = path_of(name)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"no schedule named {name!r} on this host") from None
    except (OSError, ValueError) as error:
        raise InputError(f"schedule {path}: {error}") from None
    try:
        return Schedule.model_validate(data)
    except ValidationError as error:
        raise InputError(f"schedule {path}: {describe_validation_error(error)}") from None


def names() -> list[str]:
    if not SCHEDULES.is_dir():
        return []
    return sorted(path.stem for path in SCHEDULES.glob("*.json"))


def remove(name: str) -> None:
    path_of(name).unlink(missing_ok=True)
