"""``fleetops backup``: run, list, restore and verify MySQL/MariaDB backups on the database hosts."""

from __future__ import annotations

import sys
import time

import click

from fleetops.cli.options import inventory_options, setup_logging

EXIT_OK, EXIT_FAILED = 0, 1


@click.group()
def backup() -> None:
    """Database and application backups (group data mysql.backup, app_backup, backup_store).

    \b
    fleetops backup run                         # every database host, now
    fleetops backup run --app edge              # the edge app's files on its gateways
    fleetops backup list --limit db1 [--store]  # here, or what the backup host holds
    fleetops backup restore --latest --database shop --yes
    fleetops backup restore --to "2026-12-01 10:42:00" --yes
    fleetops backup restore --before-statement 'DROP TABLE `?items' --yes
    fleetops backup restore --app edge --latest --yes
    fleetops backup verify                      # verify-by-restore + point-in-time proof
    """


def _targets(inventory, limit, exclude, app=None):
    from fleetops.backup.remote import backup_hosts
    from fleetops.inventory import resolve_inventory

    return backup_hosts(resolve_inventory(inventory), limit, exclude, app)


app_option = click.option(
    "--app", metavar="APP", help="An application's backups (edge, platform) instead of the databases."
)


def _finish(answers, as_json: bool, rows, columns, title: str) -> None:
    from fleetops.cli.render import print_json, print_table

    if as_json:
        print_json([{"host": a.host, "ok": a.ok, "error": a.error, "results": a.lines} for a in answers])
    else:
        print_table(title, columns, rows)
    if not all(answer.ok for answer in answers):
        sys.exit(EXIT_FAILED)


@backup.command()
@inventory_options
@app_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")
@click.option("-v", "--verbose", count=True)
def run(inventory, limit, exclude, parallel, app, as_json, verbose) -> None:
    """Start a backup now on every host of the set (the same systemd service the timer starts);
    it is copied to the backup host when one is declared."""
    setup_logging(verbose, False)
    from fleetops.backup.remote import on_hosts, run_command, set_name

    set_name(app)
    answers = on_hosts(_targets(inventory, limit, exclude, app), run_command(app), parallel=parallel)
    rows = [
        (
            a.host,
            "ok" if a.ok else "failed",
            (a.lines[-1]["id"] if a.ok and a.lines else ""),
            _size(a.lines[-1]["bytes"]) if a.ok and a.lines else "",
            a.error,
        )
        for a in answers
    ]
    _finish(answers, as_json, rows, ["host", "status", "backup", "size", "error"], "backups made")


@backup.command(name="list")
@inventory_options
@app_option
@click.option("--store", is_flag=True, help="What the backup host holds for each host, not the host itself.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")
def list_(inventory, limit, exclude, parallel, app, store, as_json) -> None:
    """Backups per host with size, age, contents, whether their checksums still match and
    whether they are on the backup host."""
    from fleetops.backup.remote import agent_command, on_hosts, set_name

    command = agent_command("list", set_name(app)) + (" --store" if store else "")
    answers = on_hosts(_targets(inventory, limit, exclude, app), command, parallel=parallel)
    now = time.time()
    rows = []
    for answer in answers:
        if not answer.ok:
            rows.append((answer.host, "", "", "", "", "failed", "", answer.error))
        for item in answer.lines:
            manifest = item.get("manifest") or {}
            rows.append(
                (
                    answer.host,
                    item["id"],
                    _size(item["bytes"]),
                    _age(now - (item.get("created") or (manifest.get("finished") or now))),
                    ",".join(manifest.get("databases") or manifest.get("paths") or []),
                    {True: "ok", False: "failed", None: "sealed"}[item.get("checksums_ok")],
                    "store" if item.get("where") == "store" else ("yes" if item.get("shipped") else "no"),
                    "",
                )
            )
    columns = ["host", "backup", "size", "age", "contents", "checksums", "off-host", "error"]
    _finish(answers, as_json, rows, columns, "backups")


