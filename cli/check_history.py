"""``fleetops check history``: state changes (ok -> critical, critical -> ok) from past runs."""

from __future__ import annotations

import click


@click.command()
@click.option("--host", metavar="HOST", help="Only this host.")
@click.option("--check", "check_name", metavar="NAME", help="Only this check.")
@click.option("--since", metavar="WHEN", help="30m, 2h, 7d or an ISO time (default: all history).")
@click.option("--runs", "show_runs", is_flag=True, help="List recent runs instead of state changes.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")
def history(host: str | None, check_name: str | None, since: str | None, show_runs: bool, as_json: bool) -> None:
    """Show changes of state recorded by past `fleetops check` runs.

    \b
    fleetops check history
    fleetops check history --host db1 --since 2h
    fleetops check history --runs --json
    """
    from fleetops.checking import history as store
    from fleetops.cli.render import print_json, print_table

    if show_runs:
        rows = store.runs()
        if as_json:
            print_json(rows)
        else:
            print_table(
                "check runs",
                ["id", "time", "duration_s", "suite", "status"],
                [(r["id"], r["time"], r["duration_s"], r["suite"], r["status"]) for r in rows],
            )
        return
    changes = store.transitions(host=host, check=check_name, since=store.parse_since(since))
    if as_json:
        print_json(changes)
        return
    if not changes:
        click.echo("no state changes recorded" + (f" since {since}" if since else ""))
        return
    print_table(
        "state changes",
        ["time", "host", "check", "from", "to", "message"],
        [(c["time"], c["host"], c["check"], c["from"], c["to"], c["message"]) for c in changes],
    )
