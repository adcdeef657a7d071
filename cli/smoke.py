"""``fleetops smoke``: inference smoke tests on the gateways; `fleetops check` with the smoke suite.

Every option of ``fleetops check`` works here (``--json``, ``--junit``, ``--html``, ``--nagios``,
``--limit`` ...), and so does its exit code (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
"""

from __future__ import annotations

import click


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []})
@click.pass_context
def smoke(ctx: click.Context) -> None:
    """Send each model's golden inputs to every gateway, then measure latency against a budget.

    \b
    fleetops smoke
    fleetops smoke --limit gw1 --junit smoke.xml --json smoke.json
    Options: those of `fleetops check` (see `fleetops check --help`); the suite defaults to smoke.
    """
    from fleetops.cli.check import check

    args = list(ctx.args)
    if args in (["--help"], ["-h"]):
        click.echo(ctx.get_help())
        return
    if "--suite" not in args:
        args = ["--suite", "smoke", *args]
    if "--limit" not in args:  # gateways only, unless told otherwise
        args = ["--limit", "gateway", *args]
    ctx.exit(check.main(args, prog_name="fleetops smoke", standalone_mode=False) or 0)
