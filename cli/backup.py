"""``fleetops backup``: run, list, restore and verify MySQL/MariaDB backups on the database hosts."""

from __future__ import annotations

import sys
import time

import click

from fleetops.cli.options import inventory_options, setup_logging

EXIT_OK, EXIT_FAILED = 0, 1


@click.group()
def backup() -> None:
    """Backups made by the MySQL role's timer (group data mysql.backup).

    \b
    fleetops backup run
    fleetops backup list --limit db1
    fleetops backup restore --latest --database shop --yes
    fleetops backup verify
    """


def _targets(inventory, limit, exclude):
    from fleetops.backup.remote import backup_hosts
    from fleetops.inventory import resolve_inventory

    return backup_hosts(resolve_inventory(inventory), limit, exclude)


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
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")
@click.option("-v", "--verbose", count=True)
def run(inventory, limit, exclude, parallel, as_json, verbose) -> None:
    """Start a backup now on every database host (the same systemd service the timer starts)."""
    setup_logging(verbose, False)
    from fleetops.backup.remote import RUN_COMMAND, on_hosts

    answers = on_hosts(_targets(inventory, limit, exclude), RUN_COMMAND, parallel=parallel)
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
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")
def list_(inventory, limit, exclude, parallel, as_json) -> None:
    """Backups per host with size, age, databases and whether their checksums still match."""
    from fleetops.backup.remote import on_hosts, script_command

    answers = on_hosts(_targets(inventory, limit, exclude), script_command("list"), parallel=parallel)
    now = time.time()
    rows = []
    for answer in answers:
        if not answer.ok:
            rows.append((answer.host, "", "", "", "", "failed", answer.error))
        for item in answer.lines:
            manifest = item.get("manifest") or {}
            rows.append(
                (
                    answer.host,
                    item["id"],
                    _size(item["bytes"]),
                    _age(now - item["created"]),
                    ",".join(manifest.get("databases", [])),
                    "ok" if item["checksums_ok"] else "failed",
                    "",
                )
            )
    _finish(answers, as_json, rows, ["host", "backup", "size", "age", "databases", "checksums", "error"], "backups")


@backup.command()
@inventory_options
@click.option("--latest", is_flag=True, help="Restore the newest backup.")
@click.option("--backup", "backup_id", metavar="ID", help="Restore this backup (see `backup list`).")
@click.option("--database", "databases", multiple=True, metavar="DB", help="Only these databases (repeatable).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask (required when not on a terminal).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")
def restore(inventory, limit, exclude, parallel, latest, backup_id, databases, yes, as_json) -> None:
    """Restore databases from a backup, overwriting their tables. Checksums are verified first."""
    from fleetops.backup.remote import on_hosts, script_command
    from fleetops.errors import InputError

    if latest == bool(backup_id):
        raise InputError("restore needs exactly one of --latest or --backup ID")
    command = script_command("restore", backup_id or "latest", *databases)
    targets = _targets(inventory, limit, exclude)
    if not yes:
        if not sys.stdin.isatty():
            raise InputError("restore overwrites data: pass --yes when not on a terminal")
        names = ", ".join(t.name for t in targets)
        click.confirm(
            f"Restore {backup_id or 'the latest backup'} ({', '.join(databases) or 'all databases'}) on {names}?",
            abort=True,
            err=True,
        )
    answers = on_hosts(targets, command, parallel=parallel)
    rows = [
        (
            a.host,
            "ok" if a.ok else "failed",
            ",".join(line["restored"] for line in a.lines if "restored" in line),
            next((line["backup"] for line in a.lines if "backup" in line), ""),
            a.error,
        )
        for a in answers
    ]
    _finish(answers, as_json, rows, ["host", "status", "restored", "backup", "error"], "restore")


@backup.command()
@inventory_options
@click.option("--backup", "backup_id", default="latest", show_default=True, metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")
def verify(inventory, limit, exclude, parallel, backup_id, as_json) -> None:
    """Restore a backup into scratch databases and compare row counts and checksums with its record."""
    from fleetops.backup.remote import on_hosts, script_command

    answers = on_hosts(_targets(inventory, limit, exclude), script_command("verify", backup_id), parallel=parallel)
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
