"""``fleetops runs``: list and show the JSON run records deploys leave behind."""

from __future__ import annotations

import json

import click

from fleetops.cli.render import print_json, print_table
from fleetops.errors import InputError


@click.group()
def runs() -> None:
    """Run records (one JSON file per deploy run).

    \b
    fleetops runs list
    fleetops runs show latest
    """


def _records():
    from fleetops.paths import runs_dir

    return sorted(runs_dir().glob("*.json"))


@runs.command("list")
@click.option("--last", type=click.IntRange(1, 1000), default=20, help="How many to show.")
def list_runs(last: int) -> None:
    """The most recent run records, newest last."""
    rows = []
    for path in _records()[-last:]:
        data = json.loads(path.read_text())
        s = data["summary"]
        rows.append(
            (
                data["run_id"],
                data["deploy"],
                data["status"],
                s["hosts"],
                s["changed"],
                s["failed"],
                s["unreachable"],
                f"{data['duration_s']:.1f}s",
            )
        )
    print_table("run records", ["run", "deploy", "status", "hosts", "changed", "failed", "unreachable", "time"], rows)


@runs.command("show")
@click.argument("run_id")
def show(run_id: str) -> None:
    """Print one record as JSON (RUN_ID or 'latest')."""
    records = _records()
    if run_id == "latest":
        if not records:
            raise InputError("no run records yet")
        path = records[-1]
    else:
        matches = [p for p in records if p.stem == run_id]
        if not matches:
            raise InputError(f"no run record {run_id!r}")
        path = matches[0]
    print_json(json.loads(path.read_text()))
