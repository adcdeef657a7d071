"""The whole lab in one run: baseline everywhere, then each host's services by group
(the platform receiver before the gateways that report to it).

    fleetops deploy deploys/site.py
"""

from pyinfra import host

from fleetops.roles.backup import app_backups, backup_store
from fleetops.roles.baseline import baseline
from fleetops.roles.edge import edge_app
from fleetops.roles.firmware import firmware
from fleetops.roles.ftp import ftp_server
from fleetops.roles.mysql import mysql_server
from fleetops.roles.platform import platform_receiver
from fleetops.roles.web import web_server

baseline()
if "web" in host.groups:
    web_server()
if "ftp" in host.groups:
    ftp_server()
if "db" in host.groups or "platform" in host.groups:
    mysql_server()
if "platform" in host.groups:
    platform_receiver()  # after the database it lives in
if "gateway" in host.groups:
    firmware()  # A/B firmware, only where group data declares `firmware`
    edge_app()
app_backups()  # only where group data declares `app_backup`
backup_store()  # only on hosts other hosts name as `backup_store`
