"""Where fleetops keeps state, caches and its bundled resources.

State (lab fleets, run records) and caches (golden images) live outside the repository so a
fresh clone stays clean; both can be moved with environment variables, which tests use.
"""

from __future__ import annotations

import os
from pathlib import Path


def _base(env: str, root_default: str, user_default: str) -> Path:
    if os.environ.get(env):
        return Path(os.environ[env])
    if os.geteuid() == 0:
        return Path(root_default)
    return Path(os.path.expanduser(user_default))


def state_dir() -> Path:
    """Persistent state: labs, run records, history (``FLEETOPS_STATE_DIR``)."""
    return _base("FLEETOPS_STATE_DIR", "/var/lib/fleetops", "~/.local/state/fleetops")


def cache_dir() -> Path:
    """Rebuildable caches such as the golden root filesystem (``FLEETOPS_CACHE_DIR``)."""
    return _base("FLEETOPS_CACHE_DIR", "/var/cache/fleetops", "~/.cache/fleetops")


def runs_dir() -> Path:
    """Where each deploy run writes its JSON run record (``FLEETOPS_RUNS_DIR`` overrides)."""
    if os.environ.get("FLEETOPS_RUNS_DIR"):
        return Path(os.environ["FLEETOPS_RUNS_DIR"])
    return state_dir() / "runs"


def package_root() -> Path:
    """The installed ``fleetops`` package directory."""
    return Path(__file__).resolve().parent


def schema_path(name: str) -> Path:
    """A JSON schema bundled with fleetops, e.g. ``run-record.v1.json``."""
    return package_root() / "schemas" / name
