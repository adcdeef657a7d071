"""Web servers: `fleetops deploy deploys/web.py` converges hosts in the `web` group (group-data key `web`)."""

from pyinfra import host

from fleetops.roles.web import web_server

if "web" in host.groups:
    web_server()
