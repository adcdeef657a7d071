"""The group-data spec of backups beyond the database itself: retention, off-host copies, apps.

* ``backup_store = "backup1"``: the inventory host that keeps off-host copies of this host's
  backups (database and apps); the backup role makes it an append-only store.
* ``app_backup = {"apps": ["edge"], ...}``: application backups (files and databases of the
  apps fleetops deploys), made by the backup agent on a timer and by ``fleetops backup run --app``.

Retention is grandfather-father-son with restic's rules (``fleetops/backup/agent/retention.py``);
the same numbers apply here and on the backup host.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from fleetops.roles.spec import AbsolutePath, Strict

OnCalendar = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9*:/,. ~-]{1,80}$")]
HostName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")]
APPS = ("edge", "platform")


class Retention(Strict):
    """Which backups are kept (any rule keeps one): the newest ``keep_last``, all younger than
    ``keep_within_days``, the newest of each of the newest ``keep_daily`` days, ``keep_weekly``
    ISO weeks and ``keep_monthly`` months that have one; never the newest verified backup."""

    keep_last: int = Field(3, ge=1, le=1000)
    keep_within_days: int = Field(0, ge=0, le=3650)
    keep_daily: int = Field(7, ge=0, le=3650)
    keep_weekly: int = Field(4, ge=0, le=520)
    keep_monthly: int = Field(6, ge=0, le=240)

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, value: object) -> object:
        if isinstance(value, dict) and ({"keep_count", "keep_days"} & set(value)):
            raise ValueError(
                "keep_count/keep_days were replaced by GFS retention: keep_last, keep_within_days, "
                "keep_daily, keep_weekly, keep_monthly"
            )
        return value

    def rules(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in Retention.model_fields}


class AppBackupPolicy(Retention):
    apps: list[Literal["edge", "platform"]] = Field(min_length=1)
    schedule: OnCalendar = "daily"
    destination: AbsolutePath = "/var/backups/fleetops-apps"
    enabled: bool = True


class BackupData(BaseModel):
    """The host-data keys the backup role reads."""

    model_config = ConfigDict(extra="ignore", arbitrary_types_allowed=True, frozen=True)

    backup_store: HostName | None = None
    app_backup: AppBackupPolicy | None = None
