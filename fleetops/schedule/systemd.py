"""A schedule's units on this host: written, enabled, started, removed, asked about."""

from __future__ import annotations

import subprocess
from pathlib import Path

from fleetops.errors import EnvironmentProblem, InputError
from fleetops.fileutil import atomic_write_text
from fleetops.paths import state_dir
from fleetops.schedule import units
from fleetops.schedule.execute import fleetops_command
from fleetops.schedule.spec import Schedule

UNIT_DIR = Path("/etc/systemd/system")


def require_systemd() -> None:
    """EnvironmentProblem (one line, exit 3) unless PID 1 is systemd."""
    try:
        init = Path("/proc/1/comm").read_text().strip()
    except OSError:
        init = "unknown"
    if init != "systemd":
        raise EnvironmentProblem(
            f"this machine does not run systemd (PID 1 is {init}): schedules need systemd timers; "
            "use --on HOST to keep them on a control host of the inventory"
        )


def systemctl(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(["systemctl", *args], capture_output=True, text=True)
    if check and done.returncode != 0:
        raise EnvironmentProblem(f"systemctl {' '.join(args)}: {done.stderr.strip() or done.returncode}")
    return done


def validate_calendar(spec: str) -> str:
    """systemd's own normalised form of ``spec``; InputError with its complaint otherwise."""
    done = subprocess.run(["systemd-analyze", "calendar", spec], capture_output=True, text=True)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["invalid"])[-1]
        raise InputError(f"--on-calendar {spec!r}: {reason}")
    for line in done.stdout.splitlines():
        if line.strip().startswith("Normalized form:"):
            return line.split(":", 1)[1].strip()
    return spec


def install(schedule: Schedule) -> None:
    state = str(state_dir())
    lock_dir = f"{state}/schedules"
    Path(lock_dir).mkdir(parents=True, exist_ok=True, mode=0o700)
    _chown(Path(state), schedule.user)
    _chown(Path(lock_dir), schedule.user)
    # the stable link a control node has (releases come and go), else this fleetops
    stable = Path("/usr/local/bin/fleetops")
    command = [str(stable)] if stable.exists() else fleetops_command()
    atomic_write_text(
        UNIT_DIR / f"{schedule.unit}.service", units.service_text(schedule, command, state, lock_dir), 0o644
    )
    atomic_write_text(UNIT_DIR / f"{schedule.unit}.timer", units.timer_text(schedule), 0o644)
    systemctl("daemon-reload")
    systemctl("enable", "--now", f"{schedule.unit}.timer")


def uninstall(schedule_unit: str) -> list[str]:
    """Stop and remove both units; returns what was removed."""
    systemctl("disable", "--now", f"{schedule_unit}.timer", check=False)
    systemctl("stop", f"{schedule_unit}.service", check=False)
    removed = []
    for suffix in ("service", "timer"):
        path = UNIT_DIR / f"{schedule_unit}.{suffix}"
        if path.exists():
            path.unlink()
            removed.append(path.name)
    systemctl("daemon-reload")
    systemctl("reset-failed", f"{schedule_unit}.service", check=False)
    return removed


def unit_state(schedule_unit: str) -> dict[str, str]:
    props = "ActiveState,SubState,Result,ExecMainStartTimestamp"
    service = systemctl("show", "-p", props, f"{schedule_unit}.service", check=False).stdout
    timer = systemctl(
        "show", "-p", "ActiveState,NextElapseUSecRealtime,LastTriggerUSec", f"{schedule_unit}.timer", check=False
    ).stdout
    values = {}
    for prefix, text in (("service", service), ("timer", timer)):
        for line in text.splitlines():
            key, _, value = line.partition("=")
            values[f"{prefix}_{key}"] = value
    return values


def _chown(path: Path, user: str) -> None:
    import os
    import pwd

    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        raise InputError(f"--user {user}: no such user on this host") from None
    os.chown(path, entry.pw_uid, entry.pw_gid)
