"""Database servers: `fleetops deploy deploys/mysql.py` converges hosts in the `db` group (group-data key `mysql`)."""

from pyinfra import host

from fleetops.roles.mysql import mysql_server

if "db" in host.groups:
    mysql_server()
