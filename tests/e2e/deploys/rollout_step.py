"""A rollout step: fails on a host holding /root/fail-rollout, pauses (so a host can be stopped
mid-run), then marks the host rolled out."""

from pyinfra.operations import server

server.shell(name="Refuse where told to", commands=["test ! -e /root/fail-rollout"])
server.shell(name="Pause", commands=["sleep 5"])
server.shell(name="Mark rolled out", commands=["date +%s > /root/rolled-out"])
