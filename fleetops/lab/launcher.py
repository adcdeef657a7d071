"""Keep one lab container running: the supervisor process behind each lab host.

Started detached by ``fleetops lab up``; it moves itself into the host's own cgroups, runs
``systemd-nspawn --boot`` and restarts it when the container asks for a reboot (nspawn exits
with 133), so ``systemctl reboot`` inside a host works. SIGTERM is forwarded to nspawn, which
shuts the container's systemd down cleanly, and then the launcher exits.

Usage (internal): ``python -m fleetops.lab.launcher LAB HOST [--memory-max BYTES] -- systemd-nspawn ...``
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from fleetops.lab import cgroups

REBOOT_EXIT_CODE = 133
# a host that reboots this often in a minute is crash-looping and is left down; firmware trials
# legitimately reboot up to bootlimit+1 times in a few seconds, so the valve sits well above that
MAX_FAST_RESTARTS = 12


def supervise(lab: str, host: str, argv: list[str], memory_max: int | None = None) -> int:
    cgroups.enter(lab, host, memory_max)
    stopping = False
    child: subprocess.Popen[bytes] | None = None

    def _stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    restarts: list[float] = []
    while True:
        child = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
        code = child.wait()
        if stopping or code != REBOOT_EXIT_CODE:
            return code
        now = time.monotonic()
        restarts = [t for t in restarts if now - t < 60] + [now]
        if len(restarts) > MAX_FAST_RESTARTS:
            print(f"launcher: {host} rebooted {len(restarts)} times in a minute; giving up", file=sys.stderr)
            return code


def main(args: list[str]) -> int:
    memory_max = None
    if len(args) > 3 and args[2] == "--memory-max":
        memory_max, args = int(args[3]), args[:2] + args[4:]
    if len(args) < 4 or args[2] != "--":
        print("usage: python -m fleetops.lab.launcher LAB HOST [--memory-max BYTES] -- COMMAND...", file=sys.stderr)
        return 2
    return supervise(args[0], args[1], args[3:], memory_max)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
