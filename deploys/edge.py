"""Edge gateways: `fleetops deploy deploys/edge.py` converges hosts in the `gateway` group (group-data key `edge`)."""

from pyinfra import host

from fleetops.roles.edge import edge_app

if "gateway" in host.groups:
    edge_app()
