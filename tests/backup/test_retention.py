"""GFS retention over simulated months of backups, in the pure rules and through both pruners."""

from __future__ import annotations

import datetime
import json

from fleetops.backup.agent import mysql, retention, store
from fleetops.backup.agent.common import id_time, new_id

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
POLICY = {"keep_last": 2, "keep_within_days": 0, "keep_daily": 7, "keep_weekly": 4, "keep_monthly": 3}


def every_six_hours(first: datetime.date, last: datetime.date) -> list[str]:
    """Backups at 00, 06, 12 and 18 UTC on every day from ``first`` to ``last``."""
    ids, day = [], first
    while day <= last:
        for hour in (0, 6, 12, 18):
            ids.append(new_id(datetime.datetime(day.year, day.month, day.day, hour, tzinfo=UTC)))
        day += datetime.timedelta(days=1)
    return ids


TWO_MONTHS = every_six_hours(datetime.date(2026, 11, 1), datetime.date(2026, 12, 31))
# What the rules keep, worked out by hand (2026-12-31 is a Thursday in ISO week 53):
EXPECTED = {
    "20261231T180000Z",  # newest; last 1; daily Dec 31; week 53; month Dec
    "20261231T120000Z",  # last 2
    *(f"202612{day}T180000Z" for day in ("30", "29", "28", "27", "26", "25")),  # daily: 6 more days
    "20261220T180000Z",  # week 51 (week 52's newest is Dec 27, already kept)
    "20261213T180000Z",  # week 50
    "20261130T180000Z",  # month Nov (Oct has no backup, so no third month)
}


def test_gfs_keeps_the_expected_set_over_two_months():
    assert len(TWO_MONTHS) == 61 * 4
    kept = retention.to_keep(TWO_MONTHS, POLICY, NOW)
    assert set(kept) == EXPECTED
    assert kept["20261231T180000Z"] == ["last", "daily", "weekly", "monthly", "newest"]
    assert kept["20261130T180000Z"] == ["monthly"]
    assert retention.to_remove(TWO_MONTHS, POLICY, NOW) == sorted(set(TWO_MONTHS) - EXPECTED)


def test_a_week_without_backups_does_not_use_up_a_weekly_slot():
    ids = [i for i in TWO_MONTHS if not ("20261214" <= i[:8] <= "20261220")]  # week 51 missing
    kept = retention.to_keep(ids, {"keep_weekly": 4}, NOW)
    assert {id_time(i).isocalendar()[1] for i in kept} == {53, 52, 50, 49}


def test_keep_within_days_and_the_verified_backup_are_kept():
    kept = retention.to_keep(TWO_MONTHS, {"keep_last": 1, "keep_within_days": 1}, NOW, protect=["20261101T000000Z"])
    within = {i for i in TWO_MONTHS if NOW - id_time(i) < datetime.timedelta(days=1)}
    assert set(kept) == within | {"20261101T000000Z"}
    assert kept["20261101T000000Z"] == ["verified"]


def test_never_the_only_verified_backup():
    ids = ["20261201T000000Z", "20261202T000000Z"]  # only the older one was ever verified
    assert retention.to_remove(ids, {"keep_last": 1}, NOW, protect=["20261201T000000Z"]) == []
    assert retention.to_remove(ids, {"keep_last": 1}, NOW) == ["20261201T000000Z"]
    assert retention.to_keep([], POLICY, NOW) == {}


def _fake_backups(root, ids, sealed=False):
    for backup_id in ids:
        (root / backup_id).mkdir(parents=True)
        (root / backup_id / "manifest.json").write_text(json.dumps({"id": backup_id}))
        if sealed:
            (root / backup_id / store.SEALED).write_text("1\n")


def test_the_database_host_pruner_applies_gfs_and_protects_the_verified_backup(tmp_path, capsys):
    _fake_backups(tmp_path, TWO_MONTHS)
    (tmp_path / ".last-verified.json").write_text(json.dumps({"backup": "20261115T060000Z", "status": "ok"}))
    removed = mysql.prune({"destination": str(tmp_path), "retention": POLICY, "store": None}, NOW)
    left = {p.name for p in tmp_path.iterdir() if p.is_dir()}
    assert left == EXPECTED | {"20261115T060000Z"}
    assert len(removed) == len(TWO_MONTHS) - len(left)
    assert capsys.readouterr().out.count('"removed"') == len(removed)


def test_the_store_pruner_applies_each_clients_policy_and_drops_stale_unsealed(tmp_path):
    root = tmp_path / "store"
    _fake_backups(root / "db1" / "mysql", TWO_MONTHS, sealed=True)
    _fake_backups(root / "db1" / "mysql", ["20261231T220000Z"])  # never sealed, but young
    _fake_backups(root / "gw1" / "app-edge", TWO_MONTHS[-8:], sealed=True)
    config = {"root": str(root), "clients": {"db1": {"mysql": POLICY}, "gw1": {"app-edge": {"keep_last": 3}}}}
    store.prune(config, NOW)
    assert {p.name for p in (root / "db1" / "mysql").iterdir()} == EXPECTED | {"20261231T220000Z"}
    assert sorted(p.name for p in (root / "gw1" / "app-edge").iterdir()) == TWO_MONTHS[-3:]
