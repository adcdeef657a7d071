"""The group-data spec of the baseline role: every key, its type and its default, in one place.

Group data is checked against these models before anything connects; a wrong type or value is
reported as one line naming the host and the key. Names that reach shell commands or file paths
(users, groups, sudo rule names) are allow-listed here, so operations can rely on them.
"""

from __future__ import annotations

import re
import zoneinfo
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from fleetops.secrets import Secret, SecretStr, to_secret

UnixName = Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_-]{0,31}$")]
PackageName = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9][a-zA-Z0-9.+:~_-]*(=[\w.+:~-]+)?$")]
# Python's `$` also matches before a final newline: these are used with fullmatch only.
SSH_KEY = re.compile(r"(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp\d+|sk-[!-~]+)[ \t]+[A-Za-z0-9+/=]+([ \t]+[^\r\n]*)?")
PASSWORD_HASH = re.compile(r"\$(1|5|6|y|gy|7|2[aby]?)\$[./A-Za-z0-9$=,]+")
SAFE_PATH = re.compile(r"/[A-Za-z0-9._/+-]*")

# Accounts fleetops must never create, re-password or chown a home for.
RESERVED_ACCOUNTS = frozenset(
    {
        "root",
        "daemon",
        "bin",
        "sys",
        "sync",
        "games",
        "man",
        "lp",
        "mail",
        "news",
        "uucp",
        "proxy",
        "www-data",
        "backup",
        "list",
        "irc",
        "gnats",
        "nobody",
        "nogroup",
        "_apt",
        "messagebus",
        "sshd",
        "mysql",
        "ftp",
        "systemd-network",
        "systemd-resolve",
        "systemd-timesync",
        "polkitd",
        "adm",
        "sudo",
        "staff",
        "shadow",
        "utmp",
        "tty",
        "disk",
        "kmem",
        "operator",
        "halt",
        "shutdown",
    }
)
# Homes may only live below these (pyinfra and the FTP role chown a home to its user).
HOME_ROOTS = ("/home/", "/srv/", "/var/www/", "/opt/")


def _safe_path(value: str) -> str:
    """An absolute, normalised path of plain characters: safe in shell, nginx, vsftpd and systemd
    text without quoting tricks (no spaces, quotes, ``;``, braces, ``$``, newlines, ``..``)."""
    if not SAFE_PATH.fullmatch(value):
        raise ValueError(f"{value!r}: use an absolute path of letters, digits and . _ - + / only")
    parts = value.split("/")[1:]
    if value != "/" and (value.endswith("/") or "" in parts or "." in parts or ".." in parts):
        raise ValueError(f"{value!r}: not a normalised path (no //, /./, /../ or trailing /)")
    return value


def _home_path(value: str) -> str:
    _safe_path(value)
    if not value.startswith(HOME_ROOTS):
        raise ValueError(f"{value!r}: a home must be a directory below {', '.join(HOME_ROOTS)}")
    return value


def _account_name(value: str) -> str:
    if value in RESERVED_ACCOUNTS or value.startswith("systemd-"):
        raise ValueError(f"{value!r} is a system account; fleetops manages only ordinary users")
    return value


def _option_file_safe(value: "Secret") -> "Secret":
    """Option files (MySQL ``[client]``) read ``\\`` as an escape and end a value at a newline."""
    if any(char in value.reveal() for char in '"\\') or any(
        ord(char) < 32 or ord(char) == 127 for char in value.reveal()
    ):
        raise ValueError(
            "must not contain double quotes, backslashes or control characters such as "
            "newlines (it is written to a MySQL option file)"
        )
    return value


AbsolutePath = Annotated[str, AfterValidator(_safe_path)]
HomePath = Annotated[str, AfterValidator(_home_path)]
AccountName = Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_-]{0,31}$"), AfterValidator(_account_name)]


# A secret that is written into a MySQL option file (checked before anything is rendered).
OptionFileSecret = Annotated[Secret, BeforeValidator(to_secret), AfterValidator(_option_file_safe)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, frozen=True)


class CertificatePair(Strict):
    """A PEM certificate and its private key (a secret), both or neither; neither means the role
    generates a self-signed pair on the host. Shared by every role that serves TLS."""

    cert: str | None = Field(None, description="PEM certificate (chain) to install")
    key: SecretStr | None = Field(None, description="PEM private key to install (a secret)")

    @model_validator(mode="after")
    def _pair(self) -> "CertificatePair":
        if (self.cert is None) != (self.key is None):
            raise ValueError("give both cert and key, or neither (a self-signed pair is generated)")
        if self.cert is not None and "BEGIN CERTIFICATE" not in self.cert:
            raise ValueError("cert: not a PEM certificate")
        if self.key is not None and "PRIVATE KEY" not in self.key.reveal():
            raise ValueError("key: not a PEM private key")
        return self


