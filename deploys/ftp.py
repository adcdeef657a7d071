"""FTP servers: `fleetops deploy deploys/ftp.py` converges hosts in the `ftp` group (group-data key `ftp`)."""

from pyinfra import host

from fleetops.roles.ftp import ftp_server

if "ftp" in host.groups:
    ftp_server()
