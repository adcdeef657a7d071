"""Capture the diffs pyinfra computes while planning, per host and operation.

pyinfra reports file diffs through its logger while it plans an operation (``config.DIFF``).
This handler attributes each diff line to the host and operation being planned (pyinfra's
context is per greenlet), strips colours and keeps it for the run record; secrets are redacted
when the record is built.
"""

from __future__ import annotations

import logging
from collections import defaultdict

import click
from pyinfra.context import ctx_host


class DiffCapture(logging.Handler):
    """A logging handler on the ``pyinfra`` logger that keeps diff lines per (host, op)."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.lines: dict[tuple[str, str | None], list[str]] = defaultdict(list)
        self._saved_level = logging.NOTSET

    def emit(self, record: logging.LogRecord) -> None:
        if not ctx_host.isset():
            return
        host = ctx_host.get()
        message = click.unstyle(record.getMessage())
        if message.startswith("  ") or message.lstrip().startswith(("Will create", "Will modify")):
            key = (host.name, host.current_op_hash)
            self.lines[key].append(message.rstrip())

    def diff_for(self, host: str, op_hash: str) -> str | None:
        lines = self.lines.get((host, op_hash))
        return "\n".join(lines) if lines else None

    def attach(self) -> None:
        """Listen on pyinfra's logger; lower its level so INFO diff lines reach this handler
        (console handlers filter by their own level, so nothing extra is printed)."""
        logger = logging.getLogger("pyinfra")
        self._saved_level = logger.level
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)
        logger.addHandler(self)

    def detach(self) -> None:
        logger = logging.getLogger("pyinfra")
        logger.removeHandler(self)
        logger.setLevel(self._saved_level)
