"""The control-node role: fleetops on a host of the inventory, so schedules have systemd to run on.

On hosts of group ``control`` (group data ``control``): fleetops from an offline bundle (its wheel
and every dependency, ``pip --no-index`` into a release venv, switched atomically) at
``/opt/fleetops``, ``/usr/local/bin/fleetops``, the system account ``fleetops`` the schedules run
as, its SSH key (made and kept on the controller, 0600 on the node), the targets' host keys (strict
checking stays on), an inventory of the targets at ``/etc/fleetops/inventory/inventory.py`` holding
each target's data as the controller evaluated it, and the deploy files. On every target the node's public key
is authorized for the login the controller itself uses, so the node reaches exactly what the
controller reaches, with its own revocable key.
"""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from pprint import pformat

from pyinfra import host, inventory
from pyinfra.api import deploy
from pyinfra.operations import files, server

from fleetops.control.bundle import build_control_bundle, source_key
from fleetops.credentials import control_node_key
from fleetops.errors import InputError
from fleetops.operations.files import managed_file
from fleetops.operations.releases import atomic_link, bundle_release
from fleetops.roles.bundled_service import service_layout
from fleetops.roles.control_spec import ControlData, ControlSpec
from fleetops.roles.data import role_data
from fleetops.roles.packages import install
from fleetops.roles.ssh_trust import known_hosts

SPECS = (ControlData,)
ROOT, ETC, STATE, USER = "/opt/fleetops", "/etc/fleetops", "/var/lib/fleetops", "fleetops"
INVENTORY = f"{ETC}/inventory/inventory.py"
KEY = f"{STATE}/.ssh/id_ed25519"
KNOWN_HOSTS = f"{STATE}/.ssh/known_hosts"
WRAPPER = f'#!/bin/sh\nexec {ROOT}/current/venv/bin/python -m fleetops.cli "$@"\n'
TEXTFILES = "/var/lib/prometheus/node-exporter"  # node_exporter's textfile collector (Debian's default)


def control_nodes() -> list:
    return list(inventory.get_group("control", [])) if "control" in inventory.groups else []


@deploy("Control node")
def control_node() -> None:
    """Converge fleetops on this control node (nothing when group data ``control`` is absent)."""
    spec = role_data(ControlData).control
    if spec is None:
        return
    targets = target_hosts(spec)
    install(["python3-venv", "libarchive13"], name="Install python3-venv and libarchive")
    service_layout(USER, ROOT, ETC, extra_dirs=())
    tarball = build_control_bundle()
    remote = f"{ROOT}/bundles/{tarball.name}"
    files.put(name="Upload the fleetops bundle", src=str(tarball), dest=remote, mode="644")
    release = f"{ROOT}/releases/{source_key()}"
    bundle_release(name="Install fleetops", bundle=remote, release=release)
    atomic_link(name="Switch current to the release", path=f"{ROOT}/current", target=release)
    # a wrapper, not a link to the console script: the venv was built as <release>.partial and
    # renamed, so its scripts' shebangs name a path that no longer exists
    files.put(name="fleetops on the PATH", src=StringIO(WRAPPER), dest="/usr/local/bin/fleetops", mode="755")
    for path, mode in ((STATE, "700"), (f"{STATE}/.ssh", "700"), (TEXTFILES, "755")):
        files.directory(name=f"Directory {path}", path=path, mode=mode, user=USER, group=USER)
    private, _public = control_node_key(host.name)
    managed_file(name="The node's SSH key", path=KEY, content=private.reveal(), mode="600", user=USER, group=USER,
                 sensitive=True, backup=False)  # fmt: skip
    managed_file(
        name="The targets' host keys",
        path=KNOWN_HOSTS,
        content=known_hosts(targets, "the control node"),
        user=USER,
        group=USER,
    )
    for path in (f"{ETC}/inventory", f"{ETC}/deploys"):
        files.directory(name=f"Directory {path}", path=path, mode="750", group=USER)
    managed_file(
        name="Inventory of the targets", path=INVENTORY, content=inventory_text(targets), mode="640", group=USER
    )
    if spec.deploys:
        _copy_folder(Path(spec.deploys).expanduser().resolve(), f"{ETC}/deploys")


