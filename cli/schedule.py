"""``fleetops schedule``: checks, deploys, backups and reports on systemd timers, with history and
notifications, on this host or on a control host of the inventory (``--on HOST``)."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import click

EXIT_OK, EXIT_FAILED = 0, 1
REMOTE_FLEETOPS = "/usr/local/bin/fleetops"


def on_option(func):
    func = click.option("-i", "--inventory", help="The inventory --on HOST is read from.")(func)
    return click.option("--on", "on_host", metavar="HOST", help="Run this on a control host of the inventory.")(func)


@click.group()
def schedule() -> None:
    """Scheduled fleetops commands as systemd timers, without a server.

    \b
    fleetops schedule add health --every 15m -- check --suite baseline
    fleetops schedule add nightly --on-calendar "*-*-* 02:30" --randomized-delay 10m -- deploy deploys/site.py
    fleetops schedule add health --every 1m --webhook https://chat/hook --webhook-token-file t \\
        --email ops@example.com --smtp-host mail --email-from fleetops@example.com -- check
    fleetops schedule list | status | history health | run health | remove health
    fleetops schedule list --on ctl1 -i inventory.py      # on a control host
    """


def _read_secret(path: str | None, what: str) -> str | None:
    from fleetops.errors import InputError

    if path is None:
        return None
    try:
        value = Path(path).read_text().strip()
    except OSError as error:
        raise InputError(f"{what} {path}: {error.strerror}") from None
    if not value:
        raise InputError(f"{what} {path}: empty")
    return value


def _remote(on_host: str, inventory: str | None, args: list[str], stdin: str = "") -> int:
    """``fleetops schedule ARGS`` on the control host, its output passed through; its exit code."""
    from fleetops.checking.target import SshTarget
    from fleetops.errors import InputError
    from fleetops.inventory import load_inventory, resolve_inventory, select_hosts
    from fleetops.sshutil import exec_command

    hosts = select_hosts(load_inventory(resolve_inventory(inventory)), (on_host,), ())
    if len(hosts) != 1:
        raise InputError(f"--on {on_host}: names {len(hosts)} hosts, not one")
    target = SshTarget.from_host(hosts[0])
    command = " ".join(shlex.quote(part) for part in [REMOTE_FLEETOPS, "schedule", *args])
    try:
        client = target.connect(timeout=10)
    except Exception as error:  # noqa: BLE001
        click.echo(f"fleetops: {on_host} unreachable: {error}", err=True)
        return EXIT_FAILED
    try:
        status, stdout, stderr = exec_command(client, command, timeout=3600, stdin=stdin)
        click.echo(stdout, nl=False)
        click.echo(stderr, nl=False, err=True)
        return status
    finally:
        client.close()


@schedule.command()
@click.argument("name")
@click.argument("command", nargs=-1, required=True)
@click.option("--every", help="Run every DURATION (30s, 15m, 1h, 1d).")
@click.option("--on-calendar", help="Run on a systemd calendar spec (checked with systemd-analyze calendar).")
@click.option("--randomized-delay", help="Spread starts by up to DURATION (RandomizedDelaySec=).")
@click.option("--timeout", default="30m", show_default=True, help="Kill a run after DURATION.")
@click.option("--no-persistent", is_flag=True, help="Do not catch up a calendar run missed while the host was off.")
@click.option("--user", default="fleetops", show_default=True, help="The account the run uses.")
@click.option("--webhook", help="POST a JSON message here on each state change.")
@click.option("--webhook-token-file", help="File holding a bearer token for the webhook.")
@click.option("--webhook-ca", help="CA file for an https webhook with a private CA.")
@click.option("--email", "email_to", multiple=True, help="Send email here on each state change (repeatable).")
@click.option("--email-from", help="The sender address.")
@click.option("--smtp-host", help="SMTP server (STARTTLS on port 587 unless told otherwise).")
@click.option("--smtp-port", type=click.IntRange(1, 65535), default=587, show_default=True)
@click.option("--smtp-user", help="SMTP login.")
@click.option("--smtp-password-file", help="File holding the SMTP password.")
@click.option("--smtp-ca", help="CA file the SMTP server's certificate is checked against.")
@click.option("--no-starttls", is_flag=True, help="Plain SMTP (only for a relay on the same host).")
@click.option("--throttle", default="10m", show_default=True, help="At most one message per DURATION.")
@click.option("--secrets-stdin", is_flag=True, hidden=True, help="Secrets as JSON on stdin (used by --on).")
@on_option
def add(name, command, on_host, inventory, secrets_stdin, **options) -> None:
    """Add (or replace) schedule NAME running `fleetops COMMAND...` (give it after `--`)."""
    from pydantic import ValidationError

    from fleetops.errors import InputError
    from fleetops.schedule.spec import Notify, Schedule
    from fleetops.validation import describe_validation_error

    secrets = json.loads(sys.stdin.read() or "{}") if secrets_stdin else {}
    token = secrets.get("webhook_token") or _read_secret(options["webhook_token_file"], "--webhook-token-file")
    password = secrets.get("smtp_password") or _read_secret(options["smtp_password_file"], "--smtp-password-file")
    notify = None
    if options["webhook"] or options["email_to"]:
        notify = dict(
            webhook=options["webhook"], webhook_token=token, webhook_ca=options["webhook_ca"],
            email_to=list(options["email_to"]), email_from=options["email_from"], smtp_host=options["smtp_host"],
            smtp_port=options["smtp_port"], smtp_user=options["smtp_user"], smtp_password=password,
            smtp_starttls=not options["no_starttls"], smtp_ca=options["smtp_ca"], throttle=options["throttle"],
        )  # fmt: skip
    try:
        spec = Schedule.model_validate(
            dict(
                name=name,
                args=list(command),
                every=options["every"],
                on_calendar=options["on_calendar"],
                randomized_delay=options["randomized_delay"],
                timeout=options["timeout"],
                persistent=not options["no_persistent"],
                user=options["user"],
                notify=Notify.model_validate(notify) if notify else None,
            )  # fmt: skip
        )
    except ValidationError as error:
        raise InputError(f"schedule {name}: {describe_validation_error(error)}") from None
    if on_host:
        args = ["add", name]
        for key in ("every", "on_calendar", "randomized_delay", "timeout", "user", "webhook", "webhook_ca",
                    "email_from", "smtp_host", "smtp_user", "smtp_ca", "throttle"):  # fmt: skip
            if options[key]:
                args += [f"--{key.replace('_', '-')}", str(options[key])]
        args += [f"--smtp-port={options['smtp_port']}"]
        for address in options["email_to"]:
            args += ["--email", address]
        for flag in ("no_persistent", "no_starttls"):
            if options[flag]:
                args.append(f"--{flag.replace('_', '-')}")
        args += ["--secrets-stdin", "--", *command]
        stdin = json.dumps({"webhook_token": token, "smtp_password": password})
        sys.exit(_remote(on_host, inventory, args, stdin))
    from fleetops.schedule import store, systemd

    systemd.require_systemd()
    if spec.on_calendar:
        systemd.validate_calendar(spec.on_calendar)
    store.save(spec)
    systemd.install(spec)
    when = f"every {spec.every}" if spec.every else f"on {spec.on_calendar}"
    click.echo(f"schedule {name}: fleetops {' '.join(shlex.quote(a) for a in spec.args)} {when} as {spec.user}")


@schedule.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")
@on_option
def list_(as_json, on_host, inventory) -> None:
    """Schedules on this host with their next and last run."""
    if on_host:
        sys.exit(_remote(on_host, inventory, ["list"] + (["--json"] if as_json else [])))
    from fleetops.cli.render import print_json, print_table
    from fleetops.schedule import history, store, systemd

    systemd.require_systemd()
    db = history.database()
    rows, data = [], []
    for name in store.names():
        spec = store.load(name)
        state = systemd.unit_state(spec.unit)
        last = history.runs(db, name, 1)
        entry = {
            "name": name,
            "command": " ".join(spec.args),
            "when": f"every {spec.every}" if spec.every else spec.on_calendar,
            "timer": state.get("timer_ActiveState", ""),
            "next": state.get("timer_NextElapseUSecRealtime", ""),
            "last_state": last[-1].state if last else "",
        }
        data.append(entry)
        rows.append(tuple(entry.values()))
    if as_json:
        print_json(data)
    else:
        print_table("schedules", ["name", "command", "when", "timer", "next", "last state"], rows)


@schedule.command()
@click.argument("name")
@on_option
def remove(name, on_host, inventory) -> None:
    """Stop and remove schedule NAME: its timer, service and definition (history is kept)."""
    if on_host:
        sys.exit(_remote(on_host, inventory, ["remove", name]))
    from fleetops.schedule import store, systemd

    systemd.require_systemd()
    spec = store.load(name)
    removed = systemd.uninstall(spec.unit)
    store.remove(name)
    click.echo(f"schedule {name}: removed {', '.join(removed) or 'nothing (no units were installed)'}")


@schedule.command()
@click.argument("name")
@on_option
def run(name, on_host, inventory) -> None:
    """Run schedule NAME now, through its own service (refused while a run is under way)."""
    if on_host:
        sys.exit(_remote(on_host, inventory, ["run", name]))
    from fleetops.errors import InputError
    from fleetops.schedule import history, store, systemd

    systemd.require_systemd()
    spec = store.load(name)
    if systemd.unit_state(spec.unit).get("service_ActiveState") in ("activating", "active", "deactivating"):
        raise InputError(f"schedule {name} is running now; not starting a second run")
    systemd.systemctl("start", f"{spec.unit}.service", check=False)
    last = history.runs(history.database(), name, 1)
    if not last:
        click.echo(f"schedule {name}: the run left no history (see journalctl -u {spec.unit})", err=True)
        sys.exit(EXIT_FAILED)
    click.echo(f"schedule {name}: {last[-1].state} (exit {last[-1].exit_code}) in {last[-1].duration_s:.1f}s")
    sys.exit(EXIT_OK if last[-1].state in ("OK", "ok", "changed") else EXIT_FAILED)


@schedule.command()
@click.argument("name")
@click.option("--last", type=click.IntRange(1, 10000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")
@on_option
def history(name, last, as_json, on_host, inventory) -> None:
    """The runs of schedule NAME: when, how long, exit code, state, state changes, notifications."""
    if on_host:
        sys.exit(_remote(on_host, inventory, ["history", name, "--last", str(last)] + (["--json"] if as_json else [])))
    import time

    from fleetops.cli.render import print_json, print_table
    from fleetops.schedule import history as runs

    found = runs.runs(runs.database(), name, last)
    if as_json:
        print_json([run.to_dict() for run in found])
        return
    rows, previous = [], None
    for entry in found:
        change = f"{previous} → {entry.state}" if previous is not None and previous != entry.state else ""
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(entry.started))
        rows.append((stamp, f"{entry.duration_s:.1f}s", str(entry.exit_code), entry.state, change, entry.notified))
        previous = entry.state
    print_table(f"schedule {name}", ["started (UTC)", "duration", "exit", "state", "change", "notified"], rows)


@schedule.command()
@on_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")
def status(on_host, inventory, as_json) -> None:
    """Every schedule's last state; exit 1 when any last run was not OK."""
    if on_host:
        sys.exit(_remote(on_host, inventory, ["status"] + (["--json"] if as_json else [])))
    from fleetops.cli.render import print_json, print_table
    from fleetops.schedule import history, store

    db = history.database()
    data = {}
    for name in store.names():
        last = history.runs(db, name, 1)
        data[name] = last[-1].to_dict() if last else None
    if as_json:
        print_json(data)
    else:
        rows = [(n, r["state"] if r else "never ran", str(r["exit_code"]) if r else "") for n, r in data.items()]
        print_table("schedule status", ["name", "last state", "exit"], rows)
    if any(r is None or r["state"] not in ("OK", "ok", "changed") for r in data.values()):
        sys.exit(EXIT_FAILED)


@schedule.command(name="exec", hidden=True)
@click.argument("name")
def exec_(name) -> None:
    """What the timer runs: the command, its history row, the notifications."""
    from fleetops.schedule import store
    from fleetops.schedule.execute import run_schedule

    outcome = run_schedule(store.load(name))
    click.echo(json.dumps(outcome))
