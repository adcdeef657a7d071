"""How to reach a host over SSH, read from its pyinfra inventory data."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path

import paramiko

from fleetops.errors import InputError
from fleetops.secrets import Secret
from fleetops.sshutil import set_nodelay


@dataclass(frozen=True)
class SshTarget:
    """The connection settings fleetops honours from pyinfra host data (``ssh_*`` keys)."""

    name: str
    hostname: str
    port: int = 22
    user: str = ""
    key_file: str | None = None
    known_hosts: str | None = None
    strict: str = "yes"
    password: Secret | None = None

    @classmethod
    def from_host(cls, host) -> "SshTarget":
        """The target for a pyinfra inventory host (InputError on unusable connection data)."""
        data = host.data
        password = data.get("ssh_password")
        strict = data.get("ssh_strict_host_key_checking")
        return cls(
            name=host.name,
            hostname=str(data.get("ssh_hostname") or host.name),
            port=_port(host.name, data.get("ssh_port")),
            user=str(data.get("ssh_user") or getpass.getuser()),
            key_file=data.get("ssh_key"),
            known_hosts=data.get("ssh_known_hosts_file") or os.path.expanduser("~/.ssh/known_hosts"),
            strict=str(strict if strict is not None else "yes").lower(),
            password=Secret(str(password)) if password else None,
        )

    def connect(self, timeout: float) -> paramiko.SSHClient:
        """Connect with host-key checking as configured (strict by default) and TCP_NODELAY."""
        client = paramiko.SSHClient()
        if self.known_hosts and Path(self.known_hosts).exists():
            client.load_host_keys(self.known_hosts)
        if self.strict in ("no", "off", "false"):
            client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        else:
            client.set_missing_host_key_policy(paramiko.RejectPolicy())
        try:
            client.connect(
                self.hostname,
                port=self.port,
                username=self.user,
                key_filename=self.key_file,
                password=self.password.reveal() if self.password else None,
                timeout=timeout,
                banner_timeout=timeout,
                auth_timeout=timeout,
                allow_agent=False,
                look_for_keys=self.key_file is None and self.password is None,
            )
        except BaseException:
            client.close()
            raise
        set_nodelay(client.get_transport())
        return client


def _port(host: str, value: object) -> int:
    """``ssh_port`` from host data as a port number, or one line naming host and value."""
    if value in (None, ""):
        return 22
    try:
        port = int(str(value))
    except ValueError:
        port = 0
    if not 1 <= port <= 65535 or isinstance(value, bool):
        raise InputError(f"host {host}: ssh_port: not a port number: {value!r}")
    return port
