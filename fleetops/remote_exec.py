"""Run one command on many hosts over SSH at once and read JSON lines back (backup, edge verbs)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from fleetops.checking.target import SshTarget
from fleetops.secrets import redact


@dataclass
class HostAnswer:
    """What one host said: JSON lines, or an error."""

    host: str
    ok: bool
    lines: list[dict] = field(default_factory=list)
    error: str = ""


def _one(target: SshTarget, command: str, timeout: float) -> HostAnswer:
    try:
        client = target.connect(timeout=10)
    except Exception as error:  # noqa: BLE001 - recorded per host
        return HostAnswer(target.name, False, error=f"unreachable: {error}")
    try:
        _in, out, err = client.exec_command(command, timeout=timeout)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
        status = out.channel.recv_exit_status()
    except Exception as error:  # noqa: BLE001
        return HostAnswer(target.name, False, error=f"{type(error).__name__}: {error}")
    finally:
        client.close()
    lines = []
    for line in stdout.splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue
    message = redact(stderr.strip().splitlines()[-1]) if stderr.strip() else ""
    return HostAnswer(target.name, status == 0, lines, "" if status == 0 else message or f"exit {status}")


def on_hosts(targets: list[SshTarget], command: str, timeout: float = 3600) -> list[HostAnswer]:
    """Run ``command`` on every target in parallel; one answer per host, in order."""
    with ThreadPoolExecutor(max_workers=min(32, len(targets))) as pool:
        return list(pool.map(lambda target: _one(target, command, timeout), targets))
