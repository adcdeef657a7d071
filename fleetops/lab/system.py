"""Thin, logged wrappers around the host commands the lab needs (mount, ip, iptables, ...)."""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Sequence

from fleetops.errors import EnvironmentProblem

log = logging.getLogger("fleetops.lab")


def run(
    argv: Sequence[str], *, check: bool = True, capture: bool = True, timeout: float | None = 600
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` (never through a shell) and raise with its stderr on failure."""
    log.debug("run: %s", " ".join(argv))
    proc = subprocess.run(list(argv), text=True, capture_output=capture, timeout=timeout)
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout or "").strip().splitlines()
        tail = detail[-1] if detail else f"exit {proc.returncode}"
        raise EnvironmentProblem(f"command failed: {' '.join(argv)}: {tail}")
    return proc


def require_tools(*names: str) -> None:
    """Fail with one line naming every missing host tool."""
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        raise EnvironmentProblem(
            "missing host tools: "
            + ", ".join(missing)
            + " (install: apt-get install systemd-container debootstrap iptables iproute2)"
        )