@deploy("Authorize control nodes")
def authorize_control_nodes() -> None:
    """On a target: the public key of every control node that manages it, for the login the
    controller uses (``ssh_user``)."""
    for node in control_nodes():
        if node.name == host.name:
            continue
        spec = ControlData.model_validate(dict(node.data.dict())).control
        if spec is None or host.name not in {h.name for h in target_hosts(spec, node.name)}:
            continue
        _private, public = control_node_key(node.name)
        server.user_authorized_keys(
            name=f"Authorize control node {node.name}",
            user=str(host.data.get("ssh_user") or "root"),
            public_keys=[public],
        )


def target_hosts(spec: ControlSpec, node: str | None = None) -> list:
    """The inventory hosts a node manages: ``targets`` (groups or hosts), else all but control nodes."""
    node = node or host.name
    nodes = {h.name for h in control_nodes()}
    chosen = []
    for candidate in inventory:
        if candidate.name == node or candidate.name in nodes:
            continue
        if not spec.targets or candidate.name in spec.targets or set(spec.targets) & set(candidate.groups):
            chosen.append(candidate)
    if spec.targets and not chosen:
        raise InputError(f"host {node}: control.targets {spec.targets} names no host of the inventory")
    return chosen


def plain(value):
    """Host data as literals the node's inventory file can hold (a Secret revealed: the file is
    0640 root:fleetops, as a control node holds the credentials it deploys with)."""
    from fleetops.secrets import Secret

    if isinstance(value, Secret):
        return value.reveal()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def host_data(target) -> dict:
    """The target's data as the controller evaluated it (group data merged), minus connection keys."""
    return {k: plain(v) for k, v in target.data.dict().items() if not k.startswith(("ssh_", "_"))}


def inventory_text(targets: list) -> str:
    """A pyinfra inventory of the targets as the node reaches them (its key, strict host keys),
    each with its data as the controller evaluated it, so the node deploys and checks with the
    same values (group-data files that compute values on the controller are not re-run there)."""
    hosts = {
        t.name: {
            **host_data(t),
            "ssh_hostname": str(t.data.get("ssh_hostname") or t.name),
            "ssh_port": int(t.data.get("ssh_port") or 22),
            "ssh_user": str(t.data.get("ssh_user") or "root"),
            "ssh_key": KEY,
            "ssh_known_hosts_file": KNOWN_HOSTS,
            "ssh_strict_host_key_checking": "yes",
            "ssh_allow_agent": False,
            "ssh_look_for_keys": False,
        }
        for t in targets
    }
    groups: dict[str, list[str]] = {}
    for target in targets:
        for group in target.groups:
            groups.setdefault(str(group), []).append(target.name)
    body = ['"""Targets of this control node; written by the fleetops control role, do not edit."""\n\n']
    body.append("_HOSTS = " + pformat(hosts, width=100, sort_dicts=True) + "\n\n")
    for group, members in sorted(groups.items()):
        body.append(f"{group} = [(name, _HOSTS[name]) for name in {sorted(members)!r}]\n")
    if not groups:
        body.append("hosts = list(_HOSTS.items())\n")
    return "".join(body)


def _copy_folder(source: Path, dest: str) -> None:
    if not source.is_dir():
        raise InputError(f"control: {source} is not a folder")
    for path in sorted(source.rglob("*")):
        if "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        relative = path.relative_to(source).as_posix()
        if path.is_dir():
            files.directory(name=f"Directory {dest}/{relative}", path=f"{dest}/{relative}", mode="750", group=USER)
        else:
            files.put(name=f"Copy {relative}", src=StringIO(path.read_text()), dest=f"{dest}/{relative}", mode="640",
                      group=USER)  # fmt: skip
