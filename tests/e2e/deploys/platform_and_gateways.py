"""The platform receiver and the gateways reporting to it, in one run (token rotation)."""

from pyinfra import host

from fleetops.roles.edge import edge_app
from fleetops.roles.platform import platform_receiver

if "platform" in host.groups:
    platform_receiver()
if "gateway" in host.groups:
    edge_app()
