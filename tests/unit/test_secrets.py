"""One Secret type; redaction for every text that leaves the process."""

import logging

from fleetops.secrets import MASK, RedactingFilter, Secret, redact, register_sensitive_values


def test_secret_never_shows_its_value():
    secret = Secret("canary-value-1")
    assert "canary-value-1" not in f"{secret} {secret!r} {[secret]}"
    assert secret.reveal() == "canary-value-1"


def test_redact_replaces_registered_values():
    Secret("canary-value-2")
    assert redact("x canary-value-2 y") == f"x {MASK} y"


def test_sensitive_keys_in_host_data_are_registered():
    register_sensitive_values({"db": {"root_password": "canary-value-3"}, "name": "visible"})
    assert redact("canary-value-3 visible") == f"{MASK} visible"


def test_logging_filter_scrubs_messages():
    Secret("canary-value-4")
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "pw=%s", ("canary-value-4",), None)
    assert RedactingFilter().filter(record)
    assert record.getMessage() == f"pw={MASK}"
