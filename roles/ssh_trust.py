"""Host keys one inventory host needs to reach another with strict checking (never trust on first use)."""

from __future__ import annotations

from pathlib import Path

from fleetops.errors import InputError


def known_hosts(targets: list, purpose: str) -> str:
    """The controller's known_hosts lines for ``targets`` (their host keys, public): what the
    controller verified is what the other host will verify."""
    lines: list[str] = []
    for target in targets:
        path = target.data.get("ssh_known_hosts_file")
        address = str(target.data.get("ssh_hostname") or target.name)
        if not path or not Path(path).is_file():
            raise InputError(f"host {target.name}: {purpose} needs its host key, and ssh_known_hosts_file is not set")
        for line in Path(path).read_text().splitlines():
            names = line.split(" ", 1)[0].split(",")
            if (address in names or f"[{address}]:{target.data.get('ssh_port') or 22}" in names) and line not in lines:
                lines.append(line)
    return "\n".join(lines) + "\n"
