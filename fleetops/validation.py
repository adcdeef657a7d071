"""Turn pydantic validation errors into the one-line messages users see."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from fleetops.errors import InputError


def error_location(loc: tuple) -> str:
    """``('users', 0, 'shell')`` -> ``users[0].shell``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def describe_validation_error(error: ValidationError) -> str:
    """The first problem as ``key: message`` (and how many more there are)."""
    problems = error.errors()
    first = problems[0]
    where = error_location(tuple(first["loc"]))
    message = first["msg"].removeprefix("Value error, ")  # pydantic's wrapper around a ValueError
    text = f"{where}: {message}" if where else message
    if first.get("type") == "extra_forbidden":
        text = f"{where}: unknown key"
    if len(problems) > 1:
        text += f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
    return text


def read_yaml(path: Path, label: str, missing: str | None = None) -> object:
    """Parse a YAML file; every failure is a one-line InputError starting with ``label``.

    The message gives the problem and its line only, never the offending text: a file given by
    mistake may be a secret. ``missing`` replaces the not-found message when given.
    """
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(missing or f"{label}: not found") from None
    except UnicodeDecodeError:
        raise InputError(f"{label}: not a UTF-8 text file") from None
    except OSError as error:
        raise InputError(f"{label}: cannot read: {error.strerror}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise InputError(
            f"{label}:{where} not valid YAML: {getattr(error, 'problem', None) or 'syntax error'}"
        ) from None


M = TypeVar("M", bound=BaseModel)


def parse_model(model: type[M], data: object, source: str, what: str) -> M:
    """Validate a YAML document as ``model``; a one-line InputError naming the key otherwise."""
    if not isinstance(data, dict):
        raise InputError(f"{source}: {what} must be a mapping, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InputError(f"{source}: {describe_validation_error(error)}") from None


def resolve_group_data(group_data: Path | None, source: str, base_dir: Path | None) -> Path | None:
    """A spec's ``group_data`` folder, relative to the spec file; InputError when it is missing."""
    if group_data is not None and base_dir is not None and not group_data.is_absolute():
        group_data = (base_dir / group_data).resolve()
    if group_data is not None and not group_data.is_dir():
        raise InputError(f"{source}: group_data directory not found: {group_data}")
    return group_data


def strict_network(value: object) -> object:
    """A pydantic ``mode="before"`` helper for IPv4 networks: ``10.0.0.1/8`` is refused with the
    network it probably meant (``ipaddress`` would silently accept or reject it without saying)."""
    if isinstance(value, str):
        try:
            network = ipaddress.IPv4Network(value, strict=False)
        except ValueError:
            return value  # pydantic names the problem
        if str(network) != value.strip() and "/" in value:
            raise ValueError(f"{value} has host bits set; did you mean {network}?")
    return value
