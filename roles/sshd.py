"""sshd hardening as a drop-in, validated with ``sshd -t``; sshd reloads only when it changed."""

from __future__ import annotations

from pyinfra.api import deploy
from pyinfra.operations import systemd

from fleetops.operations.files import managed_file
from fleetops.render import render
from fleetops.roles.data import os_family
from fleetops.roles.spec import BaselineData

DROPIN = "/etc/ssh/sshd_config.d/50-fleetops-hardening.conf"
SERVICE = {"debian": "ssh", "redhat": "sshd"}


@deploy("sshd hardening")
def sshd_hardening(data: BaselineData) -> None:
    """No root password login, no empty passwords, bounded auth tries; validated before reload."""
    config = managed_file(
        name="sshd hardening drop-in",
        path=DROPIN,
        content=render("sshd/hardening.conf.j2", sshd=data.sshd),
        validate_installed="sshd -t",
    )
    systemd.service(
        name="Reload sshd", service=SERVICE[os_family()], running=True, reloaded=True, _if=config.did_change
    )
