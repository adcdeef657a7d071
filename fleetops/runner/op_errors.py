"""Keep one host's operation error from stopping every host's run.

pyinfra 3 generates an operation's commands while executing it. When the generator raises
(``OperationError``: e.g. "path exists and is not a file"), the exception escapes the host's
greenlet and ``run_ops`` aborts the whole run: the other hosts stop mid-way and the failing
operation is never marked complete. fleetops wraps ``run_host_op`` so such an error fails that
operation on that host only, like a failed command, and records its message for the run record.
"""

from __future__ import annotations

import logging

import pyinfra.api.operations as pyinfra_operations
from pyinfra.connectors.util import CommandOutput
from pyinfra.api.exceptions import PyinfraError

from fleetops.secrets import redact

log = logging.getLogger(__name__)

_original_run_host_op = pyinfra_operations.run_host_op


def errors_of(state) -> dict[tuple[str, str], str]:
    """(host name, op hash) -> error message, for operations that raised while executing."""
    if not hasattr(state, "fleetops_op_errors"):
        state.fleetops_op_errors = {}
    return state.fleetops_op_errors


def guarded_run_host_op(state, host, op_hash: str) -> bool:
    try:
        return _original_run_host_op(state, host, op_hash)
    except PyinfraError as error:
        message = redact(f"{type(error).__name__}: {error}")
        log.error("%s: operation failed: %s", host.name, message)
        errors_of(state)[(host.name, op_hash)] = message
        op_data = state.ops.get(host, {}).get(op_hash)
        if op_data is not None and not op_data.operation_meta.is_complete():
            op_data.operation_meta.set_complete(False, [], CommandOutput([]))
        state.trigger_callbacks("operation_host_error", host, op_hash, 0, 0)
        return False


def install() -> None:
    """Wrap pyinfra's per-host operation runner (idempotent)."""
    pyinfra_operations.run_host_op = guarded_run_host_op
