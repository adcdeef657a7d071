"""``fleetops cloud``: declare instances, plan, create and configure them in one run, list, stop,
start and destroy them (only ever this fleet's, found by its tag)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from fleetops.cli.options import output_options
from fleetops.cli.render import print_json, print_table
from fleetops.errors import InputError

EXIT_OK, EXIT_FAILED, EXIT_PENDING, EXIT_DRIFT = 0, 1, 4, 6

spec_option = click.option(
    "-f",
    "--spec",
    "spec_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Cloud spec YAML (default: inventory/cloud.yml).",
)


def _load(spec_path: Path | None):
    from fleetops.cloud.provider import make_provider
    from fleetops.cloud.spec import DEFAULT_SPEC_PATH, load_cloud_spec

    spec = load_cloud_spec(spec_path or DEFAULT_SPEC_PATH)
    return spec, make_provider(spec)


def _say(quiet: bool, as_json: bool):
    if quiet or as_json:
        return lambda _msg: None
    return lambda msg: click.echo(f"cloud: {msg}", err=True)


@click.group()
def cloud() -> None:
    """Cloud instances as data: plan, create + configure + check in one run, destroy.

    \b
    fleetops cloud plan                          # inventory/cloud.yml
    fleetops cloud apply --deploy deploys/baseline.py --check baseline
    fleetops cloud list --json
    fleetops cloud stop web1 && fleetops cloud start web1
    fleetops cloud destroy --yes                 # only instances tagged with this fleet
    fleetops cloud types --region us-east-1 --zone us-east-1a
    """


@cloud.command("plan")
@spec_option
@output_options
def plan_cmd(spec_path: Path | None, verbose: int, quiet: bool, as_json: bool) -> None:
    """What apply would do: create, start, keep; drift and extras reported. Changes nothing.

    Exit 0 in sync, 4 when apply would create or start instances, 6 on drift or duplicates.
    """
    from fleetops.cloud.apply import make_plan

    spec, provider = _load(spec_path)
    run = make_plan(spec, provider, _say(quiet, as_json))
    if as_json:
        print_json(run.to_dict())
    else:
        _print_actions(run, f"fleet {spec.fleet} on {provider.name}: plan")
    sys.exit(_plan_exit(run.actions))


@cloud.command("apply")
@spec_option
@click.option("--deploy", "deploy_file", type=click.Path(path_type=Path), help="Converge this deploy on the fleet.")
@click.option(
    "--check", "suite", metavar="SUITE", help="Check suite run after the deploy (default with --deploy: baseline)."
)
@click.option("--no-check", is_flag=True, help="No check sweep after the deploy.")
@click.option("--yes", "-y", is_flag=True, help="Apply without asking, even on a terminal.")
@click.option(
    "--ssh-timeout", type=click.FloatRange(5, 3600), default=300.0, show_default=True, help="Seconds to wait."
)
@output_options
def apply_cmd(
    spec_path: Path | None,
    deploy_file: Path | None,
    suite: str | None,
    no_check: bool,
    yes: bool,
    ssh_timeout: float,
    verbose: int,
    quiet: bool,
    as_json: bool,
) -> None:
    """Create what is missing, wait for running and SSH (host keys pinned at creation), write the
    inventory, then deploy and check: one run, one run record.

    Exit 0 done, 1 a phase, host or check failed, 6 done but drift or duplicates were found.
    """
    from fleetops.checking import history
    from fleetops.cloud.apply import make_plan
    from fleetops.cloud.converge import ConvergeOptions, converge
    from fleetops.cloud.plan import changes
    from fleetops.runner import record as records

    if suite and no_check:
        raise click.UsageError("--check and --no-check exclude each other")
    spec, provider = _load(spec_path)
    say = _say(quiet, as_json)
    if sys.stdin.isatty() and not (yes or as_json):
        planned = make_plan(spec, provider, say)
        _print_actions(planned, f"fleet {spec.fleet} on {provider.name}: plan")
        if changes(planned.actions) and not click.confirm("Apply?", default=False, err=True):
            raise SystemExit(EXIT_PENDING)
    options = ConvergeOptions(
        deploy=deploy_file,
        suite=None if no_check else (suite or ("baseline" if deploy_file else None)),
        ssh_timeout=ssh_timeout,
    )
    record, run, checks = converge(spec, provider, options, say)
    data = record.to_dict()
    records.validate(data)
    path = records.write(data)
    if checks is not None:
        history.append(checks)
    if as_json:
        print_json(data)
    else:
        _print_outcome(run, f"fleet {spec.fleet} on {provider.name}")
        _print_phases(run)
        click.echo(f"run record: {path}", err=True)
    if run.failed:
        click.echo(f"cloud apply failed: {run.error}", err=True)
        sys.exit(EXIT_FAILED)
    if data["summary"]["failed"] or data["summary"]["unreachable"]:
        sys.exit(EXIT_FAILED)
    if checks is not None and int(checks.status) >= 2:
        sys.exit(EXIT_FAILED)
    if any(action.verb in ("drift", "duplicate") for action in run.actions):
        sys.exit(EXIT_DRIFT)


@cloud.command("list")
@spec_option
@output_options
def list_cmd(spec_path: Path | None, verbose: int, quiet: bool, as_json: bool) -> None:
    """The fleet's live instances, found by its tag."""
    from fleetops.cloud.apply import regions_of

    spec, provider = _load(spec_path)
    instances = provider.live(regions_of(spec))
    if as_json:
        print_json({"fleet": spec.fleet, "provider": provider.name, "instances": [i.to_dict() for i in instances]})
        return
    rows = [(i.name, i.id, i.state, i.os, i.instance_type, i.zone, i.address or "", i.expires or "") for i in instances]
    print_table(
        f"fleet {spec.fleet} on {provider.name}: {len(instances)} instance(s) ({provider.honesty})",
        ["name", "id", "state", "os", "type", "zone", "address", "expires"],
        rows,
    )


