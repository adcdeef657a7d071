"""Gateway firmware: `fleetops deploy deploys/firmware.py` converges A/B firmware on hosts in the
`gateway` group that declare the `firmware` group-data key."""

from pyinfra import host

from fleetops.roles.firmware import firmware

if "gateway" in host.groups:
    firmware()
