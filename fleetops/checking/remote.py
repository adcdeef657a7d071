"""One SSH round trip per host: send the probe script on stdin, read two JSON lines back.

The remote command line is the constant ``python3 -``; the probe list travels inside the script
on stdin (as a Python literal; results come back as literals too, parsed with ``ast.literal_eval``,
never evaluated), so nothing a suite declares (paths, commands, names) is visible in ``ps`` on the host.
Every blocking step is bounded by the host's deadline, so a hung host costs at most its timeout.
"""

from __future__ import annotations

import ast
import socket
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import paramiko

from fleetops.checking.target import SshTarget

REMOTE_COMMAND = "python3 -"
MAX_REPLY = 16 * 2**20  # a probe answer is a few KiB; anything this big is a broken or hostile host


class ProbeReplyTooLarge(Exception):
    """The host sent more than ``MAX_REPLY`` bytes back."""


@lru_cache(maxsize=1)
def probe_source() -> str:
    import fleetops.checks.probe as probe

    return Path(probe.__file__).read_text()


def build_script(requests: list[dict]) -> bytes:
    """The probe script with its requests embedded as a Python literal (data, never code).

    Requests hold only str, int, float, bool, None, lists and dicts (from validated check
    declarations), whose ``repr`` is always a literal that ``ast.literal_eval`` accepts.
    """
    literal = repr(requests)
    ast.literal_eval(literal)  # refuse anything that is not a plain literal
    return (f"REQUESTS = {literal}\n" + probe_source()).encode()


@dataclass
class RoundTrip:
    """What came back from a host: its clock, the probe results, or why there is nothing."""

    sent: float = 0.0
    clock_at: float = 0.0
    remote_clock: float | None = None
    results: dict = field(default_factory=dict)
    error: str | None = None  # the host could not be reached or timed out
    probe_error: str | None = None  # reached, but the script could not run
    ms: float = 0.0
    cpu_s: float | None = None  # CPU time the probe script used on the host


def _describe(error: BaseException) -> str:
    if isinstance(error, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(error, paramiko.AuthenticationException):
        return "authentication failed"
    if isinstance(error, paramiko.SSHException):
        return f"ssh: {error}"
    if isinstance(error, OSError):
        return error.strerror or str(error)
    return f"{type(error).__name__}: {error}"


def round_trip(target: SshTarget, requests: list[dict], timeout: float) -> RoundTrip:
    """Connect, run the probes, return what the host said; never raises for host problems."""
    trip = RoundTrip()
    started = time.perf_counter()
    deadline = time.monotonic() + timeout

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("per-host timeout")
        return left

    client = None
    try:
        client = target.connect(timeout=remaining())
        transport = client.get_transport()
        if transport is None:
            raise paramiko.SSHException("no transport after connecting")
        channel = transport.open_session(timeout=remaining())
        channel.settimeout(remaining())
        trip.sent = time.time()
        channel.exec_command(REMOTE_COMMAND)
        channel.sendall(build_script(requests))
        channel.shutdown_write()
        buffer, errors = b"", b""
        while True:
            channel.settimeout(remaining())
            chunk = channel.recv(65536)
            if not chunk:
                break
            if not trip.clock_at and b"\n" in buffer + chunk:
                trip.clock_at = time.time()
            buffer += chunk
            if len(buffer) > MAX_REPLY:
                raise ProbeReplyTooLarge(f"probe reply larger than {MAX_REPLY // 2**20} MiB")
        while channel.recv_stderr_ready() and len(errors) < MAX_REPLY:
            errors += channel.recv_stderr(65536)
        status = channel.recv_exit_status()
        trip.ms = (time.perf_counter() - started) * 1000
        _parse(trip, buffer, errors, status)
    except ProbeReplyTooLarge as error:
        trip.probe_error = str(error)
        trip.ms = (time.perf_counter() - started) * 1000
    except Exception as error:  # noqa: BLE001 - every host problem becomes a result
        trip.error = _describe(error)
        trip.ms = (time.perf_counter() - started) * 1000
    finally:
        if client is not None:
            client.close()
    return trip


def _parse(trip: RoundTrip, stdout: bytes, stderr: bytes, status: int) -> None:
    lines = stdout.decode(errors="replace").splitlines()
    try:
        clock = ast.literal_eval(lines[0])["clock"]
        answer = ast.literal_eval(lines[1])
        results, cpu_s = answer["results"], answer.get("cpu_s")
        # the host is not trusted to answer in shape: every field is checked before use
        if not isinstance(clock, (int, float)) or isinstance(clock, bool):
            raise TypeError("clock is not a number")
        if not isinstance(results, dict) or not all(
            isinstance(key, str) and isinstance(value, dict) for key, value in results.items()
        ):
            raise TypeError("results is not a mapping of probe answers")
        if cpu_s is not None and (not isinstance(cpu_s, (int, float)) or isinstance(cpu_s, bool)):
            raise TypeError("cpu_s is not a number")
        trip.remote_clock, trip.results, trip.cpu_s = float(clock), results, cpu_s
    except (IndexError, ValueError, KeyError, TypeError, SyntaxError, MemoryError, RecursionError):
        text = stderr.decode(errors="replace").strip().splitlines()
        if status == 127:
            trip.probe_error = "python3 not found on the host"
        else:
            trip.probe_error = f"probe script failed (exit {status}): {text[-1] if text else 'no output'}"
