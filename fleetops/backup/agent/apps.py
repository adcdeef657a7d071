"""Application backups: an app's files (config, releases, models, data) and its databases.

``DEST/ID/`` holds ``files.tar.zst`` (the declared paths, owners and modes kept), one dump per
database, ``manifest.json`` and ``SHA256SUMS``, made and renamed like the MySQL backups. A
restore stops the app, moves the current paths aside, unpacks, restores the databases, starts
the app again, and only then drops the old copies; any failure puts the old paths back.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import subprocess
import time
from pathlib import Path

from . import retention, shipping
from .binlogs import sql
from .common import (
    BACKUP_ID,
    MANIFEST,
    AgentError,
    backup_ids,
    checked,
    emit,
    begin_backup,
    pipeline,
    read_json,
    remove_tree,
    sums_problem,
    write_file,
    write_sums,
)
from .dumps import Dump, restore_dump, suffix

ARCHIVE = "files.tar.zst"
ASIDE = ".fleetops-restore-old"


def set_name(config: dict) -> str:
    return f"app-{config['app']}"


def run_backup(config: dict) -> str:
    dest = Path(config["destination"])
    started = time.time()
    backup_id, work = begin_backup(dest)
    missing = [path for path in config["paths"] if not os.path.lexists(path)]
    if missing:
        raise AgentError(f"app {config['app']}: nothing at {', '.join(missing)}")
    sums = {}
    relative = [path.lstrip("/") for path in config["paths"]]
    with open(work / ARCHIVE, "wb") as sink:
        sums[ARCHIVE], _ = pipeline(
            [["tar", "--create", "--file=-", "--numeric-owner", "--acls", "--xattrs", "-C", "/", "--", *relative],
             ["zstd", "-q", "-T0", "-3"]],
            sink,
        )  # fmt: skip
    for database in config.get("databases", []):
        name = database + suffix({"compression": "zstd"})
        dump = Dump({"compression": "zstd"}, database, work / name, with_position=False)
        dump.finish()
        sums[name] = dump.digest
    manifest = {
        "id": backup_id,
        "app": config["app"],
        "started": started,
        "finished": time.time(),
        "paths": config["paths"],
        "databases": config.get("databases", []),
    }
    text = json.dumps(manifest, sort_keys=True) + "\n"
    write_file(work / MANIFEST, text)
    sums[MANIFEST] = hashlib.sha256(text.encode()).hexdigest()
    write_sums(work, sums)
    os.replace(work, dest / backup_id)
    emit(backup=backup_id, bytes=sum(p.stat().st_size for p in (dest / backup_id).iterdir()))
    error = None
    if config.get("store"):
        try:
            shipping.ship_directory(config["store"], set_name(config), dest)
        except AgentError as failure:
            error = AgentError(f"backup kept here, but the copy to the backup host failed: {failure}")
    prune(config)
    if error:
        raise error
    return backup_id


def list_backups(config: dict, from_store: bool = False) -> None:
    dest = Path(config["destination"])
    if from_store:
        for item in shipping.remote_list(config["store"], set_name(config)):
            emit(**item, where="store")
        return
    for backup_id in backup_ids(dest):
        directory = dest / backup_id
        emit(
            id=backup_id,
            bytes=sum(p.stat().st_size for p in directory.iterdir() if p.is_file()),
            created=(directory / MANIFEST).stat().st_mtime if (directory / MANIFEST).exists() else 0,
            checksums_ok=sums_problem(directory) is None,
            shipped=(directory / shipping.SHIPPED).exists(),
            manifest=read_json(directory / MANIFEST),
            where="local",
        )


def restore(config: dict, backup_id: str) -> None:
    dest = Path(config["destination"])
    if backup_id == "latest":
        local = backup_ids(dest)
        remote = (
            [i["id"] for i in shipping.remote_list(config["store"], set_name(config))] if config.get("store") else []
        )
        if not (local or remote):
            raise AgentError(f"no backup of app {config['app']}")
        backup_id = sorted(set(local) | set(remote))[-1]
    directory = dest / checked(BACKUP_ID, backup_id, "backup id")
    if not directory.is_dir():
        if not config.get("store"):
            raise AgentError(f"no backup {backup_id}")
        shipping.fetch_set(config["store"], set_name(config), backup_id, dest)
        emit(fetched=backup_id, source="store")
    problem = sums_problem(directory)
    if problem:
        raise AgentError(f"backup {backup_id} fails its checksums ({problem}); not restoring")
    manifest = read_json(directory / MANIFEST) or {}
    service = config.get("service")
    if service:
        subprocess.run(["systemctl", "stop", service], check=False)
    moved = []
    try:
        for path in manifest.get("paths", []):
            if os.path.lexists(path):
                aside = path.rstrip("/") + ASIDE
                remove_tree(Path(aside))
                os.rename(path, aside)
                moved.append((path, aside))
        pipeline([["zstd", "-q", "-d", "-c", str(directory / ARCHIVE)],
                  ["tar", "--extract", "--file=-", "--numeric-owner", "--acls", "--xattrs", "-C", "/"]],
                 open(os.devnull, "wb"))  # fmt: skip
        for database in manifest.get("databases", []):
            sql(f"CREATE DATABASE IF NOT EXISTS `{database}`")
            restore_dump({"compression": "zstd"}, directory / (database + ".sql.zst"), database)
    except BaseException:
        for path, aside in moved:
            remove_tree(Path(path))
            os.rename(aside, path)
        if service:
            subprocess.run(["systemctl", "start", service], check=False)
        raise
    for _path, aside in moved:
        remove_tree(Path(aside))
    if service:
        subprocess.run(["systemctl", "start", service], check=True)
    emit(restored=config["app"], backup=backup_id, paths=manifest.get("paths", []))


def prune(config: dict, now: datetime.datetime | None = None) -> list[str]:
    dest = Path(config["destination"])
    now = now or datetime.datetime.now(datetime.timezone.utc)
    removed = retention.to_remove(backup_ids(dest), config["retention"], now)
    for backup_id in removed:
        remove_tree(dest / backup_id)
        emit(removed=backup_id)
    return removed