def _pick(spec, provider, names: tuple[str, ...]):
    """The named instances (every command calling this requires at least one name)."""
    from fleetops.cloud.apply import select

    return select(provider, spec, names)


def _state_command(verb: str, state: str, past: str, summary: str):
    """``cloud stop`` and ``cloud start``: the same command but for the call and the awaited state."""

    @cloud.command(verb, help=summary)
    @spec_option
    @click.argument("names", nargs=-1, required=True)
    @output_options
    def command(spec_path: Path | None, names: tuple[str, ...], verbose: int, quiet: bool, as_json: bool) -> None:
        spec, provider = _load(spec_path)
        chosen = _pick(spec, provider, names)
        getattr(provider, verb)(chosen)
        provider.wait(chosen, state, timeout=300)
        _done(past, chosen, as_json, quiet)

    return command


stop_cmd = _state_command("stop", "stopped", "stopped", "Stop instances of the fleet and wait until they are stopped.")
start_cmd = _state_command(
    "start", "running", "started", "Start stopped instances of the fleet and wait until they run."
)


@cloud.command("destroy")
@spec_option
@click.argument("names", nargs=-1)
@click.option("--expired", is_flag=True, help="Only instances past their TTL.")
@click.option("--yes", "-y", is_flag=True, help="Required: destroying cannot be undone.")
@output_options
def destroy_cmd(
    spec_path: Path | None, names: tuple[str, ...], expired: bool, yes: bool, verbose: int, quiet: bool, as_json: bool
) -> None:
    """Terminate the fleet's instances (all, NAMES, or --expired); nothing without the fleet's tag."""
    from fleetops.cloud.apply import destroy

    if not yes:
        raise InputError("destroy terminates instances and cannot be undone: add --yes")
    spec, provider = _load(spec_path)
    gone = destroy(provider, spec, list(names), expired_only=expired)
    _done("destroyed", gone, as_json, quiet)


