"""The group-data spec of the MySQL/MariaDB role (``mysql = {...}``) and its backup policy."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from fleetops.roles.backup_spec import Retention
from fleetops.roles.spec import AbsolutePath, OptionFileSecret, SecretStr, Strict

# Identifiers reach SQL and shell commands, so they are allow-listed here, never escaped ad hoc.
DbName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
DbUser = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
DbHost = Annotated[str, StringConstraints(pattern=r"^(localhost|%|[0-9a-f.:%/]{1,60}|[a-z0-9.-]{1,60})$")]
Setting = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,63}$")]
SettingValue = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_./:+-]{1,100}$")]
OnCalendar = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9*:/,. ~-]{1,80}$")]

# Privileges a user may be granted on a database (MariaDB's schema-level list), plus ALL.
PRIVILEGES = (
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "CREATE",
    "DROP",
    "REFERENCES",
    "INDEX",
    "ALTER",
    "CREATE TEMPORARY TABLES",
    "LOCK TABLES",
    "EXECUTE",
    "CREATE VIEW",
    "SHOW VIEW",
    "CREATE ROUTINE",
    "ALTER ROUTINE",
    "EVENT",
    "TRIGGER",
    "DELETE HISTORY",
)


class Database(Strict):
    name: DbName
    encoding: Literal["utf8mb4", "utf8mb3", "latin1"] = "utf8mb4"
    collation: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{3,64}$")] = "utf8mb4_unicode_ci"
    present: bool = True


class DbUserSpec(Strict):
    """A database account; ``privileges`` maps a database name (or ``*``, or ``db.table`` for a
    table-level grant) to privilege names."""

    name: DbUser
    host: DbHost = "localhost"
    password: SecretStr
    privileges: dict[
        Annotated[str, StringConstraints(pattern=r"^([a-z][a-z0-9_]{0,63}(\.[a-z][a-z0-9_]{0,63})?|\*)$")], list[str]
    ] = Field(default_factory=dict)
    present: bool = True

    @field_validator("privileges")
    @classmethod
    def _privileges(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for database, names in value.items():
            for name in names:
                if name.upper() not in (*PRIVILEGES, "ALL", "ALL PRIVILEGES"):
                    raise ValueError(f"unknown privilege {name!r} on {database}")
        return {
            db: sorted({("ALL PRIVILEGES" if n.upper() in ("ALL", "ALL PRIVILEGES") else n.upper()) for n in names})
            for db, names in value.items()
        }


class BackupPolicy(Retention):
    """Scheduled logical backups of every declared database (systemd timer on the db host), with
    binary logs for point-in-time recovery and GFS retention (``roles/backup_spec.Retention``)."""

    enabled: bool = True
    schedule: OnCalendar = "daily"  # systemd OnCalendar, e.g. "*-*-* 02:30:00" or "hourly"
    destination: AbsolutePath = "/var/backups/fleetops-mysql"
    compression: Literal["zstd", "gzip", "none"] = "zstd"
    encryption_key: SecretStr | None = None  # AES-256 (openssl, pbkdf2) when set
    max_age_hours: float = Field(26, gt=0)  # the check's limit for the newest backup
    max_verify_age_hours: float = Field(24 * 8, gt=0)  # the check's limit for the last verify
    password: OptionFileSecret  # of the backup account (fleetops_backup@localhost), kept in a 0600 option file
    pitr: bool = True  # binary logging (ROW), positions recorded with each dump, binlogs copied
    binlog_schedule: OnCalendar = "*:0/5"  # how often binlogs are flushed and copied (the off-host window)
    binlog_expire_days: int = Field(14, ge=1, le=3650)  # the server's own binlogs (copies follow retention)
    server_id: int | None = Field(None, ge=1, le=4294967295)  # default: derived from the host name


class MysqlSpec(Strict):
    """MariaDB on Debian-likes, MySQL on RHEL-likes: secured, tuned, databases, users, backups."""

    bind_address: str = "127.0.0.1"
    port: int = Field(3306, ge=1, le=65535)
    settings: dict[Setting, SettingValue | int | bool] = Field(
        default_factory=lambda: {  # type: ignore[arg-type]  # pydantic validates the literal
            "max_connections": 100,
            "innodb_buffer_pool_size": "128M",
            "slow_query_log": True,
            "long_query_time": 2,
        }
    )
    databases: list[Database] = Field(default_factory=list)
    users: list[DbUserSpec] = Field(default_factory=list)
    backup: BackupPolicy | None = None

    @field_validator("bind_address")
    @classmethod
    def _address(cls, value: str) -> str:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise ValueError(f"bind_address: not an IP address: {value!r}") from None
        return value

    @field_validator("settings")
    @classmethod
    def _settings(cls, value: dict) -> dict:
        mode = str(value.get("sql_mode", "")).upper()
        if "NO_BACKSLASH_ESCAPES" in mode:
            raise ValueError(
                "settings.sql_mode: NO_BACKSLASH_ESCAPES is refused (it changes how every "
                "string literal is read; fleetops resets it per batch anyway)"
            )
        return value

    @model_validator(mode="after")
    def _references(self) -> "MysqlSpec":
        names = [db.name for db in self.databases]
        for user in self.users:
            for target in user.privileges:
                database = target.split(".", 1)[0]
                if database != "*" and database not in names:
                    raise ValueError(f"user {user.name}: privileges on undeclared database {database!r}")
        accounts = [(user.name, user.host) for user in self.users]
        if len(accounts) != len(set(accounts)):
            raise ValueError("duplicate database users (same name and host)")
        if any(name.startswith("fleetops_") for name in names):
            raise ValueError("database names starting with fleetops_ are reserved (verify scratch)")
        return self


class MysqlData(BaseModel):
    """The host-data key the MySQL role reads."""

    model_config = ConfigDict(extra="ignore", arbitrary_types_allowed=True, frozen=True)

    mysql: MysqlSpec = MysqlSpec()
