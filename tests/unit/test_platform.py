"""Platform receiver pieces that need no server: password hashing, reference-data planning, the
group-data spec, the gateway-side reporter (against a local HTTP server) and the config check."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from pydantic import ValidationError

from fleetops.edge.reporter import Reporter
from fleetops.platform import app as platform_app
from fleetops.platform.schema import SCHEMA_VERSION, password_hash, verify_password
from fleetops.roles.platform import reference_statements
from fleetops.roles.platform_spec import PlatformData, PlatformSpec

SPEC = {
    "db_password": "pw-123",
    "admins": [{"name": "admin", "password": "s3cret"}],
    "event_labels": [{"label": "face", "severity": "info", "description": "a face"}],
}


def test_password_hash_has_a_random_salt_and_verifies():
    stored = password_hash("s3cret")
    assert stored != password_hash("s3cret") and stored.startswith("pbkdf2_sha256$200000$")
    assert verify_password("s3cret", stored) and not verify_password("wrong", stored)
    assert not verify_password("x", "garbage")


TOKENS = {"gw1": "a" * 64, "gw2": "b" * 64}


def in_sync_state(spec: PlatformSpec) -> dict:
    return {
        "schema": SCHEMA_VERSION,
        "admins": {a.name: password_hash(a.password.reveal()) for a in spec.admins},
        "gateways": dict(TOKENS),
        "labels": {"face": ["info", "a face"]},
    }


def test_reference_data_runs_sql_only_on_drift():
    spec = PlatformSpec.model_validate(SPEC)
    state = in_sync_state(spec)
    assert reference_statements(spec, state, TOKENS) == []  # a stored hash that verifies is kept
    statements = reference_statements(spec, {**state, "gateways": {"gw1": "a" * 64}}, TOKENS)
    assert "INSERT IGNORE INTO gateways (name) VALUES ('gw2')" in statements
    assert f"UPDATE gateways SET token_sha256 = '{'b' * 64}' WHERE name = 'gw2'" in statements
    assert not any("WHERE name = 'gw1'" in s and s.startswith("UPDATE") for s in statements)
    drift = reference_statements(spec, {**state, "admins": {"admin": password_hash("old-password")}}, TOKENS)
    assert any(s.startswith("INSERT INTO admins") for s in drift)
    assert "DELETE FROM admins WHERE name NOT IN ('admin')" in drift
    assert all("s3cret" not in s for s in drift)  # only the pbkdf2 hash reaches SQL
    fresh = reference_statements(spec, {"schema": None, "admins": {}, "gateways": {}, "labels": {}}, {"gw1": "a" * 64})
    assert fresh[0] == "USE `edge_platform`" and any("CREATE TABLE IF NOT EXISTS heartbeats" in s for s in fresh)
    assert any("ADD COLUMN IF NOT EXISTS token_sha256" in s for s in fresh)  # databases made by v1


@pytest.mark.parametrize(
    "change, message",
    [
        ({"admins": []}, "admins"),
        ({"db_password": 'ab"cd'}, "double quotes"),
        ({"event_labels": [{"label": "x", "severity": "fatal"}]}, "severity"),
        ({"database": "Bad-Name"}, "database"),
    ],
)
def test_bad_platform_data_is_refused(change, message):
    with pytest.raises(ValidationError, match=message):
        PlatformData.model_validate({"platform": {**SPEC, **change}})


class _Collector(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.received.append((self.path, body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def test_reporter_sends_heartbeats_and_keeps_events_until_delivered():
    now = time.time()
    reporter = Reporter("http://127.0.0.1:9", "gw1", 1.0, lambda: {"ready": True}, timeout=0.5)
    reporter.event({"label": "face", "confidence": 0.9, "frames": 3, "time": now})
    assert reporter.report_once() is False and reporter.failures == 1 and len(reporter.events) == 1
    server = HTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        reporter.base = f"http://127.0.0.1:{server.server_port}"
        assert reporter.report_once() is True and not reporter.events
        paths = [path for path, _ in _Collector.received]
        assert paths == ["/api/heartbeat", "/api/events"]
        assert _Collector.received[0][1]["gateway"] == "gw1" and _Collector.received[0][1]["ready"] is True
        assert _Collector.received[1][1]["events"][0] == {
            "gateway": "gw1",
            "label": "face",
            "confidence": 0.9,
            "frames": 3,
            "time": now,
        }
    finally:
        server.shutdown()


def test_platform_config_check_is_one_line(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"database": "edge_platform", "option_file": "relative"}))
    proc = subprocess.run(
        [sys.executable, platform_app.__file__, "--check-config", "--config", str(path)], capture_output=True, text=True
    )
    assert proc.returncode != 0 and len(proc.stderr.strip().splitlines()) == 1 and "option_file" in proc.stderr


def test_events_go_back_to_the_queue_when_their_post_fails(monkeypatch):
    reporter = Reporter("http://127.0.0.1:9", "gw1", 1.0, lambda: {"ready": True}, timeout=0.5)
    now = time.time()
    for index in range(3):
        reporter.event({"label": "face", "confidence": 0.9, "frames": 3, "time": now + index})
    calls = []

    def post(path, body):
        calls.append(path)
        if path == "/api/events":
            raise OSError("connection reset")

    monkeypatch.setattr(reporter, "_post", post)
    assert reporter.report_once() is False
    assert calls == ["/api/heartbeat", "/api/events"]
    assert [event["time"] - now for event in reporter.events] == [0.0, 1.0, 2.0]  # kept, in order
