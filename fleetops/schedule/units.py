"""The service and timer of a schedule, rendered (pure: the text only, no systemd)."""

from __future__ import annotations

import shlex

from fleetops.render import render
from fleetops.schedule.spec import Schedule, seconds


def service_text(schedule: Schedule, fleetops: list[str], state: str, lock_dir: str) -> str:
    """A oneshot running ``fleetops schedule exec NAME`` under ``flock -n``: a second start while
    one runs fails at once instead of queueing behind it."""
    argv: list[str] = ["/usr/bin/flock", "--nonblock", f"{lock_dir}/{schedule.name}.lock", *fleetops]
    exec_start = " ".join(shlex.quote(part) for part in [*argv, "schedule", "exec", schedule.name])
    return render(
        "schedule/schedule.service.j2",
        schedule=schedule,
        command=" ".join(shlex.quote(arg) for arg in schedule.args),
        exec_start=exec_start.replace("%", "%%"),
        state=state,
        timeout_s=seconds(schedule.timeout),
    )


def timer_text(schedule: Schedule) -> str:
    return render(
        "schedule/schedule.timer.j2",
        schedule=schedule,
        every_s=seconds(schedule.every) if schedule.every else None,
        delay_s=seconds(schedule.randomized_delay) if schedule.randomized_delay else None,
    )
