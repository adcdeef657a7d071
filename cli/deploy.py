"""``fleetops deploy``: run a pyinfra deploy file against the inventory, in-process."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from fleetops.cli.options import inventory_options, output_options
from fleetops.cli.render import print_json, print_table

EXIT_OK, EXIT_HOSTS_FAILED, EXIT_PENDING = 0, 1, 4


@click.command()
@click.argument("deploy_file", type=click.Path(path_type=Path))
@inventory_options
@click.option(
    "--dry", is_flag=True, help="Plan only: change nothing, show what would change; exit 4 if anything would."
)
@click.option("--diff", "show_diff", is_flag=True, help="Print file diffs (secrets masked).")
@click.option("--yes", "-y", is_flag=True, help="Apply without asking, even on a terminal.")
@output_options
def deploy(
    deploy_file: Path,
    inventory: str | None,
    limit: tuple[str, ...],
    exclude: tuple[str, ...],
    parallel: int | None,
    dry: bool,
    show_diff: bool,
    yes: bool,
    verbose: int,
    quiet: bool,
    as_json: bool,
) -> None:
    """Run DEPLOY_FILE (any pyinfra deploy file) and write a run record.

    \b
    fleetops deploy deploys/baseline.py
    fleetops deploy deploys/baseline.py --limit web --dry --diff
    fleetops deploy my_deploy.py -i inventories/prod.py --json > record.json
    """
    from fleetops.inventory import resolve_inventory
    from fleetops.runner import deploy as runner

    options = runner.DeployOptions(
        deploy_file=deploy_file,
        inventory=resolve_inventory(inventory),
        limit=limit,
        exclude=exclude,
        parallel=parallel,
        dry=dry,
        verbosity=verbose,
    )
    interactive = sys.stdin.isatty() and not (yes or dry or as_json)
    run_and_report(
        options, quiet=quiet, as_json=as_json, show_diff=show_diff, confirm=_confirm if interactive else None
    )


def run_and_report(
    options, *, quiet: bool, as_json: bool, show_diff: bool = False, confirm=None, label: str | None = None
) -> None:
    """Run a deploy through the runner, write its run record, print it, exit with the documented
    code. Shared by every verb that changes hosts (``deploy``, ``edge rollback``)."""
    from fleetops.cli.progress import progress_for
    from fleetops.runner import deploy as runner
    from fleetops.runner import record as records

    with progress_for(label or Path(options.deploy_file).name, quiet, as_json) as progress:
        result = runner.run_deploy(options, progress, confirm=confirm)
    if label:
        result.deploy = label
    data = result.to_dict()
    records.validate(data)
    path = records.write(data)
    if as_json:
        print_json(data)
    else:
        if show_diff:
            _print_diffs(data)
        if not quiet:
            _print_summary(data)
        click.echo(f"run record: {path}", err=True)
    if data["summary"]["failed"] or data["summary"]["unreachable"]:
        sys.exit(EXIT_HOSTS_FAILED)
    if options.dry and data["status"] == "pending":
        sys.exit(EXIT_PENDING)


def _confirm(planned: dict) -> bool:
    _print_summary(planned, title="planned changes")
    return click.confirm("Apply these changes?", default=False, err=True)


def _print_diffs(data: dict) -> None:
    for host, result in data["hosts"].items():
        for op in result["operations"]:
            if op["diff"]:
                click.echo(f"--- {host}: {op['name']}")
                click.echo(op["diff"])


def _print_summary(data: dict, title: str | None = None) -> None:
    rows = []
    for host, result in data["hosts"].items():
        status = "pending" if data["dry_run"] and result["status"] == "changed" else result["status"]
        rows.append(
            (
                host,
                status,
                result["changed"],
                result["ok"],
                result["failed"],
                f"{result['duration_s']:.1f}s",
                result["error"] or "",
            )
        )
    summary = data["summary"]
    title = title or (
        f"{Path(data['deploy']).name}{' (dry run)' if data['dry_run'] else ''}: "
        f"{summary['hosts']} hosts, {summary['changed']} changed, {summary['ok']} ok, "
        f"{summary['failed']} failed, {summary['unreachable']} unreachable in {data['duration_s']:.1f}s"
    )
    print_table(title, ["host", "status", "changed", "ok", "failed", "time", "error"], rows)
