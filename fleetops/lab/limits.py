"""Kernel limits that many containers on one kernel run into.

Every host's systemd (PID 1) and its services open inotify instances, all counted against root's
``fs.inotify.max_user_instances`` on the shared kernel (128 by default). Past about 17 hosts new
containers die at boot with "Failed to allocate manager object: Too many open files". The lab
raises the limit before starting hosts; it never lowers it (other software may rely on it).
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)

INOTIFY_INSTANCES = Path("/proc/sys/fs/inotify/max_user_instances")
INSTANCES_PER_HOST = 16  # measured: about 7 per booted host; headroom for services
BASE_INSTANCES = 256


def wanted_inotify_instances(total_hosts: int) -> int:
    return BASE_INSTANCES + INSTANCES_PER_HOST * total_hosts


def ensure_inotify_instances(total_hosts: int, path: Path = INOTIFY_INSTANCES) -> int:
    """Raise ``max_user_instances`` to fit ``total_hosts``; returns the value in force."""
    current = int(path.read_text().strip())
    wanted = wanted_inotify_instances(total_hosts)
    if current >= wanted:
        return current
    try:
        path.write_text(f"{wanted}\n")
    except OSError as error:
        log.warning(
            "cannot raise %s to %d (%s); hosts beyond about %d may fail to boot", path, wanted, error, current // 8
        )
        return current
    log.info("raised %s from %d to %d for %d hosts", path, current, wanted, total_hosts)
    return wanted
