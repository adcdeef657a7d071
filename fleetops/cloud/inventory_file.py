"""Write a fleet's pyinfra inventory: its Linux instances, their groups, and ``cloud_*`` host data.

The file is a plain pyinfra inventory (``pyinfra <fleet dir>/inventory.py deploy.py`` works) and
what ``cloud apply --deploy`` hands the runner. Windows instances are left out: they are reached
over WinRM, which fleetops cannot configure here. The spec's group data is linked beside it.
"""

from __future__ import annotations

from pathlib import Path
from pprint import pformat

from fleetops.cloud.instance import Instance
from fleetops.fileutil import atomic_write_text

HEADER = '''"""pyinfra inventory of the fleetops cloud fleet {fleet!r}; written by `fleetops cloud apply`, do not edit.

    pyinfra {path} deploy.py
"""

'''


def host_data(instance: Instance, provider: str, connection: dict) -> dict:
    """Connection data plus what the instance is, for deploys and checks to read."""
    return {
        **connection,
        "cloud_provider": provider,
        "cloud_instance_id": instance.id,
        "cloud_region": instance.region,
        "cloud_zone": instance.zone,
        "cloud_instance_type": instance.instance_type,
        "cloud_image": instance.image,
    }


def write_inventory(
    path: Path, fleet: str, hosts: dict[str, dict], groups: dict[str, list[str]], group_data: Path | None
) -> None:
    """``hosts``: name -> host data; ``groups``: name -> the instance's groups (none: the group ``cloud``)."""
    members: dict[str, list[str]] = {}
    for name in sorted(hosts):
        for group in groups.get(name) or ["cloud"]:
            members.setdefault(group, []).append(name)
    body = [HEADER.format(fleet=fleet, path=path)]
    body.append("_HOSTS = " + pformat(hosts, width=100, sort_dicts=True) + "\n\n")
    for group, names in sorted(members.items()):
        body.append(f"{group} = [(name, _HOSTS[name]) for name in {names!r}]\n")
    if not members:
        body.append("# no Linux instance to configure: none runs, or the provider is an API emulator\n")
    link = path.parent / "group_data"
    if link.is_symlink() or link.exists():
        link.unlink()
    if group_data is not None:
        link.symlink_to(group_data)
    atomic_write_text(path, "".join(body))
