"""``fleetops-backup``: the agent's command line (argparse; JSON lines out, one-line errors)."""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

from . import apps, mysql, store
from .common import CONFIG_DIR, AgentError, load_config, locked

STORE_CONFIG = "/var/lib/fleetops-store/store.json"


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="fleetops-backup", description=__doc__)
    top.add_argument("--config-dir", default=CONFIG_DIR)
    top.add_argument("--store-config", default=STORE_CONFIG, help="the backup host's config (store-* commands)")
    sub = top.add_subparsers(dest="command", required=True)
    for name in ("run", "list", "prune"):
        command = sub.add_parser(name)
        command.add_argument("set", help="mysql, or app-NAME")
        if name == "list":
            command.add_argument("--store", action="store_true", help="what the backup host holds")
        if name == "prune":
            command.add_argument("--now", help="pretend it is this UTC time (YYYYmmddTHHMMSSZ)")
    sub.add_parser("ship-binlogs")
    restore = sub.add_parser("restore")
    restore.add_argument("set")
    restore.add_argument("backup", nargs="?", default="latest")
    restore.add_argument("databases", nargs="*")
    restore.add_argument("--to", help="host-local 'YYYY-MM-DD HH:MM:SS' or @EPOCH")
    restore.add_argument("--before-statement", help="regex: stop just before the newest match")
    verify = sub.add_parser("verify")
    verify.add_argument("set")
    verify.add_argument("backup", nargs="?", default="latest")
    serve = sub.add_parser("store-serve")
    serve.add_argument("client")
    prune = sub.add_parser("store-prune")
    prune.add_argument("--now")
    sub.add_parser("store-status")
    return top


def _now(value: str | None) -> datetime.datetime | None:
    if not value:
        return None
    return datetime.datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return dispatch(args)
    except AgentError as error:
        print(f"fleetops-backup: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # a file or command that is not there: one line, not a traceback
        print(f"fleetops-backup: {error.filename or ''}: {error.strerror or error}", file=sys.stderr)
        return 1


def dispatch(args: argparse.Namespace) -> int:
    if args.command.startswith("store-"):
        config = load_config(Path(args.store_config).stem, str(Path(args.store_config).parent))
        if args.command == "store-serve":
            return store.serve_main(config, args.client)
        if args.command == "store-prune":
            store.prune(config, _now(args.now))
        else:
            store.describe(config)
        return 0
    if args.command == "ship-binlogs":
        config = load_config("mysql", args.config_dir)
        with locked(Path(config["destination"])):
            mysql.ship_binlogs(config)
        return 0
    if args.set != "mysql" and not args.set.startswith("app-"):
        raise AgentError(f"not a backup set: {args.set!r} (mysql, or app-NAME)")
    config = load_config(args.set, args.config_dir)
    if args.command == "list":
        (mysql if args.set == "mysql" else apps).list_backups(config, from_store=args.store)
        return 0
    with locked(Path(config["destination"])):
        return on_set(args, config)


def on_set(args: argparse.Namespace, config: dict) -> int:
    module = mysql if args.set == "mysql" else apps
    if args.command == "run":
        module.run_backup(config)
    elif args.command == "prune":
        module.prune(config, _now(args.now))
    elif args.command == "restore":
        if args.set == "mysql":
            mysql.restore(config, None if args.backup == "latest" else args.backup, args.databases,
                          to=args.to, before=args.before_statement)  # fmt: skip
        elif args.databases or args.to or args.before_statement:
            raise AgentError("an app restore takes a backup id only")
        else:
            apps.restore(config, args.backup)
    elif args.command == "verify":
        if args.set != "mysql":
            raise AgentError("verify-by-restore is for database backups")
        return 0 if mysql.verify(config, args.backup) else 1
    return 0
