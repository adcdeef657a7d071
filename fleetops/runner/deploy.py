"""Run one pyinfra deploy file against an inventory, in-process, and build its run record.

The flow mirrors pyinfra's CLI: load inventory -> validate group data (nothing has connected
yet) -> connect -> plan (facts, diffs) -> execute unless dry -> record. Differences that matter:
a host that fails to connect or to plan is recorded and dropped, never stopping the others; diffs
are captured per operation; every connection gets TCP_NODELAY; the result is a structured
``RunRecord`` rather than console text.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import gevent
from pyinfra.api import Config, State
from pyinfra.api.connect import connect_all, disconnect_all
from pyinfra.api.exceptions import PyinfraError
from pyinfra.api.operations import run_ops
from pyinfra.api.state import StateStage
from pyinfra.context import ctx_config, ctx_host, ctx_inventory, ctx_state

from fleetops import pyinfra_compat as compat
from fleetops import sshutil
from fleetops.errors import InputError
from fleetops.groupdata import specs_for_deploy, validate_hosts
from fleetops.inventory import load_inventory, select_hosts
from fleetops.runner.callbacks import RecordingCallback
from fleetops.runner.diffs import DiffCapture
from fleetops.runner.record import HostResult, OperationResult, RunRecord, utcnow
from fleetops.secrets import redact

log = logging.getLogger("fleetops.deploy")

COMMAND_TIMEOUT = 900  # seconds; pyinfra's per-command timeout for every operation
OUTPUT_LIMIT = 4000  # characters of each operation's stdout and stderr kept in the run record
CONNECTION_ERRORS = (
    "EOFError",
    "SSHException",
    "NoValidConnectionsError",
    "timeout",
    "TimeoutError",
    "OSError",
    "ConnectionResetError",
    "socket.timeout",
)


@dataclass
class DeployOptions:
    deploy_file: Path
    inventory: Path
    limit: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    parallel: int | None = None
    dry: bool = False
    verbosity: int = 0
    data: dict | None = None  # host data given to every host on top of the inventory's (pyinfra --data)


class Progress:
    """What the runner reports while it works; the CLI plugs in a rich progress bar."""

    def stage(self, name: str, total: int | None = None) -> None: ...
    def advance(self, host: str, ok: bool) -> None: ...


def run_deploy(
    options: DeployOptions, progress: Progress | None = None, confirm: Callable[[dict], bool] | None = None
) -> RunRecord:
    """Plan and (unless dry) apply ``options.deploy_file``; never raises for host failures.

    ``confirm``, when given, is shown the planned record (a dry-run record) and decides whether
    to apply; declining turns the run into a dry run.
    """
    progress = progress or Progress()
    deploy_file = options.deploy_file.resolve()
    if not deploy_file.is_file():
        raise InputError(f"deploy file not found: {options.deploy_file}")

    record = RunRecord(
        deploy=str(options.deploy_file),
        inventory=str(options.inventory),
        dry_run=options.dry,
        limit=list(options.limit),
        exclude=list(options.exclude),
    )
    started = time.monotonic()

    state = State(check_for_changes=True)
    state.cwd = os.getcwd()
    ctx_state.set(state)
    config = Config(PARALLEL=options.parallel or 0, DIFF=True, FAIL_PERCENT=None)
    ctx_config.set(config)
    _set_verbosity(state, options.verbosity)
    inventory = load_inventory(options.inventory, options.data)
    ctx_inventory.set(inventory)
    hosts = select_hosts(inventory, options.limit, options.exclude)
    validate_hosts(hosts, specs_for_deploy(deploy_file))  # bad group data: one line, nothing connected yet
    config.lock_current_state()
    state.init(inventory, config, initial_limit=hosts)

    with compat.default_command_timeout(COMMAND_TIMEOUT):
        return _run(state, config, inventory, hosts, deploy_file, record, options, progress, confirm, started)


def _run(
    state: State,
    config: Config,
    inventory,
    hosts: list,
    deploy_file: Path,
    record: RunRecord,
    options: DeployOptions,
    progress: Progress,
    confirm,
    started: float,
) -> RunRecord:
    """Connect, plan, confirm, apply and collect (inside the run's command-timeout default)."""
    callback = RecordingCallback(on_op_done=progress.advance)
    state.add_callback_handler(callback)
    for host in hosts:
        record.hosts[host.name] = HostResult()

    progress.stage("connect", len(hosts))
    state.set_stage(StateStage.Connect)
    try:
        connect_all(state)
    except PyinfraError:
        pass  # "No hosts remaining": every host is unreachable, recorded below
    for host in hosts:
        if not host.connected:
            result = record.hosts[host.name]
            result.status = "unreachable"
            result.error = callback.connect_errors.get(host.name, "could not connect")

    diffs = DiffCapture()
    state.set_stage(StateStage.Prepare)
    progress.stage("plan", len(hosts))
    diffs.attach()
    try:
        _plan(state, deploy_file, record)
    finally:
        diffs.detach()

    # Hosts that failed to connect or to plan carry an error; the rest are applied.
    active = [host for host in hosts if record.hosts[host.name].error is None]
    errors = compat.OperationErrors()
    if confirm is not None and not options.dry and active:
        planned = replace(
            record, dry_run=True, hosts={name: replace(result, operations=[]) for name, result in record.hosts.items()}
        )
        _collect(state, hosts, planned, callback, diffs, errors, dry=True)
        if planned.status == "pending" and not confirm(planned.to_dict()):
            record.dry_run = True
    if not record.dry_run and active:
        total = sum(compat.op_count(state, host) for host in active)
        progress.stage("apply", total)
        state.set_stage(StateStage.Execute)
        with compat.guard_operation_errors(errors, redact):
            try:
                run_ops(state)
            except PyinfraError as error:
                log.debug("run_ops stopped: %s", error)

    _collect(state, hosts, record, callback, diffs, errors, record.dry_run)
    try:
        state.set_stage(StateStage.Disconnect)
        disconnect_all(state)
    except Exception as error:  # noqa: BLE001 - a dead host must not break the record
        log.debug("disconnect: %s", error)
    record.ended_at = utcnow()
    record.duration_s = time.monotonic() - started
    return record


def _set_verbosity(state: State, verbosity: int) -> None:
    """pyinfra's verbosity switches. Fact *output* is never printed, at any level: facts may carry
    digests of password hashes (MysqlAccounts) or stored pbkdf2 hashes (PlatformReference), and
    pyinfra prints it with click.echo, past fleetops' log redaction."""
    state.print_noop_info = state.print_fact_info = verbosity > 0
    state.print_input = state.print_fact_input = verbosity > 1
    state.print_output = verbosity > 2
    state.print_fact_output = False


def _plan(state: State, deploy_file: Path, record: RunRecord) -> None:
    """Execute the deploy file once per connected host, each in its own greenlet.

    Unlike pyinfra's CLI, a host whose planning fails (a fact command failed, the host died) is
    recorded as failed and dropped; the other hosts carry on.
    """
    state.current_deploy_filename = str(deploy_file)

    def plan_host(host):
        try:
            with ctx_config.use(state.config.copy()):
                with ctx_host.use(host):
                    compat.exec_deploy_file(str(deploy_file))
        except Exception as error:  # noqa: BLE001 - recorded per host
            return error
        return None

    active = list(state.inventory.get_active_hosts())
    greenlets = {state.pool.spawn(plan_host, host): host for host in active}
    gevent.joinall(list(greenlets))
    failed = set()
    for greenlet, host in greenlets.items():
        error = greenlet.value
        if error is None:
            continue
        failed.add(host)
        error = compat.unwrap_deploy_error(error)
        result = record.hosts[host.name]
        unreachable = _looks_like_connection_error(error) or not _reachable(host)
        result.status = "unreachable" if unreachable else "failed"
        result.error = redact(f"planning failed: {type(error).__name__}: {error}")
    if failed:
        try:
            state.fail_hosts(failed)
        except PyinfraError:
            pass


def _collect(
    state: State,
    hosts: Iterable,
    record: RunRecord,
    callback: RecordingCallback,
    diffs: DiffCapture,
    errors: compat.OperationErrors,
    dry: bool,
) -> None:
    """Turn pyinfra's per-host operation metadata into the record's operation results."""
    order = compat.op_order(state)
    for host in hosts:
        result = record.hosts[host.name]
        if result.status == "unreachable" or result.error:
            continue
        host_ops = compat.host_operations(state, host)
        for op_hash in order:
            if op_hash not in host_ops:
                continue
            meta = host_ops[op_hash].operation_meta
            name = ", ".join(compat.op_names(state, op_hash)) or "operation"
            diff = diffs.diff_for(host.name, op_hash)
            if dry:
                will = compat.will_change(meta) and _planned_if(host_ops[op_hash])
                op = OperationResult(name, op_hash, "pending" if will else "ok", will, diff=diff)
            elif not meta.is_complete():
                op = OperationResult(name, op_hash, "skipped", False, diff=diff)
            else:
                changed = meta.did_change()
                status = "failed" if not meta.did_succeed() else ("changed" if changed else "ok")
                stdout, stderr = compat.op_output(meta)
                error = None
                if status == "failed":
                    error = errors.messages.get((host.name, op_hash)) or redact(stderr[-2000:]) or "operation failed"
                op = OperationResult(
                    name,
                    op_hash,
                    status,
                    changed,
                    commands=compat.command_count(meta),
                    duration_s=round(callback.op_seconds.get((host.name, op_hash), 0.0), 4),
                    diff=diff,
                    error=error,
                    stdout=_tail(stdout),
                    stderr=_tail(stderr),
                )
            result.operations.append(op)
        result.duration_s = round(callback.host_seconds.get(host.name, 0.0), 3)
        _set_host_status(result, host)


def _tail(text: str) -> str | None:
    """The last OUTPUT_LIMIT characters of an operation's output (redacted when the record is built)."""
    if not text:
        return None
    return text if len(text) <= OUTPUT_LIMIT else "[...]" + text[-OUTPUT_LIMIT:]


def _planned_if(op_data) -> bool:
    """Evaluate an operation's ``_if`` conditions as they would be at execution time.

    pyinfra only checks ``_if`` while executing, so a plan would list e.g. "reload sshd if its
    config changed" as a change although the config is up to date. Conditions that are another
    operation's ``did_change``/``did_not_change`` (or fleetops' ``any_changed``) are answered from
    that operation's plan; any other callable cannot be known in advance and counts as true.
    """
    for condition in compat.if_conditions(op_data):
        planned = getattr(condition, "planned", None)  # fleetops.operations.conditions
        outcome = planned() if callable(planned) else compat.condition_plan(condition)
        if outcome is False:
            return False
    return True


def _set_host_status(result: HostResult, host) -> None:
    failed = [op for op in result.operations if op.status == "failed"]
    if failed:
        if not _reachable(host):
            result.status = "unreachable"
            result.error = f"host became unreachable during {failed[0].name}"
        else:
            result.status = "failed"
            result.error = f"{len(failed)} operation(s) failed, first: {failed[0].name}"
    elif any(op.changed for op in result.operations):
        result.status = "changed"
    else:
        result.status = "ok"


def _looks_like_connection_error(error: BaseException) -> bool:
    return any(name in type(error).__name__ for name in CONNECTION_ERRORS)


def _reachable(host) -> bool:
    """Whether the host still answers on its SSH port (distinguishes dead from failing); hosts
    on other connectors (``@local``, ``@docker``) are reachable as long as they run."""
    if not compat.is_ssh(host):
        return True
    hostname = host.data.get("ssh_hostname") or host.name
    port = int(host.data.get("ssh_port") or 22)
    return sshutil.port_open(hostname, port, timeout=2.0)
