"""The one fan-out every multi-host verb uses outside pyinfra's own runner (backup, edge releases,
report, model deploy): one worker per host up to ``--parallel``, results in the hosts' order."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")
DEFAULT_PARALLEL = 32


def per_host(items: Sequence[Item], work: Callable[[Item], Result], parallel: int | None = None) -> list[Result]:
    """``work(item)`` for every item, at most ``parallel`` at once (default 32); the work itself
    turns a host's failure into its result, so one host never stops the others."""
    if not items:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(parallel or DEFAULT_PARALLEL, len(items)))) as pool:
        return list(pool.map(work, items))
