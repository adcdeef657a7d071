"""``fleetops lab``: bring the local lab fleet up and down, show it, SSH into a host."""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path

import click

from fleetops.cli.options import output_options
from fleetops.cli.render import print_json, print_table
from fleetops.errors import InputError

DEFAULT_NAME = "lab"

name_option = click.option("--name", default=None, help="Lab name (default: $FLEETOPS_LAB or 'lab').")


def _lab_name(name: str | None) -> str:
    """The lab this command is about, validated (a name becomes a path and interface names)."""
    from fleetops.lab.spec import validate_lab_name

    return validate_lab_name(name or os.environ.get("FLEETOPS_LAB") or DEFAULT_NAME)


@click.group()
def lab() -> None:
    """Local lab fleet: systemd-nspawn hosts with systemd, sshd and their own IPs.

    \b
    fleetops lab up                     # inventory/lab.yml if present, else 3 hosts
    fleetops lab up --hosts 8
    fleetops lab status
    fleetops lab ssh lab1 -- uptime
    fleetops lab down
    """


@lab.command()
@click.option("--hosts", "host_count", type=int, default=None, help="Number of plain hosts.")
@click.option(
    "--spec",
    "spec_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Lab spec YAML (default: inventory/lab.yml when present).",
)
@name_option
@click.option("--subnet", default=None, help="With --hosts: IPv4 /24 to use (default: first free 10.77+N.0.0/24).")
@output_options
def up(
    host_count: int | None,
    spec_path: Path | None,
    name: str | None,
    subnet: str | None,
    verbose: int,
    quiet: bool,
    as_json: bool,
) -> None:
    """Start (or converge) a lab; idempotent. Writes its inventory and known_hosts."""
    from fleetops.lab.fleet import Lab, free_subnet
    from fleetops.lab.spec import DEFAULT_SPEC_PATH, generated_spec, load_spec

    if host_count is not None and spec_path is not None:
        raise InputError("give either --hosts or --spec, not both")
    if host_count is not None:
        spec = generated_spec(host_count, _lab_name(name), subnet or free_subnet(_lab_name(name)))
    else:
        path = spec_path or (DEFAULT_SPEC_PATH if DEFAULT_SPEC_PATH.exists() else None)
        spec = load_spec(path) if path else generated_spec(3, _lab_name(name))
        if name:
            spec = spec.with_name(_lab_name(name))
    say = (lambda msg: None) if (quiet or as_json) else (lambda msg: click.echo(f"lab {spec.name}: {msg}", err=True))
    status = Lab(spec.name).up(spec, progress=say)
    _show(status, as_json, quiet, title=f"lab {status.name} up in {status.seconds:.1f}s")
    if not status.healthy:
        raise SystemExit(1)


@lab.command()
@name_option
@output_options
def status(name: str | None, verbose: int, quiet: bool, as_json: bool) -> None:
    """Show each host: launcher running, SSH reachable, systemd state."""
    from fleetops.lab.fleet import Lab

    result = Lab(_lab_name(name)).status()
    _show(result, as_json, quiet, title=f"lab {result.name}")
    if not result.healthy:
        raise SystemExit(1)


@lab.command()
@name_option
@output_options
def down(name: str | None, verbose: int, quiet: bool, as_json: bool) -> None:
    """Stop every host and remove mounts, bridge, NAT rules, cgroups and state."""
    from fleetops.lab.fleet import Lab

    removed = Lab(_lab_name(name)).down()
    if as_json:
        print_json({"lab": _lab_name(name), "removed": removed})
    elif not quiet:
        click.echo(f"lab {_lab_name(name)}: removed {len(removed)} host(s)")


@lab.command(context_settings={"ignore_unknown_options": True})
@click.argument("host")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@name_option
def ssh(host: str, command: tuple[str, ...], name: str | None) -> None:
    """Open an SSH session (or run COMMAND) on a lab host, host key checked."""
    from fleetops.lab.fleet import Lab

    lab_ = Lab(_lab_name(name))
    state = lab_.load_state()
    if state is None:
        raise InputError(f"no lab named {lab_.name!r} is up")
    if host not in state["hosts"]:
        raise InputError(f"no host {host!r} in lab {lab_.name} (hosts: {', '.join(sorted(state['hosts']))})")
    argv = [
        "ssh",
        "-i",
        str(lab_.key_file),
        "-o",
        f"UserKnownHostsFile={lab_.known_hosts}",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "IdentitiesOnly=yes",
        f"root@{state['hosts'][host]['address']}",
        *command,
    ]
    os.execvp("ssh", argv)


def _show(status, as_json: bool, quiet: bool, title: str) -> None:
    if as_json:
        data = asdict(status)
        data["inventory"] = str(status.inventory)
        data["healthy"] = status.healthy
        print_json(data)
        return
    if quiet:
        return
    rows = [
        (
            h.name,
            h.address,
            ",".join(h.groups),
            h.action,
            "yes" if h.running else "no",
            "yes" if h.ssh else "no",
            h.system_state,
            h.error or "",
        )
        for h in status.hosts
    ]
    print_table(title, ["host", "address", "groups", "action", "running", "ssh", "systemd", "note"], rows)
    click.echo(f"inventory: {status.inventory}", err=True)
