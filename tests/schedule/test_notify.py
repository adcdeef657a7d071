"""Notifications against real local receivers, the throttle, and a schedule's run from end to end
(its command a stand-in that exits as told; history, states and messages are the real ones)."""

from __future__ import annotations

import sys

import pytest

from fleetops.schedule import execute, history, notify
from fleetops.schedule.spec import Notify, Schedule
from fleetops.secrets import Secret
from tests.schedule.receivers import HttpReceiver, SmtpReceiver

MESSAGE = notify.Message("health", "ctl1", "check --suite baseline", "CRITICAL", "OK", 2, 1.5, "CRITICAL: 1 critical")


@pytest.mark.parametrize(
    "verb, state, last, now, expected",
    [
        ("check", "OK", None, 100, None),  # first run, all well: nothing to say
        ("check", "CRITICAL", None, 100, "send"),
        ("check", "CRITICAL", ("CRITICAL", 50), 100, None),  # still critical: said already
        ("check", "OK", ("CRITICAL", 50), 1000, "send"),  # recovery
        ("check", "OK", ("CRITICAL", 50), 100, "suppress"),  # recovery inside the 600 s window
        ("check", "WARNING", ("CRITICAL", 50), 100, "suppress"),
        ("deploy", "changed", ("changed", 50), 1000, "send"),  # every change is news
        ("deploy", "ok", None, 100, None),
        ("deploy", "failed", ("changed", 10), 1000, "send"),
        ("backup", "ok", ("failed", 10), 1000, "send"),
    ],
)
def test_decide(verb, state, last, now, expected):
    assert notify.decide(verb, state, last, 600, now) == expected


def test_the_webhook_is_retried_with_backoff_and_authenticates(monkeypatch):
    pauses = []
    with HttpReceiver(fail_first=2) as receiver:
        hook = Notify(webhook=receiver.url, webhook_token=Secret(receiver.token))
        assert notify.send_webhook(hook, MESSAGE, sleep=pauses.append) is None
        assert receiver.attempts == 3 and pauses == [1.0, 2.0]
        assert receiver.received[0]["state"] == "CRITICAL" and receiver.received[0]["previous"] == "OK"
        wrong = Notify(webhook=receiver.url, webhook_token=Secret("not-the-token"))
        error = notify.send_webhook(wrong, MESSAGE, sleep=pauses.append)
        assert error and "HTTP 401 after 1 attempt(s)" in error and "not-the-token" not in error


def test_an_unreachable_webhook_gives_up_after_every_retry():
    hook = Notify(webhook="http://127.0.0.1:9/hook")
    error = notify.send_webhook(hook, MESSAGE, sleep=lambda _s: None)
    assert error and "after 4 attempt(s)" in error


def test_email_goes_over_starttls_with_a_login_checked_against_the_ca(tmp_path):
    with SmtpReceiver(tmp_path) as smtp:
        mail = Notify(email_to=["ops@example.com"], email_from="fleetops@example.com", smtp_host="127.0.0.1",
                      smtp_port=smtp.port, smtp_user=smtp.user, smtp_password=Secret(smtp.password),
                      smtp_ca=str(smtp.cert))  # fmt: skip
        assert notify.send_email(mail, MESSAGE) is None
        (got,) = smtp.messages
        assert got["tls"] and got["to"] == ["ops@example.com"] and "health on ctl1: OK -> CRITICAL" in got["data"]
        unverified = mail.model_copy(update={"smtp_ca": None})
        assert "CERTIFICATE_VERIFY_FAILED" in notify.send_email(unverified, MESSAGE)
        wrong = mail.model_copy(update={"smtp_password": Secret("wrong-password")})
        error = notify.send_email(wrong, MESSAGE)
        assert "SMTPAuthenticationError" in error and "wrong-password" not in error


def test_email_without_smtp_settings_is_refused():
    with pytest.raises(ValueError, match="email_to needs smtp_host and email_from"):
        Notify(email_to=["ops@example.com"])


