"""The lab's private network: a bridge, NAT so apt works inside hosts, and IP forwarding.

Every rule carries a ``fleetops-<lab>`` comment and is added only when ``iptables -C`` says it is
absent, so ``up`` is idempotent and ``down`` removes exactly what ``up`` added.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from fleetops.lab.system import run

IP_FORWARD = Path("/proc/sys/net/ipv4/ip_forward")


def _rules(bridge: str, subnet: ipaddress.IPv4Network, lab: str) -> list[list[str]]:
    tag = ["-m", "comment", "--comment", f"fleetops-{lab}"]
    return [
        ["-t", "nat", "POSTROUTING", "-s", str(subnet), "!", "-o", bridge, "-j", "MASQUERADE", *tag],
        ["-t", "filter", "FORWARD", "-i", bridge, "-j", "ACCEPT", *tag],
        [
            "-t",
            "filter",
            "FORWARD",
            "-o",
            bridge,
            "-m",
            "conntrack",
            "--ctstate",
            "RELATED,ESTABLISHED",
            "-j",
            "ACCEPT",
            *tag,
        ],
    ]


def _iptables(action: str, rule: list[str], check: bool = True) -> int:
    table, chain, rest = rule[:2], rule[2], rule[3:]
    return run(["iptables", "-w", *table, action, chain, *rest], check=check).returncode


def local_networks(skip: str) -> dict[str, ipaddress.IPv4Network]:
    """The IPv4 networks of this machine's interfaces (but ``skip``), by interface name."""
    import json

    found = {}
    for link in json.loads(run(["ip", "-j", "-4", "addr", "show"]).stdout or "[]"):
        if link.get("ifname") == skip:
            continue
        for info in link.get("addr_info", []):
            found[link["ifname"]] = ipaddress.IPv4Network(f"{info['local']}/{info['prefixlen']}", strict=False)
    return found


def check_not_local(subnet: ipaddress.IPv4Network, bridge: str) -> None:
    """Refuse a lab subnet that overlaps a network this machine is already on (its LAN)."""
    from fleetops.errors import InputError

    for name, network in local_networks(skip=bridge).items():
        if network.prefixlen > 0 and subnet.overlaps(network):
            raise InputError(
                f"subnet {subnet} overlaps {network} on {name}, a network this machine is on; choose another subnet"
            )


def remove_stale_veth(machine: str) -> None:
    """Delete the host side of a container's veth (``vb-<machine>``) left behind by a host that
    died without cleaning up: systemd-nspawn cannot start the container while the name is taken,
    and the container would boot without network."""
    name = f"vb-{machine}"
    if len(name) <= 15 and bridge_exists(name):
        run(["ip", "link", "del", "dev", name], check=False)


def bridge_exists(bridge: str) -> bool:
    return run(["ip", "link", "show", "dev", bridge], check=False).returncode == 0


def read_ip_forward() -> str:
    return IP_FORWARD.read_text().strip()


def up(bridge: str, gateway: ipaddress.IPv4Address, subnet: ipaddress.IPv4Network, lab: str) -> None:
    """Create the bridge with the controller's gateway address and the NAT rules (idempotent)."""
    if not bridge_exists(bridge):
        run(["ip", "link", "add", "name", bridge, "type", "bridge"])
    address = f"{gateway}/{subnet.prefixlen}"
    if address not in run(["ip", "-4", "-o", "addr", "show", "dev", bridge]).stdout:
        run(["ip", "addr", "add", address, "dev", bridge])
    run(["ip", "link", "set", "dev", bridge, "up"])
    for rule in _rules(bridge, subnet, lab):
        if _iptables("-C", rule, check=False) != 0:
            _iptables("-A", rule)
    if read_ip_forward() != "1":
        IP_FORWARD.write_text("1\n")


def down(bridge: str, subnet: ipaddress.IPv4Network, lab: str, restore_ip_forward: str | None) -> None:
    """Remove the rules and the bridge; restore ip_forward when no other lab needs it."""
    for rule in _rules(bridge, subnet, lab):
        while _iptables("-C", rule, check=False) == 0:
            _iptables("-D", rule)
    if bridge_exists(bridge):
        run(["ip", "link", "del", "dev", bridge])
    if restore_ip_forward is not None and read_ip_forward() != restore_ip_forward:
        IP_FORWARD.write_text(restore_ip_forward + "\n")
