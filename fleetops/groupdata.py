"""Validate every selected host's data against the roles' specs before anything connects.

Each role publishes a pydantic model of the keys it reads; a host's data must satisfy all of
them. Keys no role knows are allowed (plain pyinfra deploys read their own), except when they
look like a typo of a known key, which is the commonest group-data mistake.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from pydantic import BaseModel, ValidationError

from fleetops.errors import InputError
from fleetops.secrets import register_sensitive_values
from fleetops.validation import describe_validation_error


def role_specs() -> list[type[BaseModel]]:
    """The data models of every fleetops role, and the check keys (``checks``, ``check_overrides``)."""
    from fleetops.checks.suite import CheckData
    from fleetops.roles.edge_spec import EdgeData
    from fleetops.roles.platform_spec import PlatformData
    from fleetops.roles.ftp_spec import FtpData
    from fleetops.roles.mysql_spec import MysqlData
    from fleetops.roles.spec import BaselineData
    from fleetops.roles.web_spec import WebData

    return [BaselineData, FtpData, WebData, MysqlData, EdgeData, PlatformData, CheckData]


def known_keys() -> set[str]:
    keys: set[str] = set()
    for model in role_specs():
        keys.update(model.model_fields)
    return keys


def _is_pyinfra_key(key: str) -> bool:
    return key.startswith(("_", "ssh_", "winrm_", "docker_", "chroot_", "local_", "vagrant_"))


def host_data(host) -> dict:
    """A plain dict of a pyinfra host's data (inventory, group data and defaults merged)."""
    return dict(host.data.dict())


def validate_data(name: str, data: dict) -> None:
    """Raise InputError naming host, key and problem for the first bad value in ``data``."""
    register_sensitive_values(data)
    known = known_keys()
    for key in data:
        if key in known or _is_pyinfra_key(key):
            continue
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
        if close:
            raise InputError(f"host {name}: unknown group-data key {key!r} (did you mean {close[0]!r}?)")
    for model in role_specs():
        try:
            model.model_validate(data)
        except ValidationError as error:
            raise InputError(f"host {name}: {describe_validation_error(error)}") from None


def validate_hosts(hosts: Iterable) -> None:
    """Validate the data of every pyinfra host in ``hosts``."""
    for host in hosts:
        validate_data(host.name, host_data(host))
