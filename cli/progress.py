"""A rich progress display on stderr for long runs (quiet when not a terminal)."""

from __future__ import annotations

import sys

from fleetops.runner.deploy import Progress


class RichProgress(Progress):
    """Shows the current stage and a bar of operations done across all hosts."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._progress = None
        self._task = None

    def __enter__(self) -> "RichProgress":
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn, TimeElapsedColumn

            self._progress = Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=Console(file=sys.stderr), transient=True)
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def stage(self, name: str, total: int | None = None) -> None:
        if self._progress is None:
            return
        if self._task is not None:
            self._progress.remove_task(self._task)
        self._task = self._progress.add_task(name, total=total)

    def advance(self, host: str, ok: bool) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task)
