"""``fleetops edge``: operate the edge app on gateways (release rollback, release listing)."""

from __future__ import annotations

import sys
from typing import Any

import click

from fleetops.cli.options import inventory_options


@click.group()
def edge() -> None:
    """Edge app releases on the gateways (group `gateway` unless --limit says otherwise).

    \b
    fleetops edge releases
    fleetops edge rollback --limit gw1
    """


@edge.command()
@inventory_options
@click.option("--json", "as_json", is_flag=True)
def releases(inventory, limit, exclude, parallel, as_json) -> None:
    """Releases side by side on each gateway, newest first, and which one is current."""
    from fleetops.cli.render import print_json, print_table
    from fleetops.facts.releases import LinkTarget, SideBySide
    from fleetops.inventory import load_inventory, resolve_inventory, select_hosts
    from fleetops.remote_exec import read_facts
    from fleetops.edge.layout import ROOT

    hosts = select_hosts(load_inventory(resolve_inventory(inventory)), limit or ("gateway",), exclude)
    answers = read_facts(
        hosts,
        {
            "releases": (SideBySide(), {"path": f"{ROOT}/releases"}),
            "current": (LinkTarget(), {"path": f"{ROOT}/current"}),
        },
        parallel=parallel,
    )
    rows: list[dict[str, Any]] = []
    for answer in answers:
        current = (answer.facts.get("current") or "").rsplit("/", 1)[-1]
        rows.append(
            {
                "host": answer.host,
                "ok": answer.ok,
                "error": answer.error,
                "releases": [
                    {"release": entry["name"], "current": entry["name"] == current, "time": entry["mtime"]}
                    for entry in answer.facts.get("releases") or []
                ],
            }
        )
    if as_json:
        print_json(rows)
    else:
        print_table(
            "edge releases",
            ["host", "release", "current", "error"],
            [
                (row["host"], line["release"], "yes" if line["current"] else "", row["error"])
                for row in rows
                for line in (row["releases"] or [{"release": "", "current": False}])
            ],
        )
    if not all(row["ok"] for row in rows):
        sys.exit(1)


@edge.command()
@inventory_options
@click.option("--json", "as_json", is_flag=True, help="The run record as JSON on stdout.")
@click.option("-q", "--quiet", is_flag=True)
def rollback(inventory, limit, exclude, parallel, as_json, quiet) -> None:
    """Switch each gateway back to its previous release, restart, and wait until it is ready.

    Runs through the deploy runner (the edge role's own steps) and writes a run record. The next
    `fleetops deploy deploys/edge.py` installs the declared release again.
    """
    from fleetops.cli.deploy import run_and_report
    from fleetops.inventory import resolve_inventory
    from fleetops.runner.deploy import DeployOptions
    from fleetops.tasks import task

    options = DeployOptions(
        deploy_file=task("edge_rollback"),
        inventory=resolve_inventory(inventory),
        limit=limit or ("gateway",),
        exclude=exclude,
        parallel=parallel,
    )
    run_and_report(options, quiet=quiet, as_json=as_json, label="edge rollback")
