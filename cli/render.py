"""Human tables (rich) and JSON for command results; data goes to stdout."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence

import click

STATUS_STYLE = {
    "ok": "green",
    "changed": "yellow",
    "pending": "yellow",
    "failed": "red",
    "unreachable": "magenta",
    "running": "green",
    "degraded": "yellow",
}


def print_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        cells = []
        for value in row:
            text = "" if value is None else str(value)
            style = STATUS_STYLE.get(text)
            cells.append(f"[{style}]{text}[/{style}]" if style else escape(text))
        table.add_row(*cells)
    width = None if sys.stdout.isatty() else 200  # pipes and logs get whole rows, not wraps
    Console(file=sys.stdout, soft_wrap=False, width=width).print(table)
