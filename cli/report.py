"""``fleetops report``: CPU, memory, disk, network (and GPU) over a window, inference figures from
the edge app logs, fleet aggregates, and regressions against a saved baseline."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from fleetops.cli.options import inventory_options, output_path, setup_logging


@click.command()
@inventory_options
@click.option("--window", default="60s", show_default=True, help="Sampling window, e.g. 30s or 2m.")
@click.option("--html", "html_out", type=click.Path(path_type=Path), help="Write an HTML report with charts.")
@click.option("--csv", "csv_out", type=click.Path(path_type=Path), help="Write one CSV row per host.")
@click.option("--json", "json_out", type=click.Path(path_type=Path), help="Write the report as JSON.")
@click.option("--baseline", type=click.Path(path_type=Path), help="A saved report to compare with.")
@click.option("--save-baseline", type=click.Path(path_type=Path), help="Also save this report as a baseline.")
@click.option("-q", "--quiet", is_flag=True)
def report(
    inventory, limit, exclude, parallel, window, html_out, csv_out, json_out, baseline, save_baseline, quiet
) -> None:
    """Sample every host over the same window and report (exit 1: unreachable hosts or regressions).

    \b
    fleetops report --window 30s --html report.html --csv report.csv --json report.json
    fleetops report --window 60s --save-baseline baseline.json
    fleetops report --baseline baseline.json
    """
    setup_logging(0, quiet)
    from fleetops.checking.target import SshTarget
    from fleetops.cli.render import print_table
    from fleetops.errors import InputError
    from fleetops.inventory import load_inventory, resolve_inventory, select_hosts
    from fleetops.report import collect, outputs

    seconds = collect.parse_window(window)
    for option, path in (
        ("--html", html_out),
        ("--csv", csv_out),
        ("--json", json_out),
        ("--save-baseline", save_baseline),
    ):
        output_path(path, option)
    previous = None
    if baseline is not None:
        try:
            previous = json.loads(baseline.read_text())
        except (OSError, ValueError) as error:
            raise InputError(f"--baseline {baseline}: {error}") from None
        if previous.get("format") != "fleetops.report/v1":
            raise InputError(f"--baseline {baseline}: not a fleetops report")
    targets = [
        SshTarget.from_host(host) for host in select_hosts(load_inventory(resolve_inventory(inventory)), limit, exclude)
    ]
    if not quiet:
        click.echo(f"sampling {len(targets)} host(s) for {seconds:g} s ...", err=True)
    data = collect.build(targets, seconds, parallel)
    if previous is not None:
        data["baseline"] = str(baseline)
        data["regressions"] = collect.compare(data, previous)
    for path, writer in (
        (html_out, outputs.write_html),
        (csv_out, outputs.write_csv),
        (json_out, outputs.write_json),
        (save_baseline, outputs.write_json),
    ):
        if path is not None:
            writer(data, path)
            click.echo(f"wrote {path}", err=True)
    if not quiet:
        rows = outputs.rows(data)
        print_table(
            f"performance over {seconds:g} s",
            ["host", "cpu %", "mem %", "disk %", "rx B/s", "tx B/s", "gpu", "inferences", "p95 ms", "error"],
            [
                (
                    r["host"],
                    r["cpu_pct"],
                    r["mem_pct"],
                    r["disk_pct"],
                    r["net_rx_bps"],
                    r["net_tx_bps"],
                    r["gpu"],
                    r["inferences"],
                    r["latency_p95_ms"],
                    r["error"],
                )
                for r in rows
            ],
        )
        for item in data["regressions"]:
            click.echo(f"regression: {item['host']} {item['metric']} {item['baseline']} -> {item['now']}")
    if data["fleet"]["reachable"] < data["fleet"]["hosts"] or data["regressions"]:
        sys.exit(1)
