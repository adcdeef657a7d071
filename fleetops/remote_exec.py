"""Run one command on many hosts over SSH at once and read JSON lines back (backup verbs), or
read pyinfra facts (their own commands and parsers) from many hosts in one session each."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from fleetops.checking.target import SshTarget
from fleetops.fanout import per_host
from fleetops.secrets import redact


@dataclass
class HostAnswer:
    """What one host said: JSON lines, or an error."""

    host: str
    ok: bool
    lines: list[dict] = field(default_factory=list)
    error: str = ""


def _exec(target: SshTarget, command: str, timeout: float) -> tuple[int, str, str] | str:
    """(exit status, stdout, stderr), or why the command could not run at all."""
    try:
        client = target.connect(timeout=10)
    except Exception as error:  # noqa: BLE001 - recorded per host
        return f"unreachable: {error}"
    try:
        _in, out, err = client.exec_command(command, timeout=timeout)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
        return out.channel.recv_exit_status(), stdout, stderr
    except Exception as error:  # noqa: BLE001
        return f"{type(error).__name__}: {error}"
    finally:
        client.close()


def _one(target: SshTarget, command: str, timeout: float) -> HostAnswer:
    answer = _exec(target, command, timeout)
    if isinstance(answer, str):
        return HostAnswer(target.name, False, error=answer)
    status, stdout, stderr = answer
    lines = []
    for line in stdout.splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue
    message = redact(stderr.strip().splitlines()[-1]) if stderr.strip() else ""
    return HostAnswer(target.name, status == 0, lines, "" if status == 0 else message or f"exit {status}")


def on_hosts(
    targets: list[SshTarget], command: str, timeout: float = 3600, parallel: int | None = None
) -> list[HostAnswer]:
    """Run ``command`` on every target, ``parallel`` at once (default up to 32); one answer per
    host, in order."""
    return per_host(targets, lambda target: _one(target, command, timeout), parallel)


@dataclass
class FactAnswer:
    """The facts one host reported (parsed by each fact's own ``process``), or an error."""

    host: str
    ok: bool
    facts: dict = field(default_factory=dict)
    error: str = ""


def read_facts(
    hosts: list, facts: dict[str, tuple[Any, dict]], parallel: int | None = None, timeout: float = 60
) -> list[FactAnswer]:
    """``facts`` maps a key to ``(fact, arguments)``: every fact's own command runs on each host in
    one SSH session, and its output goes through the fact's own ``process``, exactly what pyinfra
    would report while planning a deploy."""
    marker = "__fleetops_fact__"
    command = "; ".join(
        f"echo {marker}{key}; {{ {fact.command(**arguments)} ; }}" for key, (fact, arguments) in facts.items()
    )

    def one(target: SshTarget) -> FactAnswer:
        answer = _exec(target, command, timeout)
        if isinstance(answer, str):
            return FactAnswer(target.name, False, error=answer)
        _status, stdout, _stderr = answer
        sections: dict[str, list[str]] = {}
        key = None
        for line in stdout.splitlines():
            if line.startswith(marker):
                key = line[len(marker) :]
                sections[key] = []
            elif key is not None:
                sections[key].append(line)
        return FactAnswer(
            target.name, True, {key: fact.process(sections.get(key, [])) for key, (fact, _arguments) in facts.items()}
        )

    return per_host([SshTarget.from_host(host) for host in hosts], one, parallel)


def run_command(target: SshTarget, command: str, timeout: float = 60) -> tuple[int, str, str] | str:
    """One command on one host: (exit status, stdout, stderr), or why it could not run."""
    return _exec(target, command, timeout)
