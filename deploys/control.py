"""Control nodes: `fleetops deploy deploys/control.py` installs fleetops on hosts of group
`control` (group data `control`) and authorizes their keys on the hosts they manage."""

from pyinfra import host

from fleetops.roles.control import authorize_control_nodes, control_node

if "control" in host.groups:
    control_node()
else:
    authorize_control_nodes()
