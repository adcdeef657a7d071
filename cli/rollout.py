"""``fleetops rollout``: a deploy in batches (canary first) behind a fleet-wide failure budget."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from fleetops.cli.options import inventory_options, output_options
from fleetops.cli.render import print_json, print_table

EXIT_OK, EXIT_HOSTS_FAILED, EXIT_STOPPED = 0, 1, 7


@click.command()
@click.argument("deploy_file", type=click.Path(path_type=Path))
@inventory_options
@click.option("--canary", type=click.IntRange(0, 1000), default=0, help="Hosts in a first batch of their own.")
@click.option("--batch", metavar="N|P%", help="Hosts per batch after the canary (default: all the rest).")
@click.option("--max-fail", metavar="N|P%", help="Failed or unreachable hosts the whole rollout tolerates (default 0).")
@click.option("--pause", "pause_s", type=click.FloatRange(0, 86400), default=0.0, help="Seconds between batches.")
@click.option(
    "--pause-until-check", "gate_suite", metavar="SUITE", help="Go on only when SUITE passes on the hosts done."
)
@click.option("--resume", metavar="RUN_ID", help="Only the failed, unreachable and unattempted hosts of that rollout.")
@output_options
def rollout(
    deploy_file: Path,
    inventory: str | None,
    limit: tuple[str, ...],
    exclude: tuple[str, ...],
    parallel: int | None,
    canary: int,
    batch: str | None,
    max_fail: str | None,
    pause_s: float,
    gate_suite: str | None,
    resume: str | None,
    verbose: int,
    quiet: bool,
    as_json: bool,
) -> None:
    """Run DEPLOY_FILE in batches; stop when the failure budget is spent.

    \b
    fleetops rollout deploys/baseline.py --canary 1 --batch 2 --max-fail 1
    fleetops rollout deploys/site.py --batch 25% --max-fail 10% --pause-until-check baseline
    fleetops rollout deploys/baseline.py --resume 20261202T101500Z-a1b2c3

    Exit 0 every host done, 1 some hosts failed within the budget, 7 stopped (budget spent or the
    check gate failed; the unattempted hosts are listed), 2 bad input.
    """
    from fleetops.inventory import resolve_inventory
    from fleetops.runner.rollout import RolloutOptions, run_rollout

    if not deploy_file.is_file():
        from fleetops.errors import InputError

        raise InputError(f"deploy file not found: {deploy_file}")
    inventory_path = resolve_inventory(inventory)
    gate = _gate(gate_suite, inventory_path) if gate_suite else None
    say = (lambda _m: None) if (quiet or as_json) else (lambda msg: click.echo(f"rollout: {msg}", err=True))
    options = RolloutOptions(
        deploy_file=deploy_file,
        inventory=inventory_path,
        limit=limit,
        exclude=exclude,
        canary=canary,
        batch=batch,
        max_fail=max_fail,
        pause_s=pause_s,
        gate_suite=gate_suite,
        resume=resume,
        parallel=parallel,
    )
    record, path = run_rollout(options, say, gate)
    data = record.to_dict()
    if as_json:
        print_json(data)
    elif not quiet:
        rows = [
            (name, host["status"], "" if host["batch"] is None else host["batch"] + 1, host.get("changed", ""),
             (host["error"] or "")[:80])
            for name, host in data["hosts"].items()
        ]  # fmt: skip
        s = data["summary"]
        print_table(
            f"rollout of {deploy_file.name}: {data['status']}"
            + (f" ({data['stopped']})" if data["stopped"] else "")
            + f"; {s['ok'] + s['changed']} done, {s['failed']} failed, {s['unreachable']} unreachable, "
            f"{s['unattempted']} unattempted in {data['duration_s']:.1f}s",
            ["host", "status", "batch", "changed", "error"],
            rows,
        )
        click.echo(f"run record: {path}", err=True)
    if data["status"] == "stopped":
        if not as_json and data["summary"]["unattempted"]:
            unattempted = [n for n, h in data["hosts"].items() if h["status"] == "unattempted"]
            click.echo(f"not attempted: {', '.join(unattempted)}; resume with --resume {data['run_id']}", err=True)
        sys.exit(EXIT_STOPPED)
    if data["summary"]["failed"] or data["summary"]["unreachable"]:
        sys.exit(EXIT_HOSTS_FAILED)


def _gate(suite_name: str, inventory_path: Path):
    """The check gate: the suite on the hosts done so far; None when nothing is critical or unknown."""
    from fleetops.checking.engine import sweep
    from fleetops.checking.plan import plan
    from fleetops.checks.suite import load_suite

    suite = load_suite(suite_name)  # a bad suite fails before the first batch

    def gate(hosts: list[str]) -> str | None:
        if not hosts:
            return "no host succeeded"
        run = sweep(plan(inventory_path, suite, tuple(hosts)), suite=suite.name, inventory=str(inventory_path))
        bad = sorted(host for host, status in run.host_status().items() if int(status) >= 2)
        return f"{suite.name} {run.status.label} on {', '.join(bad)}" if bad else None

    return gate
