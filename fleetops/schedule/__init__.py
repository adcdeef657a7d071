"""Schedules without a server: systemd timers on the host that runs fleetops, run history,
notifications on state change.

``spec`` (a schedule as data, validated), ``units`` (its service and timer, rendered), ``store``
(where schedules live on their host), ``history`` (SQLite, one row per run), ``notify`` (webhook and
email, with retries and throttling), ``execute`` (what the timer runs: the command, its state, the
history row, the notifications), ``systemd`` (install, remove, start, state of the units).
"""
