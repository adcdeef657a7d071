"""The FTP role: vsftpd with chrooted local users, passive ports, optional FTPS (skill A-J2.x)."""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import files, server, systemd

from fleetops.operations.conditions import any_changed
from fleetops.operations.files import managed_file
from fleetops.operations.tls import self_signed_certificate
from fleetops.operations.users import password_hash
from fleetops.render import render
from fleetops.roles.data import role_data
from fleetops.roles.ftp_spec import FtpData, FtpSpec
from fleetops.roles.packages import install

CONFIG = "/etc/vsftpd.conf"
USER_LIST = "/etc/vsftpd.user_list"
CERT = "/etc/ssl/certs/fleetops-vsftpd.pem"
KEY = "/etc/ssl/private/fleetops-vsftpd.key"
NOLOGIN = "/usr/sbin/nologin"
# vsftpd has no "check the config" flag: start it on the candidate file on a spare port; a valid
# file keeps it running until `timeout` stops it (exit 124), a bad one makes it exit at once.
VALIDATE = (
    "out=$(timeout 1 vsftpd {} -olisten_port=2121 -olisten=YES -olisten_ipv6=NO 2>&1); "
    '[ $? -eq 124 ] || { echo "vsftpd rejected the configuration: $out" >&2; false; }'
)


# The group-data models this role reads: validated before a deploy that uses it connects.
SPECS = (FtpData,)


@deploy("FTP server")
def ftp_server() -> None:
    """Install vsftpd and converge its users, certificate, allow-list and configuration.

    The configuration is rendered from ``templates/vsftpd/vsftpd.conf.j2``, validated by vsftpd
    itself before it replaces the old file, and vsftpd restarts only when something changed.
    """
    spec = role_data(FtpData).ftp
    install(["vsftpd", "openssl"] if spec.tls.enabled else ["vsftpd"], name="Install vsftpd")
    # pam_shells lets a user log in over FTP only with a shell listed in /etc/shells.
    files.line(name="nologin accepted by pam_shells", path="/etc/shells", line=NOLOGIN)
    _users(spec)
    certificate = _certificate(spec) if spec.tls.enabled else []
    allow_list = managed_file(
        name="vsftpd allow-list", path=USER_LIST, content="".join(f"{name}\n" for name in spec.allowed)
    )
    config = managed_file(
        name="vsftpd configuration",
        path=CONFIG,
        content=render("vsftpd/vsftpd.conf.j2", ftp=spec, cert_file=CERT, key_file=KEY),
        validate=VALIDATE,
    )
    systemd.service(name="vsftpd running and enabled", service="vsftpd", running=True, enabled=True)
    systemd.service(
        name="Restart vsftpd", service="vsftpd", restarted=True, _if=any_changed(config, allow_list, *certificate)
    )


def _users(spec: FtpSpec) -> None:
    """FTP-only accounts; the chroot root (home) is not writable by its user, uploads go below."""
    for user in spec.users:
        server.user(
            name=f"FTP user {user.name}",
            user=user.name,
            home=user.home_dir,
            shell=NOLOGIN,
            create_home=True,
            ensure_home=False,
        )  # the home (chroot root) is owned below, not by pyinfra
        password_hash(name=f"Password of FTP user {user.name}", user=user.name, hash=user.password_hash)
        writable_root = spec.allow_writeable_chroot or not spec.chroot
        files.directory(
            name=f"Home of {user.name}",
            path=user.home_dir,
            user=user.name if writable_root else "root",
            group=user.name,
            mode="750",
        )
        files.directory(
            name=f"Upload directory of {user.name}",
            path=f"{user.home_dir}/{user.upload_dir}",
            user=user.name,
            group=user.name,
            mode="750",
        )


def _certificate(spec: FtpSpec) -> list:
    tls = spec.tls
    if tls.cert is None:
        return [
            self_signed_certificate(
                name="FTPS self-signed certificate", cert=CERT, key=KEY, common_name=tls.common_name or host.name
            )
        ]
    return [
        managed_file(name="FTPS certificate", path=CERT, content=tls.cert.strip() + "\n"),
        managed_file(
            name="FTPS private key", path=KEY, content=tls.key.reveal().strip() + "\n", mode="600", sensitive=True
        ),
    ]
