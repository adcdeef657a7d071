"""The one place fleetops touches pyinfra beyond its documented operation/fact API.

fleetops runs deploy files in-process and builds structured run records, which pyinfra's public
API does not cover completely: loading an inventory file and executing a deploy file live in
``pyinfra_cli``; per-operation results sit on ``OperationMeta``; the order of operations, their
names and arguments are ``State`` layout; a generator error in one operation aborts every host.
Each such touch point is one small function here, and ``tests/unit/test_pyinfra_compat.py``
checks each of them against the installed pyinfra, failing with the attribute's name when an
upgrade moves it. ``pyproject.toml`` pins pyinfra to the minor versions these were checked on.

Everything else in fleetops uses pyinfra's public API (``@operation``, ``FactBase``,
``host.get_fact``, ``State``/``Config``, ``connect_all``, ``run_ops``, callbacks).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from pyinfra.api.exceptions import PyinfraError

log = logging.getLogger(__name__)

# ---- loading files (pyinfra_cli) ---------------------------------------------------------------


def make_inventory(path: str, cwd: str, override_data: dict | None = None):
    """``pyinfra_cli.inventory.make_inventory``: an inventory file with its ``group_data``, and
    ``override_data`` on top for every host (what ``pyinfra --data`` gives)."""
    from pyinfra_cli.inventory import make_inventory as _make_inventory

    return _make_inventory(path, override_data=override_data, cwd=cwd)


def exec_deploy_file(path: str) -> None:
    """``pyinfra_cli.util.exec_file``: run a deploy file for the current context host."""
    from pyinfra_cli.util import exec_file

    exec_file(path)


def unwrap_deploy_error(error: BaseException) -> BaseException:
    """pyinfra_cli wraps what a deploy file raises (its ``str()`` loses the message)."""
    return getattr(error, "exception", None) or error


# ---- a command timeout for every operation --------------------------------------------------------


@contextmanager
def default_command_timeout(seconds: int) -> Iterator[None]:
    """Give every remote command a timeout unless an operation sets ``_timeout`` itself, for the
    duration of one run (pyinfra's default is None, wait forever, and it has no config key)."""
    from pyinfra.api.arguments import all_argument_meta

    meta = all_argument_meta["_timeout"]
    saved = meta.default
    meta.default = lambda _config: seconds
    try:
        yield
    finally:
        meta.default = saved


# ---- one host's operation error must not stop every host ------------------------------------------


class OperationErrors:
    """Operations whose command generator raised while executing: (host, op hash) -> message."""

    def __init__(self) -> None:
        self.messages: dict[tuple[str, str], str] = {}


@contextmanager
def guard_operation_errors(errors: OperationErrors, redact=lambda text: text) -> Iterator[None]:
    """While executing, an ``OperationError`` raised by one operation's generator fails that
    operation on that host only (pyinfra 3 lets it escape the host's greenlet, and ``run_ops``
    then stops every host). Both names pyinfra calls are wrapped: ``operations.run_host_op``
    (the normal path) and the copy ``operation.py`` imported (operations run immediately)."""
    import pyinfra.api.operation as operation_module
    import pyinfra.api.operations as operations_module
    from pyinfra.connectors.util import CommandOutput

    original = operations_module.run_host_op

    def guarded(state, host, op_hash: str) -> bool:
        try:
            return original(state, host, op_hash)
        except PyinfraError as error:
            message = redact(f"{type(error).__name__}: {error}")
            log.error("%s: operation failed: %s", host.name, message)
            errors.messages[(host.name, op_hash)] = message
            op_data = state.ops.get(host, {}).get(op_hash)
            if op_data is not None and not op_data.operation_meta.is_complete():
                op_data.operation_meta.set_complete(False, [], CommandOutput([]))
            state.trigger_callbacks("operation_host_error", host, op_hash, 0, 0)
            return False

    operations_module.run_host_op = guarded
    operation_module.run_host_op = guarded
    try:
        yield
    finally:
        operations_module.run_host_op = original
        operation_module.run_host_op = original


# ---- what the state holds after planning and executing --------------------------------------------


def op_order(state) -> list[str]:
    """Operation hashes in execution order."""
    return list(state.get_op_order())


def host_operations(state, host) -> dict:
    """op hash -> pyinfra's per-host operation data (``operation_meta``, ``global_arguments``)."""
    return state.ops.get(host, {})


def op_names(state, op_hash: str) -> list[str]:
    return sorted(state.get_op_meta(op_hash).names)


def op_count(state, host) -> int:
    return len(state.ops.get(host, {}))


def will_change(meta) -> bool:
    """Whether a planned operation has commands to run (the public ``will_change``)."""
    return bool(meta.will_change)


def op_output(meta) -> tuple[str, str]:
    """(stdout, stderr) of an executed operation ("" when it ran no command)."""
    if not meta.is_complete():
        return "", ""
    try:
        return meta.stdout, meta.stderr
    except (AssertionError, AttributeError):  # completed without output (guarded errors)
        return "", ""


def command_count(meta) -> int:
    """How many commands an executed operation ran (``OperationMeta`` keeps the list privately)."""
    return len(getattr(meta, "_commands", None) or [])


def if_conditions(op_data) -> list:
    """An operation's ``_if`` conditions as a list."""
    conditions = op_data.global_arguments.get("_if") or []
    return [conditions] if callable(conditions) else list(conditions)


def condition_plan(condition) -> bool | None:
    """What a plain pyinfra ``_if`` condition will be at execution time, when that can be known:
    ``op.did_change`` / ``op.did_not_change`` of an operation planned earlier; None otherwise."""
    meta = getattr(condition, "__self__", None)
    name = getattr(condition, "__name__", "")
    if meta is None or name not in ("did_change", "did_not_change") or not hasattr(type(meta), "will_change"):
        return None
    planned = will_change(meta)
    return planned if name == "did_change" else not planned


# ---- connections -------------------------------------------------------------------------------


def ssh_transport(host):
    """The paramiko transport of an SSH-connected host (None for other connectors)."""
    client = getattr(host.connector, "client", None)
    return client.get_transport() if client is not None else None


def is_ssh(host) -> bool:
    """Whether the host goes through pyinfra's SSH connector (``@local``, ``@docker`` do not)."""
    from pyinfra.connectors.ssh import SSHConnector

    return isinstance(host.connector, SSHConnector)
