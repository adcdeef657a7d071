"""SSH helpers for end-to-end assertions (host keys checked against the lab's known_hosts)."""

from __future__ import annotations

from fleetops import sshutil
from fleetops.lab.fleet import Lab


def address(lab: Lab, host: str) -> str:
    return lab.load_state()["hosts"][host]["address"]


def run(lab: Lab, host: str, command: str, user: str = "root") -> tuple[int, str, str]:
    client = sshutil.connect(address(lab, host), user=user, key_file=lab.key_file,
                             known_hosts=lab.known_hosts)
    try:
        return sshutil.exec_command(client, command)
    finally:
        client.close()
