"""Schedules as data and the units they become (text only, no systemd)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from fleetops.schedule.spec import Schedule
from fleetops.schedule.units import service_text, timer_text


def test_an_interval_schedule_renders_a_locked_oneshot_and_its_timer():
    schedule = Schedule(name="health", args=["check", "--suite", "my suite;rm"], every="15m", randomized_delay="1m")
    service = service_text(schedule, ["/usr/local/bin/fleetops"], "/var/lib/fleetops", "/var/lib/fleetops/schedules")
    assert (
        "ExecStart=/usr/bin/flock --nonblock /var/lib/fleetops/schedules/health.lock /usr/local/bin/fleetops schedule exec health"
        in service
    )
    assert "Type=oneshot" in service and "User=fleetops" in service and "TimeoutStartSec=1800" in service
    assert "# fleetops schedule health: fleetops check --suite 'my suite;rm'" in service
    timer = timer_text(schedule)
    assert "OnActiveSec=900" in timer and "OnUnitActiveSec=900" in timer and "RandomizedDelaySec=60" in timer
    assert "OnCalendar" not in timer


def test_a_calendar_schedule_is_persistent():
    timer = timer_text(Schedule(name="nightly", args=["deploy", "site.py"], on_calendar="*-*-* 02:30:00"))
    assert "OnCalendar=*-*-* 02:30:00" in timer and "Persistent=true" in timer


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"every": "1m", "on_calendar": "daily"}, "give --every or --on-calendar"),
        ({}, "give --every or --on-calendar"),
        ({"every": "90"}, "'90' is not a duration"),
        ({"every": "1m", "name": "Bad Name"}, "name"),
        ({"every": "1m", "args": ["schedule", "list"]}, "a schedule runs one of"),
        ({"every": "1m", "args": ["check", "a\nb"]}, "newlines"),
        ({"on_calendar": "daily\nExecStart=/bin/evil"}, "newlines"),
        ({"every": "1m", "user": "root;x"}, "user"),
    ],
)
def test_bad_schedules_are_refused(fields, message):
    data = {"name": "x", "args": ["check"], **fields}
    with pytest.raises(ValidationError, match=message):
        Schedule.model_validate(data)
