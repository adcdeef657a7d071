"""Which backups to keep: grandfather-father-son, restic's rules, never the only verified one.

A backup is kept when any rule keeps it:

* ``keep_last``: the newest N;
* ``keep_within_days``: every backup younger than N days;
* ``keep_daily`` / ``keep_weekly`` / ``keep_monthly``: the newest backup of each of the newest N
  days / ISO weeks / months that have a backup (a week without backups does not use up a slot);
* protected ids (the newest verified backup, so pruning never leaves nothing proven restorable);
* always the newest backup of all.

Pure: ids in, ids out; the caller deletes. Ids are UTC times (``20261201T023000Z``).
"""

from __future__ import annotations

import datetime
from typing import Callable, Iterable

from .common import id_time

Bucket = Callable[[datetime.datetime], tuple]
BUCKETS: dict[str, Bucket] = {
    "keep_daily": lambda t: (t.year, t.month, t.day),
    "keep_weekly": lambda t: tuple(t.isocalendar()[:2]),
    "keep_monthly": lambda t: (t.year, t.month),
}
RULES = ("keep_last", "keep_within_days", *BUCKETS)


def to_keep(
    ids: Iterable[str], policy: dict, now: datetime.datetime, protect: Iterable[str] = ()
) -> dict[str, list[str]]:
    """Each kept id with the rules that keep it (the reason a listing can show)."""
    newest_first = sorted(set(ids), reverse=True)
    reasons: dict[str, list[str]] = {}

    def keep(backup_id: str, why: str) -> None:
        reasons.setdefault(backup_id, []).append(why)

    for backup_id in newest_first[: max(policy.get("keep_last", 0), 0)]:
        keep(backup_id, "last")
    within = policy.get("keep_within_days", 0)
    for backup_id in newest_first:
        if within and now - id_time(backup_id) < datetime.timedelta(days=within):
            keep(backup_id, "within")
    for rule, bucket in BUCKETS.items():
        wanted, seen = policy.get(rule, 0), set[tuple]()
        for backup_id in newest_first:
            key = bucket(id_time(backup_id))
            if key in seen:
                continue
            if len(seen) >= wanted:
                break
            seen.add(key)
            keep(backup_id, rule.removeprefix("keep_"))
    for backup_id in set(protect) & set(newest_first):
        keep(backup_id, "verified")
    if newest_first:
        keep(newest_first[0], "newest")
    return reasons


def to_remove(ids: Iterable[str], policy: dict, now: datetime.datetime, protect: Iterable[str] = ()) -> list[str]:
    """The ids no rule keeps, oldest first."""
    ids = list(ids)
    kept = to_keep(ids, policy, now, protect)
    return sorted(set(ids) - set(kept))
