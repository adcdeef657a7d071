"""Validate every selected host's data against the roles' specs before anything connects.

Each role publishes the pydantic models of the keys it reads (``SPECS`` in its module); a host's
data must satisfy those of every role the deploy uses. This module imports no role by name.
Keys no role knows are allowed (plain pyinfra deploys read their own), except when they
look like a typo of a known key, which is the commonest group-data mistake.
"""

from __future__ import annotations

import ast
import difflib
import importlib
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ValidationError

from fleetops.errors import InputError
from fleetops.secrets import register_sensitive_values
from fleetops.validation import describe_validation_error

ROLES = "fleetops.roles"


def specs_for_deploy(deploy_file: Path) -> list[type[BaseModel]]:
    """The group-data models of the fleetops roles a deploy file imports (each role module lists
    the models it reads as ``SPECS``). A plain pyinfra deploy that uses no fleetops role gets
    none: its inventory's keys are its own business. A file that does not parse gets none too;
    pyinfra reports it when it runs."""
    try:
        tree = ast.parse(deploy_file.read_text())
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return []
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module.startswith(ROLES):
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names if alias.name.startswith(ROLES))
    specs: list[type[BaseModel]] = []
    for name in sorted(modules):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        specs.extend(spec for spec in getattr(module, "SPECS", ()) if spec not in specs)
    return specs


def known_keys(specs: Iterable[type[BaseModel]]) -> set[str]:
    keys: set[str] = set()
    for model in specs:
        keys.update(model.model_fields)
    return keys


def _is_pyinfra_key(key: str) -> bool:
    return key.startswith(("_", "ssh_", "winrm_", "docker_", "chroot_", "local_", "vagrant_"))


def host_data(host) -> dict:
    """A plain dict of a pyinfra host's data (inventory, group data and defaults merged)."""
    return dict(host.data.dict())


def validate_data(name: str, data: dict, specs: list[type[BaseModel]]) -> None:
    """Raise InputError naming host, key and problem for the first bad value in ``data``
    against ``specs`` (the models of the roles that will read it)."""
    register_sensitive_values(data)
    if not specs:
        return
    known = known_keys(specs)
    for key in data:
        if key in known or _is_pyinfra_key(key):
            continue
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
        if close:
            raise InputError(f"host {name}: unknown group-data key {key!r} (did you mean {close[0]!r}?)")
    for model in specs:
        try:
            model.model_validate(data)
        except ValidationError as error:
            raise InputError(f"host {name}: {describe_validation_error(error)}") from None


def validate_hosts(hosts: Iterable, specs: list[type[BaseModel]]) -> None:
    """Validate the data of every pyinfra host in ``hosts`` against ``specs``."""
    for host in hosts:
        validate_data(host.name, host_data(host), specs)
