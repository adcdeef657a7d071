"""Facts tested like pyinfra's own: arguments -> the exact command, captured output -> the value,
from data files ``tests/facts/<Fact>/<case>.json`` (``output`` as the host printed it)."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

HERE = Path(__file__).parent
CASES = sorted(HERE.glob("*/*.json"))
MODULES = (
    "fleetops.facts.firmware",
    "fleetops.facts.mysql",
    "fleetops.facts.platform",
    "fleetops.facts.releases",
    "fleetops.facts.system",
    "fleetops.facts.users",
)


def fact_class(name: str):
    for module in MODULES:
        found = getattr(importlib.import_module(module), name, None)
        if found is not None:
            return found
    raise AssertionError(f"no fleetops fact named {name}")


def normalise(value):
    """JSON has no tuples or sets: facts returning them are compared as sorted lists."""
    if isinstance(value, set):
        return sorted(normalise(item) for item in value)
    if isinstance(value, tuple):
        return [normalise(item) for item in value]
    if isinstance(value, dict):
        return {("|".join(key) if isinstance(key, tuple) else key): normalise(item) for key, item in value.items()}
    if isinstance(value, list):
        return [normalise(item) for item in value]
    return value


@pytest.mark.parametrize("case", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
def test_fact(case):
    data = json.loads(case.read_text())
    fact = fact_class(case.parent.name)()
    assert fact.command(**data.get("kwargs", {})) == data["command"]
    assert normalise(fact.process(data["output"])) == data["fact"]
