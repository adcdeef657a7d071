"""``fleetops check``: health checks across the inventory, every output format from one run.

Exit codes follow the Nagios plugin contract in every output mode: 0 OK, 1 WARNING,
2 CRITICAL, 3 UNKNOWN (also for bad input or a missing prerequisite, which change nothing).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from fleetops.cli.options import inventory_options, output_path, setup_logging
from fleetops.errors import FleetopsError

EXIT_UNKNOWN = 3


class CheckGroup(click.Group):
    """``fleetops check`` runs checks; ``fleetops check history`` reads past runs.

    Errors exit 3 (UNKNOWN) here, not the usual 2, so monitoring that runs ``fleetops check``
    as a Nagios plugin reads bad input as UNKNOWN instead of CRITICAL.
    """

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except FleetopsError as error:
            click.echo(f"fleetops: error: {error}", err=True)
            ctx.exit(EXIT_UNKNOWN)
        except click.UsageError as error:
            error.exit_code = EXIT_UNKNOWN  # type: ignore[misc]  # click reads it per instance
            raise

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            error.exit_code = EXIT_UNKNOWN  # type: ignore[misc]  # click reads it per instance
            raise


@click.group(cls=CheckGroup, invoke_without_command=True)
@inventory_options
@click.option(
    "--suite",
    default="default",
    show_default=True,
    metavar="NAME|FILE",
    help="Bundled suite name (checks/suites/NAME.yml) or a suite YAML file.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0.5, 600),
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="Per-host limit; a slower host is reported, not waited for.",
)
@click.option(
    "--json",
    "json_out",
    is_flag=False,
    flag_value="-",
    default=None,
    metavar="FILE",
    help="Write results as JSON to FILE (or stdout with a bare --json).",
)
@click.option("--junit", "junit_out", metavar="FILE", help="Write JUnit XML (one testcase per host x check).")
@click.option(
    "--prometheus", "prometheus_out", metavar="FILE", help="Write a node_exporter textfile-collector .prom file."
)
@click.option("--html", "html_out", metavar="FILE", help="Write a self-contained HTML report.")
@click.option("--nagios", is_flag=True, help="Print one Nagios status line instead of the table.")
@click.option("--list", "list_only", is_flag=True, help="Show which checks would run per host; run nothing.")
@click.option("--no-history", is_flag=True, help="Do not append this run to the local history.")
@click.option("-v", "--verbose", count=True, help="More detail; -v lists OK checks too.")
@click.option("-q", "--quiet", is_flag=True, help="No table; only errors and the written files.")
@click.pass_context
def check(
    ctx: click.Context,
    inventory: str | None,
    limit: tuple[str, ...],
    exclude: tuple[str, ...],
    parallel: int | None,
    suite: str,
    timeout: float,
    json_out: str | None,
    junit_out: str | None,
    prometheus_out: str | None,
    html_out: str | None,
    nagios: bool,
    list_only: bool,
    no_history: bool,
    verbose: int,
    quiet: bool,
) -> None:
    """Run a check suite on every selected host (all hosts at once, one SSH round trip each).

    \b
    fleetops check
    fleetops check --suite baseline --limit web -v
    fleetops check --json run.json --junit junit.xml --prometheus fleet.prom --html report.html
    fleetops check --nagios            # one line; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN
    fleetops check history --since 1d
    """
    if ctx.invoked_subcommand is not None:
        return
    setup_logging(verbose, quiet)
    from fleetops.checking.plan import plan
    from fleetops.checks.suite import load_suite
    from fleetops.inventory import resolve_inventory

    if nagios and json_out == "-":
        raise click.UsageError("--nagios and a bare --json both print to stdout; give --json a FILE")
    outputs = {
        "--json": output_path(json_out, "--json"),
        "--junit": output_path(junit_out, "--junit"),
        "--prometheus": output_path(prometheus_out, "--prometheus"),
        "--html": output_path(html_out, "--html"),
    }
    loaded = load_suite(suite)
    inventory_path = resolve_inventory(inventory)
    work = plan(inventory_path, loaded, limit, exclude)
    if list_only:
        _print_plan(work, as_json=json_out == "-")
        return
    run = _sweep(
        work,
        loaded.name,
        str(inventory_path),
        timeout,
        parallel,
        progress=not (quiet or nagios or json_out == "-") and sys.stderr.isatty(),
    )
    _write_outputs(run, outputs, json_stdout=json_out == "-")
    if not no_history:
        from fleetops.checking import history

        history.append(run)
    if nagios:
        from fleetops.checking.outputs.nagios import status_line

        click.echo(status_line(run))
    elif json_out == "-":
        pass
    elif not quiet:
        _print_results(run, verbose)
    ctx.exit(int(run.status))


def _sweep(work, suite: str, inventory: str, timeout: float, parallel: int | None, progress: bool):
    from fleetops.checking.engine import sweep

    if not progress:
        return sweep(work, suite=suite, inventory=inventory, timeout=timeout, parallel=parallel)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("checking"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(file=sys.stderr),
        transient=True,
    ) as bar:
        task = bar.add_task("hosts", total=len(work))
        return sweep(
            work,
            suite=suite,
            inventory=inventory,
            timeout=timeout,
            parallel=parallel,
            on_host_done=lambda host, status: bar.advance(task),
        )


def _write_outputs(run, outputs: dict[str, Path | None], json_stdout: bool) -> None:
    import json

    from fleetops.checking.outputs import html, junit, prometheus
    from fleetops.fileutil import atomic_write_text

    writers = {"--junit": junit.write, "--prometheus": prometheus.write, "--html": html.write}
    data = run.to_dict()
    if json_stdout:
        click.echo(json.dumps(data, indent=2, default=str))
    elif outputs["--json"]:
        atomic_write_text(outputs["--json"], json.dumps(data, indent=2, default=str) + "\n")
    for option, writer in writers.items():
        target = outputs[option]
        if target is not None:
            writer(run, target)
    for option, path in outputs.items():
        if path:
            click.echo(f"{option[2:]}: {path}", err=True)


def _print_results(run, verbose: int) -> None:
    from fleetops.checks.result import Status
    from fleetops.cli.render import print_table

    shown = [result for result in run.results if verbose or result.status != Status.OK]
    shown.sort(key=lambda result: (-result.status.rank, result.host, result.check))
    if shown:
        print_table(
            "checks" if verbose else "checks not OK",
            ["host", "check", "status", "value", "message"],
            [(r.host, r.check, r.status.label, _shown_value(r.value, r.unit), r.message) for r in shown],
        )
    counts = run.counts()
    host_status = run.host_status()
    print_table(
        "hosts",
        ["host", "status", "ok", "warning", "critical", "unknown"],
        [
            (host, status.label, *(sum(1 for r in run.results if r.host == host and r.status == s) for s in Status))
            for host, status in sorted(host_status.items(), key=lambda item: (-item[1].rank, item[0]))
        ],
    )
    click.echo(
        f"{run.status.label.upper()}: {counts['ok']} ok, {counts['warning']} warning, "
        f"{counts['critical']} critical, {counts['unknown']} unknown on {len(host_status)} "
        f"hosts in {run.finished - run.started:.2f}s (suite {run.suite})"
    )


def _shown_value(value: object, unit: str) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}{unit}"
    return f"{value}{unit}"


def _print_plan(work, as_json: bool) -> None:
    from fleetops.cli.render import print_json, print_table

    data = {
        item.plan.host: [
            {"name": c.name, "kind": c.kind, "where": c.where, "warn": c.warn, "crit": c.crit, "severity": c.severity}
            for c in item.plan.checks
        ]
        for item in work
    }
    if as_json:
        print_json(data)
        return
    print_table(
        "planned checks",
        ["host", "check", "kind", "where", "warn", "crit", "severity"],
        [
            (host, c["name"], c["kind"], c["where"], c["warn"], c["crit"], c["severity"])
            for host, checks in data.items()
            for c in checks
        ],
    )


from fleetops.cli.check_history import history  # noqa: E402  (registers the sub-command)

check.add_command(history)
