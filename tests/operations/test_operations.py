"""Operations tested like pyinfra's own: facts in, commands out, from data files.

Each ``tests/operations/<module>.<operation>/<case>.json`` holds the arguments, the facts the
host reports (``"Fact"`` or ``"Fact:arg=value,..."`` -> value) and the exact commands expected
(``[]`` with ``noop`` when the host is already converged). Uploads appear as
``upload <dest> via <staging file>: <content>``; the staging directory's random name is fixed
to ``/tmp/fleetops-stage-TEST`` here. No host, no root.
"""

from __future__ import annotations

import importlib
import json
from io import StringIO
from pathlib import Path
from types import SimpleNamespace

import pytest
from pyinfra.api import FileUploadCommand, StringCommand
from pyinfra.context import ctx_host, ctx_state

from fleetops.secrets import Secret

HERE = Path(__file__).parent
CASES = sorted(HERE.glob("*.*/*.json"))


class FakeHost:
    """What an operation sees of its host while it plans: facts from the data file."""

    name = "testhost"

    def __init__(self, facts: dict) -> None:
        self.facts, self.noops, self.data = facts, [], {}

    def get_fact(self, fact, **kwargs):
        key = fact.__name__ + (":" + ",".join(f"{k}={v}" for k, v in sorted(kwargs.items())) if kwargs else "")
        if key not in self.facts:
            raise AssertionError(f"the operation asked for fact {key!r}, which the test data does not give")
        return self.facts[key]

    def noop(self, description: str) -> None:
        self.noops.append(description)

    def log(self, *_args, **_kwargs) -> None:
        pass


def rendered(command) -> str:
    if isinstance(command, StringCommand):
        return command.get_raw_value()
    if isinstance(command, FileUploadCommand):
        content = command.src.getvalue() if isinstance(command.src, StringIO) else f"<file {Path(command.src).name}>"
        via = f" via {command.remote_temp_filename}" if command.remote_temp_filename else ""
        return f"upload {command.dest}{via}: {content}"
    return repr(command)


def _value(value):
    """``{"secret": "..."}`` in the data stands for a Secret argument."""
    if isinstance(value, dict) and set(value) == {"secret"}:
        return Secret(value["secret"])
    return value


@pytest.mark.parametrize("case", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
def test_operation(case, monkeypatch):
    data = json.loads(case.read_text())
    module_name, _, operation_name = case.parent.name.rpartition(".")
    module = importlib.import_module(f"fleetops.operations.{module_name}")
    operation = getattr(module, operation_name)
    monkeypatch.setattr("fleetops.operations.staging.stage_dir", lambda: "/tmp/fleetops-stage-TEST")
    for path in data.get("local_files", {}):  # files the operation reads on the controller
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(data["local_files"][path])
    host = FakeHost(data.get("facts", {}))
    state = SimpleNamespace(config=SimpleNamespace(DIFF=False))
    kwargs = {key: _value(value) for key, value in data.get("kwargs", {}).items()}
    with ctx_state.use(state), ctx_host.use(host):
        commands = [rendered(command) for command in operation._inner(*data.get("args", []), **kwargs) or []]
    assert commands == data["commands"]
    if "noop" in data:
        assert host.noops == [data["noop"]]