@cloud.command("types")
@spec_option
@click.option("--region", help="Region to list (default: the spec's default region).")
@click.option("--zone", help="Only types offered in this zone.")
@output_options
def types_cmd(
    spec_path: Path | None, region: str | None, zone: str | None, verbose: int, quiet: bool, as_json: bool
) -> None:
    """Instance types the provider offers in a region or zone (and its zones)."""
    from fleetops.cloud.provider import require_offered

    spec, provider = _load(spec_path)
    region = region or spec.defaults.region
    if not region:
        raise InputError("--region: the spec has no default region; name one")
    require_offered(region, set(provider.regions()), f"region {region!r} is not offered by {provider.name}")
    zones = provider.zones(region)
    if zone:
        require_offered(zone, set(zones), f"zone {zone!r} is not in {region}")
    types = provider.instance_types(region, zone)
    if as_json:
        print_json({"provider": provider.name, "region": region, "zone": zone, "zones": zones, "types": types})
        return
    click.echo(f"{provider.name} {region}: zones {', '.join(zones)}")
    click.echo(f"{len(types)} instance types offered in {zone or region}:")
    click.echo("  " + " ".join(types))


@cloud.command("password")
@spec_option
@click.argument("name")
def password_cmd(spec_path: Path | None, name: str) -> None:
    """Print a Windows instance's administrator password (stdout only, never logged)."""
    from fleetops.cloud.keys import fleet_keys
    from fleetops.cloud.state import FleetState

    spec, provider = _load(spec_path)
    (instance,) = _pick(spec, provider, (name,))
    if instance.os != "windows":
        raise InputError(f"{name} is a {instance.os} instance: it logs in with the fleet's SSH key")
    state = FleetState(spec.fleet).ensure()
    password = state.password(name) or provider.password(instance, fleet_keys(state, windows=True))
    if password is None:
        raise InputError(f"{name}: the provider has no password for it yet (Windows sets it a few minutes after boot)")
    click.echo(password)


def _done(verb: str, instances, as_json: bool, quiet: bool) -> None:
    if as_json:
        print_json({verb: [{"name": i.name, "id": i.id} for i in instances]})
    elif not quiet:
        click.echo(f"{verb}: " + (", ".join(f"{i.name} ({i.id})" for i in instances) or "nothing"))


def _plan_exit(actions) -> int:
    if any(action.verb in ("drift", "duplicate") for action in actions):
        return EXIT_DRIFT
    if any(action.verb in ("create", "start") for action in actions):
        return EXIT_PENDING
    return EXIT_OK


def _print_actions(run, title: str) -> None:
    rows = [(a.name, a.verb, ", ".join(i.id for i in a.have), a.describe()) for a in run.actions]
    print_table(f"{title} ({run.honesty})", ["instance", "action", "id", "detail"], rows)


DONE = {"create": "created", "start": "started", "keep": "kept"}


def _print_outcome(run, title: str) -> None:
    """After apply: what happened to each instance, and where it is now."""
    live = {instance.name: instance for instance in run.instances}
    rows = []
    for action in run.actions:
        instance = live.get(action.name)
        done = DONE.get(action.verb, action.verb)
        if action.name in run.adopted:
            done = "created (found by tag)"
        rows.append(
            (
                action.name,
                done if not run.failed or action.verb not in ("create", "start") or instance else "not done",
                instance.id if instance else ", ".join(i.id for i in action.have),
                instance.state if instance else "",
                (instance.address or "") if instance else "",
                action.describe() if action.verb in ("drift", "duplicate", "extra") else "",
            )
        )
    print_table(f"{title} ({run.honesty})", ["instance", "action", "id", "state", "address", "note"], rows)


def _print_phases(run) -> None:
    rows = [(p.name, p.status, f"{p.seconds:.1f}s", p.detail) for p in run.phases]
    total = sum(p.seconds for p in run.phases)
    print_table(f"phases: {total:.1f}s", ["phase", "status", "time", "detail"], rows)
