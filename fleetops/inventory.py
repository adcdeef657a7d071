"""Find and load the inventory a command runs against.

``-i`` takes any pyinfra inventory file; without it the running lab's generated inventory is
used. Loading goes through pyinfra's own inventory loader so plain pyinfra inventories (and their
``group_data/`` folders) work unchanged; ``--limit``/``--exclude`` take group or host names and
shell-style host patterns, like pyinfra's.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from fnmatch import fnmatch
from pathlib import Path

from fleetops.errors import InputError
from fleetops.secrets import register_sensitive_values


def default_inventory() -> Path:
    """The running lab's inventory: ``$FLEETOPS_LAB``, or the only lab on this machine."""
    from fleetops.lab.fleet import Lab, running_labs

    wanted = os.environ.get("FLEETOPS_LAB")
    labs = running_labs()
    if wanted:
        if wanted not in labs:
            raise InputError(f"FLEETOPS_LAB={wanted} but no such lab is up; run 'fleetops lab up'")
        return Lab(wanted).inventory
    if len(labs) == 1:
        return Lab(labs[0]).inventory
    if not labs:
        raise InputError("no inventory given and no lab is up: pass -i INVENTORY or run 'fleetops lab up'")
    raise InputError(f"several labs are up ({', '.join(labs)}): pass -i or set FLEETOPS_LAB")


def resolve_inventory(path: str | None) -> Path:
    """The inventory file to use, checked to exist."""
    if path is None:
        return default_inventory()
    inventory = Path(path)
    if not inventory.exists():
        raise InputError(f"inventory not found: {path}")
    if inventory.is_dir() and not any(inventory.iterdir()):
        raise InputError(f"inventory folder is empty: {path}")
    return inventory.resolve()


def load_inventory(path: Path, override_data: dict | None = None):
    """Load a pyinfra inventory file with its group_data, or an Ansible inventory (INI, YAML or a
    folder, with group_vars/host_vars and vault); returns ``pyinfra.api.Inventory``."""
    from fleetops.ansible.inventory import is_ansible_source

    if is_ansible_source(path):
        return _ansible_inventory(path, override_data)
    from fleetops.pyinfra_compat import make_inventory

    # pyinfra logs every group's data at debug level while loading, secrets included, before
    # fleetops has seen (and registered) them: keep that one step at info level.
    pyinfra_log = logging.getLogger("pyinfra")
    saved = pyinfra_log.level
    pyinfra_log.setLevel(max(saved, logging.INFO))
    from pyinfra.api import State
    from pyinfra.context import ctx_state

    if not ctx_state.isset():  # pyinfra's loader expects a current state
        ctx_state.set(State())
    try:
        inventory = make_inventory(str(path), cwd=os.getcwd(), override_data=override_data)
    except SystemExit as error:  # an inventory file that calls exit() must not end fleetops silently
        raise InputError(f"{path}: cannot load inventory: it exited ({error.code})") from None
    except Exception as error:  # pyinfra raises several types for broken files
        raise InputError(f"{path}: cannot load inventory: {type(error).__name__}: {error}") from None
    finally:
        pyinfra_log.setLevel(saved)
    for host in inventory:
        register_sensitive_values(dict(host.data.dict()))
    return inventory


def select_hosts(inventory, limit: Iterable[str] = (), exclude: Iterable[str] = ()) -> list:
    """Hosts matching any ``limit`` (all when empty) and no ``exclude``; unknown names are errors."""

    def matches(pattern: str) -> list:
        group = inventory.get_group(pattern, None)
        if group:
            return list(group)
        found = [host for host in inventory if fnmatch(host.name, pattern)]
        if not found:
            raise InputError(f"--limit/--exclude: no group or host matches {pattern!r}")
        return found

    limit, exclude = list(limit), list(exclude)
    selected = list(inventory) if not limit else []
    for pattern in limit:
        selected += [host for host in matches(pattern) if host not in selected]
    excluded = {host for pattern in exclude for host in matches(pattern)}
    hosts = [host for host in selected if host not in excluded]
    if not hosts:
        raise InputError("no hosts left after --limit/--exclude")
    return hosts


def _ansible_inventory(path: Path, override_data: dict | None):
    """A pyinfra Inventory from an Ansible one: Ansible has merged every host's variables already,
    so pyinfra groups carry membership only."""
    from pyinfra.api import Inventory
    from pyinfra.api import State
    from pyinfra.context import ctx_state

    from fleetops.ansible.inventory import load as load_ansible

    hosts = load_ansible(path)
    names = [host.name for host in hosts]
    if len(set(names)) != len(names):
        raise InputError(f"{path}: more than one host uses ansible_connection=local")
    groups: dict[str, tuple[list[str], dict]] = {}
    for entry in hosts:
        for group in entry.groups:
            groups.setdefault(group, ([], {}))[0].append(entry.name)
    if not ctx_state.isset():
        ctx_state.set(State())
    inventory = Inventory(([(h.name, {**h.data, **(override_data or {})}) for h in hosts], {}), **groups)
    for pyinfra_host in inventory:
        register_sensitive_values(dict(pyinfra_host.data.dict()))
    return inventory


def hosts_declaring(path: Path, limit: Iterable[str], exclude: Iterable[str], model, declared) -> list[tuple]:
    """``(host, value)`` for every selected host whose data, validated with the pydantic ``model``,
    declares something (``declared(data)`` is not None), e.g. a backup policy or A/B firmware;
    InputError naming host and key when a host's data does not validate."""
    from pydantic import ValidationError

    from fleetops.validation import describe_validation_error

    found = []
    for host in select_hosts(load_inventory(path), limit, exclude):
        try:
            value = declared(model.model_validate(dict(host.data.dict())))
        except ValidationError as error:
            raise InputError(f"host {host.name}: {describe_validation_error(error)}") from None
        if value is not None:
            found.append((host, value))
    return found
