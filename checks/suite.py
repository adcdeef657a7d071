"""Suites: which checks run on which hosts, declared as data and validated before anything runs.

A suite is a YAML file (``checks/suites/NAME.yml`` or any path) with a list of checks; each check
may be limited to ``groups`` or ``hosts``. Group data adds two keys (see :class:`CheckData`):
``checks`` (more checks for the hosts of that group) and ``check_overrides`` (per-check warn/crit,
severity or ``disabled``), so thresholds differ per group the usual pyinfra way: the most
specific group's value wins.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fleetops.checks.base import Check
from fleetops.checks.network import Reachable
from fleetops.checks.registry import AnyCheck, kind_names
from fleetops.errors import InputError
from fleetops.validation import describe_validation_error, read_yaml

SUITES_DIR = Path(__file__).parent / "suites"


class Override(BaseModel):
    """Per-group changes to a named check."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    warn: float | None = None
    crit: float | None = None
    severity: Literal["critical", "warning"] | None = None
    disabled: bool = False


class CheckData(BaseModel):
    """The group-data keys ``fleetops check`` reads."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    checks: list[AnyCheck] = Field(default_factory=list)
    check_overrides: dict[str, Override] = Field(default_factory=dict)


class Suite(BaseModel):
    """A named list of checks; ``include`` pulls in other suites first (by name or path).

    A check here with the same name as an included one replaces it (e.g. other thresholds).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    description: str = ""
    include: list[str] = Field(default_factory=list)
    checks: list[AnyCheck] = Field(default_factory=list)


def available_suites() -> list[str]:
    return sorted(path.stem for path in SUITES_DIR.glob("*.yml"))


def suite_path(name: str) -> Path:
    """A suite by name (bundled) or by path; InputError naming the choices otherwise."""
    candidate = Path(name)
    if candidate.suffix in (".yml", ".yaml") or "/" in name:
        if not candidate.is_file():
            raise InputError(f"suite file not found: {name}")
        return candidate
    bundled = SUITES_DIR / f"{name}.yml"
    if not bundled.is_file():
        raise InputError(f"no suite named {name!r} (available: {', '.join(available_suites())})")
    return bundled


def parse_suite(data: object, source: str) -> Suite:
    """Validate suite data; the error names the file, the check and the problem."""
    if not isinstance(data, dict):
        raise InputError(f"suite {source}: expected a mapping with a 'checks' list")
    if not isinstance(data.get("checks") or [], list):
        raise InputError(f"suite {source}: checks: expected a list of checks, got {type(data['checks']).__name__}")
    for index, item in enumerate(data.get("checks") or []):
        if isinstance(item, dict) and item.get("kind") not in kind_names():
            hint = difflib.get_close_matches(str(item.get("kind")), kind_names(), n=1)
            raise InputError(
                f"suite {source}: checks[{index}]: unknown kind {item.get('kind')!r}"
                + (f" (did you mean {hint[0]!r}?)" if hint else f" (kinds: {', '.join(kind_names())})")
            )
    try:
        suite = Suite.model_validate(data)
    except ValidationError as error:
        raise InputError(f"suite {source}: {describe_validation_error(error)}") from None
    if not suite.checks and not suite.include:
        raise InputError(f"suite {source}: no checks and nothing included")
    _unique_names(suite.checks, f"suite {source}")
    return suite


def load_suite(name: str, _seen: tuple[str, ...] = ()) -> Suite:
    """Load a suite and everything it includes, flattened into one list of checks."""
    path = suite_path(name)
    key = str(path.resolve())
    if key in _seen:
        raise InputError(f"suite {path}: includes itself (through {' -> '.join(_seen)})")
    data = read_yaml(path, f"suite {path}")
    suite = parse_suite(data, str(path))
    merged: dict[str, Check] = {}
    for included in suite.include:
        for check in load_suite(included, (*_seen, key)).checks:
            merged[check.name] = check
    for check in suite.checks:
        merged[check.name] = check
    return suite.model_copy(update={"name": suite.name or path.stem, "include": [], "checks": list(merged.values())})


def _unique_names(checks: list[Check], where: str) -> None:
    seen: set[str] = set()
    for check in checks:
        if check.name in seen:
            raise InputError(f"{where}: two checks named {check.name!r} (give one a 'name')")
        seen.add(check.name)


def applies(check: Check, host: str, groups: set[str]) -> bool:
    if check.hosts and host not in check.hosts:
        return False
    return not check.groups or bool(groups.intersection(check.groups))


def _override(check: Check, override: Override) -> Check:
    changes = override.model_dump(exclude={"disabled"}, exclude_none=True)
    data = {**check.model_dump(by_alias=True), **changes}
    return type(check).model_validate(data)


@dataclass
class HostPlan:
    """The checks of one host, in order, starting with ``reachable``."""

    host: str
    checks: list[Check]


def plan_host(suite: Suite, host: str, groups: set[str], data: dict) -> HostPlan:
    """The checks for one host: suite + group-data checks (replacing same-named suite checks),
    overrides applied."""
    for key in data:
        close = difflib.get_close_matches(key, list(CheckData.model_fields), n=1, cutoff=0.8)
        if close and key not in CheckData.model_fields:
            raise InputError(f"host {host}: unknown group-data key {key!r} (did you mean {close[0]!r}?)")
    try:
        extra = CheckData.model_validate(data)
    except ValidationError as error:
        raise InputError(f"host {host}: {describe_validation_error(error)}") from None
    _unique_names(extra.checks, f"host {host}: checks")
    merged = {check.name: check for check in suite.checks if applies(check, host, groups)}
    for check in extra.checks:  # group data may replace a suite check of the same name
        if applies(check, host, groups):
            merged[check.name] = check
    checks = list(merged.values())
    names = [check.name for check in checks]
    for name in extra.check_overrides:
        if name not in names:
            close = difflib.get_close_matches(name, names, n=1, cutoff=0.75)
            if close:
                raise InputError(f"host {host}: check_overrides: no check named {name!r} (did you mean {close[0]!r}?)")
    planned: list[Check] = []
    for check in checks:
        override = extra.check_overrides.get(check.name)
        if override is not None and override.disabled:
            continue
        try:
            planned.append((_override(check, override) if override else check).for_host(data))
        except ValidationError as error:
            raise InputError(f"host {host}: check_overrides.{check.name}: {describe_validation_error(error)}") from None
    if not any(isinstance(check, Reachable) for check in planned):
        planned.insert(0, Reachable(kind="reachable"))
    return HostPlan(host=host, checks=planned)
