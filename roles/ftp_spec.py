"""The group-data spec of the FTP role (``ftp = {...}``): every key, its type and default."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from fleetops.roles.spec import PASSWORD_HASH, AccountName, CertificatePair, HomePath, SecretStr, Strict, UnixName
from fleetops.secrets import Secret

OptionName = Annotated[str, StringConstraints(pattern=r"^[a-z_]{2,40}$")]
OptionValue = Annotated[str, StringConstraints(pattern=r"^[^\n\r=]{0,200}$")]
DirName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
HostName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$")]


def _template_options() -> frozenset[str]:
    """Every option the vsftpd template writes (read from the template, so the two cannot drift)."""
    import fleetops.templates

    text = (Path(fleetops.templates.__file__).parent / "vsftpd" / "vsftpd.conf.j2").read_text()
    return frozenset(re.findall(r"^([a-z_0-9]+)=", text, re.M))


# Not written by the template, but each would undo part of its hardening (TLS versions, the
# anonymous and local roots, chroot exception lists).
HARDENING_OPTIONS = frozenset(
    {"ssl_tlsv1_1", "ssl_tlsv1_2", "ssl_tlsv1_3", "anon_root", "local_root", "chroot_list_enable"}
)
# extra_options may add other options, never these.
PROTECTED_OPTIONS = _template_options() | HARDENING_OPTIONS


class FtpUser(Strict):
    """A local FTP account: no shell login, chrooted to its home, an upload directory inside."""

    name: AccountName
    password_hash: SecretStr
    home: HomePath | None = None  # default /srv/ftp/<name>
    upload_dir: DirName = "upload"

    @field_validator("password_hash")
    @classmethod
    def _hash(cls, value: Secret) -> Secret:
        if not PASSWORD_HASH.fullmatch(value.reveal()):
            raise ValueError("must be a crypt(3) hash such as $6$... or $y$... (never a plain password)")
        return value

    @property
    def home_dir(self) -> str:
        return self.home or f"/srv/ftp/{self.name}"


class FtpTls(CertificatePair):
    """FTPS (explicit TLS). Without ``cert``/``key`` a self-signed pair is generated on the host."""

    enabled: bool = False
    required: bool = True  # refuse plain-text logins and data when TLS is enabled
    common_name: HostName | None = None  # default: the host's inventory name


class FtpSpec(Strict):
    """vsftpd: local users chrooted to their homes, passive ports, optional FTPS, an allow-list."""

    users: list[FtpUser] = Field(default_factory=list)
    chroot: bool = True
    # vsftpd refuses a chroot whose root the user can write to. By default the home is made
    # read-only for its user (uploads go to upload_dir); True keeps it writable and tells
    # vsftpd to accept that (weaker: a writable chroot root allows some escapes).
    allow_writeable_chroot: bool = False
    anonymous: bool = False
    pasv_min_port: int = Field(40000, ge=1024, le=65535)
    pasv_max_port: int = Field(40100, ge=1024, le=65535)
    pasv_address: str | None = None
    allow_list: list[UnixName] | None = None  # default: exactly the FTP users
    max_clients: int = Field(50, ge=1, le=10000)
    idle_session_timeout: int = Field(300, ge=10, le=86400)
    tls: FtpTls = FtpTls()
    extra_options: dict[OptionName, OptionValue] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> "FtpSpec":
        if self.pasv_min_port > self.pasv_max_port:
            raise ValueError(f"pasv_min_port ({self.pasv_min_port}) is above pasv_max_port ({self.pasv_max_port})")
        names = [user.name for user in self.users]
        dupes = sorted({name for name in names if names.count(name) > 1})
        if dupes:
            raise ValueError(f"duplicate FTP users: {', '.join(dupes)}")
        overridden = sorted(set(self.extra_options) & PROTECTED_OPTIONS)
        if overridden:
            raise ValueError(
                f"extra_options: {', '.join(overridden)} is set by the role itself (use the "
                "spec's own key, so the hardening cannot be overridden by accident)"
            )
        if self.pasv_address is not None:
            try:
                ipaddress.IPv4Address(self.pasv_address)
            except ValueError:
                raise ValueError(f"pasv_address: not an IPv4 address: {self.pasv_address!r}") from None
        return self

    @property
    def allowed(self) -> list[str]:
        return list(self.allow_list) if self.allow_list is not None else [u.name for u in self.users]


class FtpData(BaseModel):
    """The host-data key the FTP role reads."""

    model_config = ConfigDict(extra="ignore", arbitrary_types_allowed=True, frozen=True)

    ftp: FtpSpec = FtpSpec()