@backup.command()
@inventory_options
@app_option
@click.option("--latest", is_flag=True, help="Restore the newest backup (here or on the backup host).")
@click.option("--backup", "backup_id", metavar="ID", help="Restore this backup (see `backup list`).")
@click.option(
    "--to", "to", metavar="TIME", help="Point in time: host-local 'YYYY-MM-DD HH:MM:SS', ISO with offset, or @EPOCH."
)
@click.option(
    "--before-statement", metavar="REGEX", help="Point in time: just before the newest binlog event matching."
)
@click.option("--database", "databases", multiple=True, metavar="DB", help="Only these databases (repeatable).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask (required when not on a terminal).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")
def restore(inventory, limit, exclude, parallel, app, latest, backup_id, to, before_statement, databases, yes,
            as_json) -> None:  # fmt: skip
    """Restore from a backup (fetched from the backup host when it is not on the host), or to a
    point in time by replaying binlogs; checksums are verified first, a fresh backup is taken after."""
    from fleetops.backup.remote import agent_command, on_hosts, point_in_time, set_name, statement_pattern
    from fleetops.errors import InputError

    pitr = to is not None or before_statement is not None
    if latest and backup_id:
        raise InputError("restore takes --latest or --backup ID, not both")
    if to is not None and before_statement is not None:
        raise InputError("restore takes --to or --before-statement, not both")
    if not (latest or backup_id or pitr):
        raise InputError("restore needs one of --latest, --backup ID, --to TIME or --before-statement REGEX")
    if app is not None and (pitr or databases):
        raise InputError("an app restore takes --latest or --backup ID only")
    command = agent_command(
        "restore",
        set_name(app),
        backup_id or "latest",
        *databases,
        to=point_in_time(to) if to is not None else None,
        before_statement=statement_pattern(before_statement) if before_statement is not None else None,
    )
    targets = _targets(inventory, limit, exclude, app)
    if not yes:
        if not sys.stdin.isatty():
            raise InputError("restore overwrites data: pass --yes when not on a terminal")
        names = ", ".join(t.name for t in targets)
        what = (
            f"to {to}"
            if to
            else (f"to before {before_statement!r}" if before_statement else backup_id or "the latest backup")
        )
        click.confirm(
            f"Restore {what} ({', '.join(databases) or app or 'all databases'}) on {names}?",
            abort=True,
            err=True,
        )
    answers = on_hosts(targets, command, parallel=parallel)
    rows = [
        (
            a.host,
            "ok" if a.ok else "failed",
            ",".join(str(line["restored"]) for line in a.lines if "restored" in line),
            next((line["backup"] for line in a.lines if "restored" in line), ""),
            next((f"{line['restore_seconds']} s" for line in a.lines if "restore_seconds" in line), ""),
            a.error,
        )
        for a in answers
    ]
    _finish(answers, as_json, rows, ["host", "status", "restored", "from backup", "took", "error"], "restore")


@backup.command()
@inventory_options
@click.option("--backup", "backup_id", default="latest", show_default=True, metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")
def verify(inventory, limit, exclude, parallel, backup_id, as_json) -> None:
    """Restore a backup into scratch databases and compare row counts and checksums with its
    record; with point-in-time recovery on, also replay the copied binlogs to between two marker
    writes and check that exactly the first one is there."""
    from fleetops.backup.remote import agent_command, on_hosts

    command = agent_command("verify", "mysql", backup_id)
    started = time.time()
    answers = on_hosts(_targets(inventory, limit, exclude), command, parallel=parallel)
    _record_drill(answers, inventory, started)
    rows = [
        (
            a.host,
            (a.lines[-1]["status"] if a.lines else "failed"),
            (a.lines[-1]["backup"] if a.lines else ""),
            (a.lines[-1].get("detail") if a.lines else "") or a.error,
        )
        for a in answers
    ]
    _finish(answers, as_json, rows, ["host", "status", "backup", "detail"], "verify")


def _record_drill(answers, inventory, started: float) -> None:
    """Each host's verification as the check ``backup:drill`` in the check history, so a
    scheduled restore drill shows up in `fleetops check history` beside the health checks."""
    from fleetops.checking import history
    from fleetops.checking.engine import CheckRun
    from fleetops.checks.result import CheckResult, Status

    results = []
    for answer in answers:
        last = answer.lines[-1] if answer.lines else {}
        status = Status.OK if answer.ok and last.get("status") == "ok" else Status.CRITICAL
        if not answer.ok and not answer.lines:
            status = Status.UNKNOWN  # unreachable or refused: no verdict about the backup
        message = f"backup {last.get('backup')} verified by restore" if status == Status.OK else (
            last.get("detail") or answer.error or "verify failed")  # fmt: skip
        results.append(CheckResult(answer.host, "backup:drill", "backup", status, message, last.get("backup")))
    history.append(CheckRun("backup-drill", str(inventory or ""), started, time.time(), results))


def _size(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return str(count)


def _age(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400 * 2:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"