class GroupSpec(Strict):
    name: UnixName
    gid: int | None = Field(default=None, ge=100, le=60000)
    system: bool = False


class UserSpec(Strict):
    """An OS user. ``password_hash`` is a crypt(3) hash, handled as a secret."""

    name: AccountName
    present: bool = True
    uid: int | None = Field(default=None, ge=1000, le=60000)
    shell: AbsolutePath = "/bin/bash"
    home: HomePath | None = None
    primary_group: UnixName | None = None  # default: a group named after the user
    groups: list[UnixName] = Field(default_factory=list)
    password_hash: SecretStr | None = None
    authorized_keys: list[str] = Field(default_factory=list)
    locked: bool = False
    expired: bool = False

    @field_validator("authorized_keys")
    @classmethod
    def _keys(cls, keys: list[str]) -> list[str]:
        for key in keys:
            if not SSH_KEY.fullmatch(key.strip()):
                raise ValueError(f"not an SSH public key: {key[:30]}...")
        return [key.strip() for key in keys]

    @field_validator("password_hash")
    @classmethod
    def _hash(cls, value: Secret | None) -> Secret | None:
        if value is not None and not PASSWORD_HASH.fullmatch(value.reveal()):
            raise ValueError("must be a crypt(3) hash such as $6$... or $y$... (never a plain password)")
        return value

    @property
    def home_dir(self) -> str:
        return self.home or f"/home/{self.name}"


class SudoRule(Strict):
    """One file in /etc/sudoers.d, validated with ``visudo -cf`` before it is installed."""

    name: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,40}$")]
    who: Annotated[str, StringConstraints(pattern=r"^%?[a-z_][a-z0-9_-]{0,31}$")]
    commands: list[Annotated[str, StringConstraints(pattern=r"^(ALL|/[^\n,:=\\]*)$")]] = ["ALL"]
    runas: Annotated[str, StringConstraints(pattern=r"^(ALL|[a-z_][a-z0-9_-]{0,31})$")] = "ALL"
    nopasswd: bool = False


class SshdSpec(Strict):
    """sshd hardening, written to a drop-in validated with ``sshd -t``."""

    permit_root_login: Literal["prohibit-password", "no", "forced-commands-only"] = "prohibit-password"
    password_authentication: bool = False
    port: int = Field(default=22, ge=1, le=65535)
    max_auth_tries: int = Field(default=4, ge=1, le=20)
    login_grace_time: int = Field(default=30, ge=5, le=600)
    x11_forwarding: bool = False
    allow_groups: list[UnixName] = Field(default_factory=list)


class DevenvSpec(Strict):
    """Development tooling (skill A-J3.1): Python venv tooling, OpenJDK, git."""

    python: bool = True
    java: bool = False
    java_version: Literal["17"] = "17"
    git: bool = True
    extra_packages: list[PackageName] = Field(default_factory=list)


class AptMirror(Strict):
    url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s'\"]+$")]
    security_url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s'\"]+$")] | None = None
    components: list[Annotated[str, StringConstraints(pattern=r"^[a-z-]+$")]] = ["main"]


class BaselineData(BaseModel):
    """The host-data keys the baseline role reads (other keys belong to other roles)."""

    model_config = ConfigDict(extra="ignore", arbitrary_types_allowed=True, frozen=True)

    hostname: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")] | None = None
    timezone: str = "UTC"
    packages: list[PackageName] = Field(default_factory=list)
    apt_mirror: AptMirror | None = None
    groups: list[GroupSpec] = Field(default_factory=list)
    users: list[UserSpec] = Field(default_factory=list)
    sudo_rules: list[SudoRule] = Field(default_factory=list)
    sshd: SshdSpec = SshdSpec()
    devenv: DevenvSpec = DevenvSpec()

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        if value not in zoneinfo.available_timezones():
            raise ValueError(f"unknown timezone {value!r}")
        return value

    @field_validator("users")
    @classmethod
    def _unique_users(cls, users: list[UserSpec]) -> list[UserSpec]:
        names = [user.name for user in users]
        dupes = sorted({name for name in names if names.count(name) > 1})
        if dupes:
            raise ValueError(f"duplicate users: {', '.join(dupes)}")
        return users
