"""Tell people when a schedule's state changes: a webhook (JSON POST, retried with backoff) and
email (SMTP with STARTTLS), throttled so a flapping check sends one message per window.

The decision is pure (:func:`decide`): a run is worth telling when its state differs from the
last state *sent* (a quiet state when nothing was sent yet), or when a deploy changed something;
within ``throttle`` of the last message it is suppressed, and the next message counts what was
suppressed. Because the comparison is with the last state sent, a check flapping inside the
window sends nothing more, and the state it settles on is sent once the window has passed.
"""

from __future__ import annotations

import json
import smtplib
import socket
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage

from fleetops.schedule.spec import Notify, seconds
from fleetops.secrets import redact

QUIET = ("OK", "ok")
RETRIES = (1.0, 2.0, 4.0)  # seconds between webhook attempts


def decide(verb: str, state: str, last_sent: tuple[str, float] | None, throttle_s: int, now: float) -> str | None:
    """``"send"``, ``"suppress"`` or None (nothing worth telling)."""
    baseline = last_sent[0] if last_sent else "OK"
    interesting = state != baseline and not (state in QUIET and baseline in QUIET)
    if verb in ("deploy", "rollout") and state == "changed":
        interesting = True  # every change a scheduled deploy makes is news
    if not interesting:
        return None
    if last_sent and now - last_sent[1] < throttle_s:
        return "suppress"
    return "send"


@dataclass(frozen=True)
class Message:
    schedule: str
    host: str
    command: str
    state: str
    previous: str | None
    exit_code: int
    duration_s: float
    summary: str
    suppressed: int = 0

    def title(self) -> str:
        return f"[fleetops] {self.schedule} on {self.host}: {self.previous or 'new'} -> {self.state}"

    def payload(self) -> dict:
        return {
            "schedule": self.schedule,
            "host": self.host,
            "command": self.command,
            "state": self.state,
            "previous": self.previous,
            "exit_code": self.exit_code,
            "duration_s": round(self.duration_s, 3),
            "summary": self.summary,
            "suppressed": self.suppressed,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }

    def body(self) -> str:
        lines = [self.title(), "", f"command: fleetops {self.command}", f"exit code: {self.exit_code}",
                 f"duration: {self.duration_s:.1f} s", "", self.summary]  # fmt: skip
        if self.suppressed:
            lines += ["", f"({self.suppressed} earlier change(s) inside the throttle window were not sent)"]
        return "\n".join(lines) + "\n"


def send_webhook(notify: Notify, message: Message, sleep=time.sleep) -> str | None:
    """POST the JSON; None when a 2xx came back, else why not (after every retry)."""
    assert notify.webhook
    data = json.dumps(message.payload()).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "fleetops-schedule"}
    if notify.webhook_token is not None:
        headers["Authorization"] = f"Bearer {notify.webhook_token.reveal()}"
    context = ssl.create_default_context(cafile=notify.webhook_ca) if notify.webhook_ca else None
    error, attempts = "not sent", 0
    for pause in (0.0, *RETRIES):
        if pause:
            sleep(pause)
        attempts += 1
        request = urllib.request.Request(notify.webhook, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10, context=context) as answer:
                if 200 <= answer.status < 300:
                    return None
                error = f"HTTP {answer.status}"
        except urllib.error.HTTPError as failure:
            error = f"HTTP {failure.code}"
            if 400 <= failure.code < 500 and failure.code != 429:
                break  # the receiver refused this message: retrying will not change that
        except (urllib.error.URLError, OSError, socket.timeout) as failure:
            error = f"{type(failure).__name__}: {getattr(failure, 'reason', failure)}"
    return redact(f"webhook {notify.webhook}: {error} after {attempts} attempt(s)")


def send_email(notify: Notify, message: Message) -> str | None:
    """Send over SMTP (STARTTLS unless turned off, certificate checked); None, or why not."""
    assert notify.smtp_host and notify.email_from
    mail = EmailMessage()
    mail["Subject"], mail["From"], mail["To"] = message.title(), notify.email_from, ", ".join(notify.email_to)
    mail.set_content(message.body())
    try:
        with smtplib.SMTP(notify.smtp_host, notify.smtp_port, timeout=15) as smtp:
            if notify.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context(cafile=notify.smtp_ca))
            if notify.smtp_user:
                password = notify.smtp_password.reveal() if notify.smtp_password else ""
                smtp.login(notify.smtp_user, password)
            smtp.send_message(mail)
    except (smtplib.SMTPException, OSError, ssl.SSLError) as error:
        return redact(f"email via {notify.smtp_host}:{notify.smtp_port}: {type(error).__name__}: {error}")
    return None


def deliver(notify: Notify, message: Message) -> tuple[list[str], list[str]]:
    """(channels told, errors) over every configured channel."""
    told, errors = [], []
    if notify.webhook:
        error = send_webhook(notify, message)
        (errors.append(error) if error else told.append("webhook"))
    if notify.email_to:
        error = send_email(notify, message)
        (errors.append(error) if error else told.append("email"))
    return told, errors


def throttle_seconds(notify: Notify) -> int:
    return seconds(notify.throttle, "throttle")
