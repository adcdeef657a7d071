"""The ``fleetops`` click application: one group, one module per verb, imported lazily.

``fleetops --help`` must stay fast (no pyinfra, gevent or paramiko import), so verbs are
registered by module path with their one-line help and an example, and loaded on use.
"""

from __future__ import annotations

import importlib

import click

from fleetops import __version__
from fleetops.errors import FleetopsError

# verb -> (module, attribute, one-line help with an example)
VERBS: dict[str, tuple[str, str, str]] = {
    "edge": (
        "fleetops.cli.edge",
        "edge",
        "Edge app releases: list, roll back.  e.g. fleetops edge rollback --limit gw1",
    ),
    "lab": ("fleetops.cli.lab", "lab", "Local lab fleet of systemd-nspawn hosts.  e.g. fleetops lab up --hosts 3"),
    "backup": (
        "fleetops.cli.backup",
        "backup",
        "MySQL/MariaDB backups: run, list, restore, verify.  e.g. fleetops backup verify",
    ),
    "check": (
        "fleetops.cli.check",
        "check",
        "Health checks across the inventory.  e.g. fleetops check --html report.html",
    ),
    "deploy": (
        "fleetops.cli.deploy",
        "deploy",
        "Run a pyinfra deploy file.  e.g. fleetops deploy deploys/baseline.py --dry",
    ),
    "model": (
        "fleetops.cli.model",
        "model",
        "Model pipeline: convert, quantize, inspect, deploy.  e.g. fleetops model convert --model digits --out models/digits",
    ),
    "smoke": (
        "fleetops.cli.smoke",
        "smoke",
        "Inference smoke tests on edge gateways.  e.g. fleetops smoke --junit smoke.xml",
    ),
    "report": (
        "fleetops.cli.report",
        "report",
        "Performance report over a window.  e.g. fleetops report --window 30s --html r.html",
    ),
    "exam": (
        "fleetops.cli.exam",
        "exam",
        "Practical exams on lab seats: provision, grade, report, reset with proof.  e.g. fleetops exam validate exams/a-j-services",
    ),
    "rollout": (
        "fleetops.cli.rollout",
        "rollout",
        "Deploy in batches, fleet-wide failure budget.  e.g. fleetops rollout deploys/baseline.py --canary 1",
    ),
    "cloud": (
        "fleetops.cli.cloud",
        "cloud",
        "Cloud instances: plan, create + deploy + check in one run, destroy.  e.g. fleetops cloud apply --deploy deploys/baseline.py",
    ),
    "firmware": (
        "fleetops.cli.firmware",
        "firmware",
        "A/B firmware: build and verify signed bundles, health-gated updates.  e.g. fleetops firmware update fw.swu --canary 1",
    ),
    "schedule": (
        "fleetops.cli.schedule",
        "schedule",
        "Scheduled checks, deploys, backups on systemd timers, with history and notifications.  e.g. fleetops schedule add health --every 15m -- check",
    ),
    "runs": ("fleetops.cli.runs", "runs", "List and show run records.  e.g. fleetops runs show latest"),
}


def patch_standard_library() -> None:
    """gevent's monkey-patching, once, before any verb (and so pyinfra, paramiko, ssl) is
    imported: the one place fleetops does it. ``--help`` never gets here, so it stays fast."""
    from gevent import monkey

    if not monkey.is_module_patched("socket"):
        monkey.patch_all()


class LazyGroup(click.Group):
    """A click group whose sub-commands are imported only when invoked."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(VERBS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in VERBS:
            return None
        patch_standard_library()
        module, attribute, _help = VERBS[name]
        return getattr(importlib.import_module(module), attribute)

    def invoke(self, ctx: click.Context) -> object:
        """User errors become one line on stderr and their documented exit code."""
        try:
            return super().invoke(ctx)
        except FleetopsError as error:
            click.echo(f"fleetops: error: {error}", err=True)
            ctx.exit(error.exit_code)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, VERBS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fleetops")
def app() -> None:
    """fleetops: declarative pyinfra deploys, a local lab fleet and ops checks.

    Without -i, commands use the running lab's inventory (see `fleetops lab up`).
    Exit codes: 0 ok, 1 a host failed or was unreachable, 2 bad input,
    3 missing prerequisite, 4 dry run found pending changes.
    """


def main() -> None:
    """Console entry point."""
    app(prog_name="fleetops")
