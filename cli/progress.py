"""Progress on stderr for long runs: a rich bar on a terminal, plain lines in a pipe or log (a
286 s converge piped to a file must not stay silent until the end)."""

from __future__ import annotations

import sys
import time
from typing import Any

from fleetops.runner.deploy import Progress


class RichProgress(Progress):
    """Shows the current stage and a bar of operations done across all hosts."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._progress: Any = None  # rich's Progress, made on __enter__
        self._task: Any = None

    def __enter__(self) -> "RichProgress":
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn, TimeElapsedColumn

            self._progress = Bar(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(file=sys.stderr),
                transient=True,
            )
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


class LineProgress(Progress):
    """One line per stage, then one whenever another tenth of the work is done or 15 s passed."""

    def __init__(self, label: str, every_s: float = 15.0) -> None:
        self.label, self.every_s = label, every_s
        self.name, self.done, self.failed = "", 0, 0
        self.total: int | None = None
        self.started = self.last = time.monotonic()
        self.last_tenth = 0

    def __enter__(self) -> "LineProgress":
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def _say(self, text: str) -> None:
        print(f"{self.label}: {text} ({time.monotonic() - self.started:.0f}s)", file=sys.stderr, flush=True)

    def stage(self, name: str, total: int | None = None) -> None:
        self.name, self.total, self.done, self.failed, self.last_tenth = name, total, 0, 0, 0
        self.last = time.monotonic()
        self._say(f"{name}" + (f": {total} to do" if total is not None else ""))

    def advance(self, host: str, ok: bool) -> None:
        self.done += 1
        self.failed += 0 if ok else 1
        tenth = int(10 * self.done / self.total) if self.total else 0
        now = time.monotonic()
        if tenth > self.last_tenth or now - self.last >= self.every_s:
            self.last_tenth, self.last = tenth, now
            failed = f", {self.failed} failed" if self.failed else ""
            self._say(f"{self.name} {self.done}/{self.total if self.total is not None else '?'}{failed}")


def progress_for(label: str, quiet: bool, as_json: bool) -> Progress:
    """The progress display that fits where stderr goes (none with -q or --json)."""
    if quiet or as_json:
        return RichProgress(enabled=False)
    if sys.stderr.isatty():
        return RichProgress(enabled=True)
    return LineProgress(label)
