"""pyinfra state callbacks: TCP_NODELAY on every connection, timings, errors and progress."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable

from pyinfra.api import BaseStateCallback

from fleetops.pyinfra_compat import ssh_transport
from fleetops.sshutil import set_nodelay


class RecordingCallback(BaseStateCallback):
    """Collects per-host connect errors and per-operation timings for the run record."""

    def __init__(self, on_op_done: Callable[[str, bool], None] | None = None) -> None:
        self.connect_errors: dict[str, str] = {}
        self.op_started: dict[tuple[str, str], float] = {}
        self.op_seconds: dict[tuple[str, str], float] = {}
        self.host_seconds: dict[str, float] = defaultdict(float)
        self.nodelay: dict[str, bool] = {}
        self.on_op_done = on_op_done

    # pyinfra calls these as plain functions with the state first; keep them instance methods.
    def host_connect(self, state, host) -> None:  # type: ignore[override]
        self.nodelay[host.name] = set_nodelay(ssh_transport(host))

    def host_connect_error(self, state, host, error) -> None:  # type: ignore[override]
        self.connect_errors[host.name] = f"{type(error).__name__}: {error}"

    def operation_host_start(self, state, host, op_hash) -> None:  # type: ignore[override]
        self.op_started[(host.name, op_hash)] = time.perf_counter()

    def _finish(self, host, op_hash, ok: bool) -> None:
        started = self.op_started.pop((host.name, op_hash), None)
        if started is not None:
            seconds = time.perf_counter() - started
            self.op_seconds[(host.name, op_hash)] = seconds
            self.host_seconds[host.name] += seconds
        if self.on_op_done:
            self.on_op_done(host.name, ok)

    def operation_host_success(self, state, host, op_hash, retry_count=0) -> None:  # type: ignore[override]
        self._finish(host, op_hash, True)

    def operation_host_error(self, state, host, op_hash, retry_count=0, max_retries=0) -> None:  # type: ignore[override]
        self._finish(host, op_hash, False)
