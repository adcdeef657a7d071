"""What a schedule's timer runs (``fleetops schedule exec NAME``): the command, its state, one
history row, the notifications.

The command is fleetops itself in a child process (its own exit code, its own timeout). States:
a check's exit code is its Nagios state (``OK``/``WARNING``/``CRITICAL``/``UNKNOWN``); a deploy is
run with ``--json`` and is ``ok``, ``changed`` or ``failed`` from its run record; anything else is
``ok`` or ``failed``. A scheduled check also writes a Prometheus textfile where node_exporter's
textfile collector reads it, unless the command names its own ``--prometheus``.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

from fleetops.schedule import history, notify
from fleetops.schedule.spec import Schedule, seconds
from fleetops.secrets import redact

TEXTFILE_DIR = Path(os.environ.get("FLEETOPS_TEXTFILE_DIR", "/var/lib/prometheus/node-exporter"))
CHECK_STATES = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}


def fleetops_command() -> list[str]:
    """This fleetops, as a command: its own interpreter (a console script's shebang may name the
    path a relocated venv was built at)."""
    return [sys.executable, "-m", "fleetops.cli"]


def command_for(schedule: Schedule) -> list[str]:
    args = list(schedule.args)
    if schedule.verb == "check" and "--prometheus" not in args:
        args += ["--prometheus", str(TEXTFILE_DIR / f"fleetops-{schedule.name}.prom")]
    if schedule.verb == "deploy" and "--json" not in args:
        args += ["--json"]
    return fleetops_command() + args


def state_of(schedule: Schedule, exit_code: int, stdout: str) -> str:
    if schedule.verb == "check":
        return CHECK_STATES.get(exit_code, "UNKNOWN")
    if schedule.verb == "deploy":
        try:
            status = json.loads(stdout)["status"]
        except (ValueError, KeyError, TypeError):
            return "failed"
        return {"ok": "ok", "changed": "changed"}.get(status, "failed") if exit_code == 0 else "failed"
    return "ok" if exit_code == 0 else "failed"


def summary_of(schedule: Schedule, stdout: str, stderr: str) -> str:
    if schedule.verb == "deploy":
        try:
            record = json.loads(stdout)
            changed = [f"{name}: {op['name']}" for name, host in record["hosts"].items()
                       for op in host["operations"] if op["changed"]]  # fmt: skip
            text = f"run {record['run_id']}: {record['status']}, {json.dumps(record['summary'])}"
            return text + "".join(f"\n  changed {line}" for line in changed[:20])
        except (ValueError, KeyError, TypeError):
            pass
    lines = [line for line in (stdout + "\n" + stderr).splitlines() if line.strip()]
    return redact("\n".join(lines[-12:]))[:4000]


def run_schedule(schedule: Schedule, db=None) -> dict:
    """Run once; returns the history row as a dict (with the notification outcome)."""
    if schedule.verb == "check":
        TEXTFILE_DIR.mkdir(parents=True, exist_ok=True)
    db = db or history.database()
    argv = command_for(schedule)
    started = time.time()
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=seconds(schedule.timeout), stdin=subprocess.DEVNULL
        )
        exit_code, stdout, stderr = done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired as expired:
        exit_code, stdout, stderr = 124, "", f"timed out after {schedule.timeout}: {expired}"
    duration = time.time() - started
    state = (
        state_of(schedule, exit_code, stdout)
        if exit_code != 124
        else ("UNKNOWN" if schedule.verb == "check" else "failed")
    )
    summary = summary_of(schedule, stdout, stderr)
    run_id = history.record(db, schedule.name, started, duration, exit_code, state, summary)
    outcome = {"id": run_id, "state": state, "exit_code": exit_code, "duration_s": round(duration, 3), "notified": ""}
    if schedule.notify is None:
        return outcome
    last = history.last_notified(db, schedule.name)
    verdict = notify.decide(schedule.verb, state, last, notify.throttle_seconds(schedule.notify), time.time())
    if verdict == "suppress":
        history.mark_notified(db, run_id, "suppressed")
        outcome["notified"] = "suppressed"
    elif verdict == "send":
        message = notify.Message(
            schedule=schedule.name,
            host=socket.gethostname(),
            command=" ".join(shlex.quote(a) for a in schedule.args),
            state=state,
            previous=last[0] if last else history.previous_state(db, schedule.name, run_id),
            exit_code=exit_code,
            duration_s=duration,
            summary=summary,
            suppressed=history.suppressed_since(db, schedule.name, last[1]) if last else 0,
        )
        told, errors = notify.deliver(schedule.notify, message)
        history.mark_notified(db, run_id, ",".join(told) or "failed")
        outcome.update(notified=",".join(told), errors=errors)
        for error in errors:
            print(f"fleetops schedule {schedule.name}: notification failed: {error}", file=sys.stderr)
    return outcome
