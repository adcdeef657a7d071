"""User-facing errors: one clear line, a non-zero exit code, nothing changed."""

from __future__ import annotations


class FleetopsError(Exception):
    """An error caused by the user's input or environment, reported as one line.

    The CLI prints ``str(error)`` without a traceback and exits with ``exit_code``.
    """

    exit_code = 2

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class InputError(FleetopsError):
    """Bad inventory, group data, spec or CLI arguments (exit 2)."""


class EnvironmentProblem(FleetopsError):
    """The controller lacks something a command needs, e.g. root or systemd-nspawn (exit 3)."""

    exit_code = 3
