"""Run the gateway tool over SSH and read its one JSON line back."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass

import paramiko

from fleetops import sshutil
from fleetops.checking.target import SshTarget
from fleetops.firmware import layout

CONNECT_TIMEOUT = 5.0


class Unreachable(Exception):
    """The gateway did not answer over SSH (down, rebooting, refusing)."""


@dataclass
class ToolAnswer:
    ok: bool
    data: dict
    status: int
    stderr: str

    @property
    def error(self) -> str:
        return str(self.data.get("error") or self.stderr.strip().splitlines()[-1:] or f"exit {self.status}")


def tool_command(*args: str) -> str:
    return " ".join(["python3", layout.TOOL, *(shlex.quote(arg) for arg in args)])


def connect(target: SshTarget) -> paramiko.SSHClient:
    try:
        return target.connect(timeout=CONNECT_TIMEOUT)
    except Exception as error:  # noqa: BLE001 - any failure to connect means "not reachable now"
        raise Unreachable(f"{type(error).__name__}: {error}") from None


def run_tool(target: SshTarget, *args: str, stdin: str = "", timeout: float = 300) -> ToolAnswer:
    """``fleetops-fw ARGS`` on the gateway (one connection); Unreachable when SSH fails."""
    client = connect(target)
    try:
        status, stdout, stderr = sshutil.exec_command(client, tool_command(*args), timeout, stdin)
    except (paramiko.SSHException, OSError) as error:
        raise Unreachable(f"{type(error).__name__}: {error}") from None
    finally:
        client.close()
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    try:
        data = json.loads(lines[-1]) if lines else {}
    except ValueError:
        data = {}
    if not data:
        data = {
            "ok": False,
            "error": (stderr.strip().splitlines() or [f"no answer from fleetops-fw (exit {status})"])[-1],
        }
    return ToolAnswer(bool(data.get("ok")) and status == 0, data, status, stderr)


def run_shell(target: SshTarget, command: str, timeout: float = 30) -> tuple[int, str]:
    """A fixed command (no user input in it); (exit status, stdout). Unreachable when SSH fails."""
    client = connect(target)
    try:
        status, stdout, _stderr = sshutil.exec_command(client, command, timeout)
        return status, stdout
    except (paramiko.SSHException, OSError) as error:
        raise Unreachable(f"{type(error).__name__}: {error}") from None
    finally:
        client.close()


def upload(target: SshTarget, local: str, remote: str) -> None:
    """Copy the bundle to the gateway's private incoming directory (0600)."""
    client = connect(target)
    try:
        sftp = client.open_sftp()
        try:
            sftp.put(local, remote + ".part")
            sftp.chmod(remote + ".part", 0o600)
            sftp.posix_rename(remote + ".part", remote)
        finally:
            sftp.close()
    except (paramiko.SSHException, OSError) as error:
        raise Unreachable(f"upload failed: {type(error).__name__}: {error}") from None
    finally:
        client.close()


def reboot(target: SshTarget) -> None:
    """Ask for a reboot; the connection dropping is expected."""
    try:
        run_shell(target, "systemctl --no-block reboot", timeout=10)
    except Unreachable:
        pass
