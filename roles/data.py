"""Read the current host's data as a validated, typed role spec."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError
from pyinfra import host

from fleetops.errors import InputError
from fleetops.groupdata import host_data
from fleetops.validation import describe_validation_error

Model = TypeVar("Model", bound=BaseModel)


def role_data(model: type[Model]) -> Model:
    """The current pyinfra host's data parsed into ``model`` (validated again, cheaply)."""
    try:
        return model.model_validate(host_data(host))
    except ValidationError as error:
        raise InputError(f"host {host.name}: {describe_validation_error(error)}") from None


def os_family() -> str:
    """``debian`` or ``redhat`` from the host's package manager (the data per-OS tables key on)."""
    from pyinfra.facts.server import Which

    if host.get_fact(Which, command="apt-get"):
        return "debian"
    if host.get_fact(Which, command="dnf") or host.get_fact(Which, command="yum"):
        return "redhat"
    raise InputError(f"host {host.name}: no supported package manager (apt-get, dnf or yum)")
