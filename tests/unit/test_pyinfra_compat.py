"""Every pyinfra internal that fleetops relies on, checked against the installed pyinfra.

``fleetops/pyinfra_compat.py`` is the only module that touches them; when a pyinfra upgrade
moves one, the test for it fails with the name of what moved (and nothing else has to be read).
"""

from __future__ import annotations

import importlib
import inspect

import pytest


def require(module: str, attribute: str):
    try:
        found = importlib.import_module(module)
    except ImportError as error:
        pytest.fail(f"pyinfra upgrade: module {module} is gone ({error}); update fleetops/pyinfra_compat.py")
    for part in attribute.split("."):
        if not hasattr(found, part):
            pytest.fail(f"pyinfra upgrade: {module}.{attribute} is gone; update fleetops/pyinfra_compat.py")
        found = getattr(found, part)
    return found


def test_inventory_and_deploy_file_loaders_live_in_pyinfra_cli():
    make = require("pyinfra_cli.inventory", "make_inventory")
    assert "cwd" in inspect.signature(make).parameters, "make_inventory lost its cwd parameter"
    require("pyinfra_cli.util", "exec_file")


def test_the_timeout_default_is_argument_metadata():
    meta = require("pyinfra.api.arguments", "all_argument_meta")
    assert "_timeout" in meta and hasattr(meta["_timeout"], "default"), "_timeout argument metadata changed"


def test_run_host_op_is_the_per_host_step_and_operation_py_imports_it():
    require("pyinfra.api.operations", "run_host_op")
    require("pyinfra.api.operation", "run_host_op")  # the copy execute-immediately calls
    require("pyinfra.connectors.util", "CommandOutput")


def test_operation_meta_has_what_the_record_reads():
    meta_class = require("pyinfra.api.operation", "OperationMeta")
    meta = meta_class("hash", True)
    assert meta.will_change is True, "OperationMeta.will_change is no longer the planned change"
    for name in ("is_complete", "did_change", "did_not_change", "did_succeed", "set_complete"):
        assert callable(getattr(meta, name, None)), f"OperationMeta.{name} is gone"
    assert hasattr(meta_class, "stdout") and hasattr(meta_class, "stderr"), "OperationMeta.stdout/stderr are gone"
    assert "_commands" in vars(meta_class) or hasattr(meta, "_commands"), "OperationMeta._commands is gone"


def test_state_layout_the_runner_reads():
    state_class = require("pyinfra.api.state", "State")
    for name in ("get_op_order", "get_op_meta", "trigger_callbacks", "fail_hosts", "set_stage"):
        assert callable(getattr(state_class, name, None)), f"State.{name} is gone"
    assert "self.ops: dict" in inspect.getsource(state_class), "State.ops (host -> op hash -> data) changed"


def test_ssh_connector_keeps_the_paramiko_client():
    connector = require("pyinfra.connectors.ssh", "SSHConnector")
    source = inspect.getsource(connector)
    assert "self.client" in source, "SSHConnector no longer keeps its paramiko client as .client"


def test_compat_answers_for_a_planned_operation():
    from pyinfra.api.operation import OperationMeta

    from fleetops import pyinfra_compat as compat

    assert compat.will_change(OperationMeta("h", True)) and not compat.will_change(OperationMeta("h", False))
    assert compat.condition_plan(OperationMeta("h", False).did_change) is False
    assert compat.condition_plan(OperationMeta("h", False).did_not_change) is True
    assert compat.condition_plan(lambda: True) is None
    assert compat.op_output(OperationMeta("h", True)) == ("", "")  # not executed yet


def test_only_the_compat_module_touches_pyinfra_internals():
    """grep, as the issue asks: private pyinfra names appear in the compat module only."""
    import re
    from pathlib import Path

    root = Path(__file__).parents[2]
    private = re.compile(
        r"pyinfra_cli|_maybe_is_change|_combined_output|\._commands\b|all_argument_meta|"
        r"run_host_op|generate_color_diff"
    )
    offenders = []
    for folder in ("fleetops", "cli", "roles", "checks", "deploys"):
        for path in (root / folder).rglob("*.py"):
            if path.name == "pyinfra_compat.py":
                continue
            if private.search(path.read_text()):
                offenders.append(str(path.relative_to(root)))
    assert not offenders, offenders
