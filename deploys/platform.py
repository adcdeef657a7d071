"""The platform receiver on the `platform` group (needs the MySQL role on the same host).

fleetops deploy deploys/platform.py --limit platform
"""

from pyinfra import host

from fleetops.roles.mysql import mysql_server
from fleetops.roles.platform import platform_receiver

if "platform" in host.groups:
    mysql_server()
    platform_receiver()