@pytest.fixture
def stand_in(monkeypatch, tmp_path):
    """The schedule's fleetops: a script exiting with the code in a file, printing a summary."""
    code = tmp_path / "code"
    code.write_text("0")
    script = f"import sys; c=int(open({str(code)!r}).read()); print('state', c); sys.exit(c)"
    monkeypatch.setattr(execute, "fleetops_command", lambda: [sys.executable, "-c", script])
    monkeypatch.setattr(execute, "TEXTFILE_DIR", tmp_path / "textfiles")
    return code


def test_a_check_schedule_tells_once_on_the_change_and_once_on_recovery(stand_in, tmp_path):
    db = history.database(tmp_path / "h.db")
    with HttpReceiver() as hook, SmtpReceiver(tmp_path) as smtp:
        schedule = Schedule(
            name="health", args=["check", "--suite", "baseline"], every="1m",
            notify=Notify(webhook=hook.url, webhook_token=Secret(hook.token), email_to=["ops@example.com"],
                          email_from="fleetops@example.com", smtp_host="127.0.0.1", smtp_port=smtp.port,
                          smtp_user=smtp.user, smtp_password=Secret(smtp.password), smtp_ca=str(smtp.cert),
                          throttle="0s"),
        )  # fmt: skip
        states = []
        for code in ("0", "0", "2", "2", "0", "0"):
            stand_in.write_text(code)
            states.append(execute.run_schedule(schedule, db)["state"])
        assert states == ["OK", "OK", "CRITICAL", "CRITICAL", "OK", "OK"]
        assert [m["state"] for m in hook.received] == ["CRITICAL", "OK"]
        assert [m["previous"] for m in hook.received] == ["OK", "CRITICAL"]
        assert len(smtp.messages) == 2
    runs = history.runs(db, "health")
    assert [r.notified for r in runs] == ["", "", "webhook,email", "", "webhook,email", ""]


def test_a_flapping_check_is_throttled_and_the_settled_state_sent_later(stand_in, tmp_path, monkeypatch):
    db = history.database(tmp_path / "h.db")
    clock = [1000.0]
    monkeypatch.setattr(execute.time, "time", lambda: clock[0])
    with HttpReceiver() as hook:
        schedule = Schedule(name="flap", args=["check"], every="1m",
                            notify=Notify(webhook=hook.url, webhook_token=Secret(hook.token), throttle="10m"))  # fmt: skip
        for code in ("2", "0", "2", "0", "2", "0"):
            stand_in.write_text(code)
            execute.run_schedule(schedule, db)
            clock[0] += 60
        assert [m["state"] for m in hook.received] == ["CRITICAL"], "one message for six flips in 6 minutes"
        clock[0] += 600
        stand_in.write_text("0")
        execute.run_schedule(schedule, db)
        assert [m["state"] for m in hook.received] == ["CRITICAL", "OK"]
        assert hook.received[-1]["suppressed"] == 3


def test_a_scheduled_check_writes_its_prometheus_textfile_where_node_exporter_reads(stand_in):
    schedule = Schedule(name="health", args=["check"], every="1m")
    argv = execute.command_for(schedule)
    assert argv[-2:] == ["--prometheus", str(execute.TEXTFILE_DIR / "fleetops-health.prom")]
    deploy = Schedule(name="nightly", args=["deploy", "deploys/site.py"], on_calendar="*-*-* 02:30")
    assert execute.command_for(deploy)[-1] == "--json"


def test_a_deploy_state_comes_from_its_run_record():
    deploy = Schedule(name="n", args=["deploy", "x.py"], every="1d")
    assert execute.state_of(deploy, 0, '{"status": "changed", "run_id": "r", "summary": {}}') == "changed"
    assert execute.state_of(deploy, 0, '{"status": "ok"}') == "ok"
    assert execute.state_of(deploy, 1, '{"status": "failed"}') == "failed"
    assert execute.state_of(deploy, 0, "not json") == "failed"
