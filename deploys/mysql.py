"""Database servers: `fleetops deploy deploys/mysql.py` converges hosts in the `db` group (group-data key `mysql`),
and the backup host they name as `backup_store`, so off-host copies work after this one run."""

from pyinfra import host

from fleetops.roles.backup import backup_store
from fleetops.roles.mysql import mysql_server

if "db" in host.groups:
    mysql_server()
backup_store()  # nothing unless another host names this one as its backup_store
