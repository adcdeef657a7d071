"""MySQL/MariaDB backups: full dumps with their binlog position, point-in-time restore, verify.

``DEST/ID/`` holds one dump per database, its table statistics (``DB.stats``), ``manifest.json``
and ``SHA256SUMS``; it is written as ``DEST/.ID.partial`` and renamed only when every step
succeeded, so an interrupted run never leaves anything that counts as a backup. ``DEST/binlogs``
holds the copied binlogs. A restore never enters the binlog, and is followed by a fresh backup:
the restored state is the base of the next point-in-time restore.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import secrets
import time
from pathlib import Path

from . import binlogs, retention, shipping
from .binlogs import Position, sql
from .common import (
    BACKUP_ID,
    DATABASE,
    MANIFEST,
    AgentError,
    backup_ids,
    checked,
    emit,
    begin_backup,
    read_json,
    read_sums,
    remove_tree,
    sums_problem,
    write_file,
    write_sums,
)
from .dumps import Dump, restore_dump, suffix
from .stats import snapshot_stats

SET = "mysql"
MARKS_DB, SCRATCH_PREFIX = "fleetops_pitr", "fleetops_verify_"


def destination(config: dict) -> Path:
    return Path(config["destination"])


def run_backup(config: dict) -> str:
    """Dump every database, statistics beside each, then checksums, manifest, rename, ship, prune."""
    dest = destination(config)
    started = time.time()
    backup_id, work = begin_backup(dest)
    pitr = bool(config.get("pitr"))
    sums, positions = {}, {}
    for database in config["databases"]:
        name = database + suffix(config)
        dump = Dump(config, database, work / name, with_position=pitr)
        dump.finish()
        stats = dump.table_digests()
        write_file(work / f"{database}.stats", stats)
        sums[name], sums[f"{database}.stats"] = dump.digest, _digest(stats)
        if pitr:
            positions[database] = {"dump": list(dump.position or ())}
    manifest = {
        "id": backup_id,
        "started": started,
        "finished": time.time(),
        "compression": config.get("compression", "zstd"),
        "encrypted": bool(config.get("key_file")),
        "databases": config["databases"],
        "pitr": pitr,
        "positions": positions,
    }
    write_file(work / MANIFEST, json.dumps(manifest, sort_keys=True) + "\n")
    sums[MANIFEST] = _digest(json.dumps(manifest, sort_keys=True) + "\n")
    write_sums(work, sums)
    os.replace(work, dest / backup_id)
    _fsync_dir(dest)
    emit(backup=backup_id, bytes=_size(dest / backup_id))
    if pitr:
        binlogs.ship_local(dest)
    shipped = ship(config)
    prune(config)
    if shipped is not None:
        raise shipped
    return backup_id


def ship(config: dict) -> AgentError | None:
    """Copy binlogs and unshipped backups to the backup host; the error (if any) for the caller."""
    if not config.get("store"):
        return None
    try:
        shipping.ship_directory(config["store"], SET, destination(config))
    except AgentError as error:
        emit(shipped=False, error=str(error))
        return AgentError(f"backup kept here, but the copy to the backup host failed: {error}")
    return None


def ship_binlogs(config: dict) -> None:
    """The binlog timer: flush, copy, send (keeps the off-host point-in-time window short)."""
    if not config.get("pitr"):
        raise AgentError("point-in-time recovery is off (mysql.backup.pitr)")
    copied = binlogs.ship_local(destination(config))
    emit(binlogs=copied)
    error = ship(config)
    if error is not None:
        raise error


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def list_backups(config: dict, from_store: bool = False) -> None:
    dest = destination(config)
    if from_store:
        for item in shipping.remote_list(config["store"], SET):
            emit(**item, where="store")
        return
    for backup_id in backup_ids(dest):
        directory = dest / backup_id
        emit(
            id=backup_id,
            bytes=_size(directory),
            created=(directory / MANIFEST).stat().st_mtime if (directory / MANIFEST).exists() else 0,
            checksums_ok=sums_problem(directory) is None,
            shipped=(directory / ".shipped").exists(),
            manifest=read_json(directory / MANIFEST),
            where="local",
        )


def latest_id(config: dict) -> str:
    local = backup_ids(destination(config))
    remote = [item["id"] for item in shipping.remote_list(config["store"], SET)] if config.get("store") else []
    ids = sorted(set(local) | set(remote))
    if not ids:
        raise AgentError("no backup to restore (none here, none on the backup host)")
    return ids[-1]


def local_copy(config: dict, backup_id: str) -> Path:
    """``DEST/ID``, fetched from the backup host first when it is not here (host lost, dir deleted)."""
    dest = destination(config)
    directory = dest / checked(BACKUP_ID, backup_id, "backup id")
    if not directory.is_dir():
        if not config.get("store"):
            raise AgentError(f"no backup {backup_id}")
        shipping.fetch_set(config["store"], SET, backup_id, dest)
        emit(fetched=backup_id, source="store")
    problem = sums_problem(directory)
    if problem:
        raise AgentError(f"backup {backup_id} fails its checksums ({problem}); not restoring")
    return directory


def _position(manifest: dict, database: str, which: str = "dump") -> Position:
    value = (manifest.get("positions") or {}).get(database, {}).get(which) or []
    if len(value) != 2:
        raise AgentError(f"backup {manifest.get('id')} has no binlog position for {database} (made without pitr)")
    return Position(value[0], int(value[1]))


def restore(
    config: dict,
    backup_id: str | None,
    databases: list[str],
    to: str | None = None,
    before: str | None = None,
) -> None:
    """Restore databases from a backup, or to a point in time (``to``: host-local time or @epoch)
    or to just before the newest event group matching ``before``; then take a fresh backup."""
    dest = destination(config)
    point_in_time = to is not None or before is not None
    if point_in_time:
        if not config.get("pitr"):
            raise AgentError("point-in-time restore needs mysql.backup.pitr (binary logs)")
        if binlogs.server_running():
            binlogs.ship_local(dest)
        if config.get("store"):
            try:
                shipping.fetch_binlogs(config["store"], SET, dest)
            except AgentError as error:  # the local copies may be enough; the chain check says
                emit(store_unreachable=str(error))
    stop_datetime = _stop_datetime(to) if to is not None else None
    stop_event = None
    if before is not None:
        stop_event, backup_id = _newest_match(config, before, databases)
        emit(stop_before=stop_event.text[:300], at=list(stop_event.position), time=stop_event.time)
    if backup_id is None or backup_id == "latest":
        backup_id = _base_for(config, to) if to is not None else latest_id(config)
    directory = local_copy(config, backup_id)
    manifest = read_json(directory / MANIFEST) or {}
    wanted = databases or list(manifest.get("databases") or [])
    for database in wanted:
        checked(DATABASE, database, "database name")
        if database not in (manifest.get("databases") or []):
            raise AgentError(f"database {database} is not in backup {backup_id}")
    started = time.monotonic()
    for database in wanted:
        sql(f"CREATE DATABASE IF NOT EXISTS `{database}`")
        restore_dump(config, directory / (database + suffix(config)), database)
        if point_in_time:
            binlogs.replay(
                dest,
                database,
                _position(manifest, database),
                stop_position=stop_event.position if stop_event else None,
                stop_datetime=stop_datetime,
            )
        emit(restored=database, backup=backup_id, point_in_time=bool(point_in_time))
    emit(restore_seconds=round(time.monotonic() - started, 2))
    run_backup(config)  # the restored state is the base from now on


def _stop_datetime(to: str) -> str:
    """mysqlbinlog's --stop-datetime (host-local, whole seconds) that keeps every event at or
    before ``to``: events stamped at the stop second are excluded, so the next second is passed."""
    if to.startswith("@"):
        moment = float(to[1:])
    else:
        try:
            parsed = datetime.datetime.strptime(to, "%Y-%m-%d %H:%M:%S")
        except ValueError:
            raise AgentError(f"not a time: {to!r} (YYYY-MM-DD HH:MM:SS host time, or @EPOCH)") from None
        moment = time.mktime(parsed.timetuple())
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(int(moment) + 1))


def _moment(to: str) -> float:
    if to.startswith("@"):
        return float(to[1:])
    return time.mktime(datetime.datetime.strptime(to, "%Y-%m-%d %H:%M:%S").timetuple())


def _base_for(config: dict, to: str) -> str:
    """The newest backup (here or on the backup host) finished before ``to``: its data is all
    older than the point."""
    moment = _moment(to)
    dest = destination(config)
    finished = {i: (read_json(dest / i / MANIFEST) or {}).get("finished") for i in backup_ids(dest)}
    if config.get("store"):
        try:
            for item in shipping.remote_list(config["store"], SET):
                finished.setdefault(item["id"], (item.get("manifest") or {}).get("finished"))
        except AgentError as error:
            emit(store_unreachable=str(error))
    candidates = sorted(i for i, done in finished.items() if done is not None and done < moment)
    if not candidates:
        raise AgentError(f"no backup finished before {to}")
    return candidates[-1]


def _newest_match(config: dict, pattern: str, databases: list[str]) -> tuple[binlogs.Event, str]:
    """The newest event group matching ``pattern`` after the oldest backup, and the newest backup
    whose dump starts before it."""
    dest = destination(config)
    ids = backup_ids(dest)
    if not ids:
        raise AgentError("no backup to restore from")
    manifests = {backup_id: read_json(dest / backup_id / MANIFEST) or {} for backup_id in ids}
    ids = [backup_id for backup_id in ids if manifests[backup_id].get("positions")]
    if not ids:
        raise AgentError("no backup with a binlog position to start from (made before pitr was on)")
    first = manifests[ids[0]]
    first_db = (databases or first.get("databases") or [""])[0]
    matches = binlogs.search(dest, _position(first, first_db), pattern)
    if not matches:
        raise AgentError(f"no statement matching {pattern!r} in the binary logs since backup {ids[0]}")
    event = matches[-1]
    bases = [i for i in ids if _position(manifests[i], first_db).key <= event.position.key]
    return event, bases[-1]


def verify(config: dict, backup_id: str) -> bool:
    """Checksums, a restore of every dump into scratch databases compared with its statistics
    (the binlog gap between the dump's and the statistics' snapshots replayed first), and, with
    pitr, a point-in-time proof: two marker writes, a replay to between them, and a comparison."""
    dest = destination(config)
    if backup_id == "latest":
        backup_id = latest_id(config)
    status, detail = "ok", ""
    try:
        directory = local_copy(config, backup_id)
        manifest = read_json(directory / MANIFEST) or {}
        for database in manifest.get("databases") or []:
            _verify_database(config, directory, manifest, database)
        if manifest.get("pitr"):
            _verify_point_in_time(dest, manifest)
    except (AgentError, OSError) as error:
        status, detail = "failed", str(error)
    result = {"backup": backup_id, "status": status, "detail": detail, "time": time.time()}
    write_file(dest / ".last-verify.json", json.dumps(result) + "\n")
    if status == "ok":
        write_file(dest / ".last-verified.json", json.dumps(result) + "\n")
    emit(**result)
    return status == "ok"


def _verify_database(config: dict, directory: Path, manifest: dict, database: str) -> None:
    """Restore into scratch, dump the scratch database again: every table's data section must
    hash as the backup recorded them (backups from before round 2 recorded CHECKSUM TABLE)."""
    scratch = SCRATCH_PREFIX + database
    sql(f"DROP DATABASE IF EXISTS `{scratch}`; CREATE DATABASE `{scratch}`")
    try:
        try:
            restore_dump(config, directory / (database + suffix(config)), scratch)
        except AgentError as error:
            raise AgentError(f"restore of {database} failed: {error}") from None
        recorded = (directory / f"{database}.stats").read_text()
        if "pitr" not in manifest:
            found, _ = snapshot_stats(scratch)
        else:
            redump = Dump({"compression": "none"}, scratch, Path(os.devnull), with_position=False)
            redump.finish()
            found = redump.table_digests()
        if found != recorded:
            differing = sorted(set(found.splitlines()) ^ set(recorded.splitlines()))
            tables = sorted({line.split("\t")[0] for line in differing})
            raise AgentError(f"table contents of {database} differ from the backup's record ({', '.join(tables)})")
    finally:
        sql(f"DROP DATABASE IF EXISTS `{scratch}`")


def _verify_point_in_time(dest: Path, manifest: dict) -> None:
    """Write marks A then B, ship, replay the marks database from this backup's position to just
    before B into scratch: A must be there and B must not."""
    first, second = secrets.randbelow(2**62), secrets.randbelow(2**62)
    sql(f"CREATE DATABASE IF NOT EXISTS `{MARKS_DB}`", logged=True)
    sql(f"CREATE TABLE IF NOT EXISTS `{MARKS_DB}`.marks (id BIGINT PRIMARY KEY, note VARCHAR(64))", logged=True)
    for mark in (first, second):
        sql(f"INSERT INTO `{MARKS_DB}`.marks VALUES ({mark}, 'verify {manifest['id']}')", logged=True)
    binlogs.ship_local(dest)
    start = _position(manifest, manifest["databases"][0])
    found = binlogs.search(dest, start, rf"@1={second}\b")
    if not found:
        raise AgentError("point-in-time proof: the marker write is not in the copied binlogs")
    scratch = SCRATCH_PREFIX + "pitr"
    sql(f"DROP DATABASE IF EXISTS `{scratch}`; CREATE DATABASE `{scratch}`; "
        f"CREATE TABLE `{scratch}`.marks LIKE `{MARKS_DB}`.marks")  # fmt: skip
    try:
        binlogs.replay(dest, MARKS_DB, start, stop_position=found[0].position, into=scratch)
        present = set(sql(f"SELECT id FROM `{scratch}`.marks WHERE id IN ({first}, {second})").split())
    finally:
        sql(f"DROP DATABASE IF EXISTS `{scratch}`")
    if present != {str(first)}:
        raise AgentError(
            f"point-in-time proof failed: replay to between two writes left {sorted(present) or 'neither'}"
        )


def prune(config: dict, now: datetime.datetime | None = None) -> list[str]:
    """GFS retention here (never the newest verified backup); binlog copies older than the
    oldest kept backup's position go too, once the backup host has them (or there is none)."""
    dest = destination(config)
    verified = (read_json(dest / ".last-verified.json") or {}).get("backup")
    now = now or datetime.datetime.now(datetime.timezone.utc)
    removed = retention.to_remove(backup_ids(dest), config["retention"], now, [verified] if verified else [])
    for backup_id in removed:
        remove_tree(dest / backup_id)
        emit(removed=backup_id)
    _prune_binlogs(config, dest)
    return removed


def _prune_binlogs(config: dict, dest: Path) -> None:
    kept = backup_ids(dest)
    directory = dest / "binlogs"
    if not kept or not directory.is_dir():
        return
    oldest = read_json(dest / kept[0] / MANIFEST) or {}
    files = [p["dump"][0] for p in (oldest.get("positions") or {}).values() if p.get("dump")]
    if not files:
        return
    floor = min(binlogs.sequence(name) for name in files)
    shipped = shipping.shipped_binlogs(dest) if config.get("store") else None
    sums = read_sums(directory) if (directory / "SHA256SUMS").exists() else {}
    gone = [n for n in sums if binlogs.sequence(n) < floor and (shipped is None or n in shipped)]
    for name in gone:
        (directory / name).unlink(missing_ok=True)
        del sums[name]
    if gone:
        write_sums(directory, sums)
