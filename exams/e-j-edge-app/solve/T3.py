"""Reference solution of T3: the shipped unit installed with Restart=always and enabled (not started: T4)."""

from pyinfra.operations import server, systemd

server.shell(
    name="Install the unit with Restart=always",
    commands=[
        "sed 's/^Restart=.*/Restart=always/' /opt/exam/fleetops-edge.service > /etc/systemd/system/fleetops-edge.service"
    ],
)
systemd.daemon_reload(name="Reload units")
server.shell(name="Enable", commands=["systemctl enable fleetops-edge.service"])
