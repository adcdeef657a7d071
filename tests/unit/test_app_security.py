"""The edge app and the platform receiver under hostile requests, in-process (starlette's test
client against the real apps; the receiver's database is a small in-memory stand-in for the few
queries it makes, the real MariaDB path is covered end to end in tests/e2e/test_platform.py).
Findings from ../shared/docs/security-audit.md: 1, 2, 7, 8, 11, 12, 13."""

from __future__ import annotations

import base64
import math
import time

import pytest
from starlette.testclient import TestClient

from fleetops.edge import app as edge_app
from fleetops.edge.reporter import Reporter, valid_event
from fleetops.models.convert import convert_sklearn
from fleetops.platform import app as platform_app
from fleetops.platform.schema import PBKDF2_ROUNDS, password_hash, verify_password


# ----- the edge app --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    directory = tmp_path_factory.mktemp("m") / "digits"
    manifest = convert_sklearn("digits", directory)
    return directory, manifest


def edge_client(tmp_path, digits, **config) -> TestClient:
    directory, _ = digits
    settings = {
        "model_path": str(directory),
        "log_path": str(tmp_path / "log" / "inference.jsonl"),
        "confirm_frames": 2,
        "confidence_threshold": 0.0,
        **config,
    }
    return TestClient(edge_app.create_app(edge_app.Config.model_validate(settings), start_reporter=False))


def golden(digits) -> dict:
    _, manifest = digits
    return {"input": manifest.golden[0].input}


def test_f7_edge_app_listens_on_loopback_unless_configured():
    assert edge_app.Config(model_path="/m").listen_host == "127.0.0.1"
    with pytest.raises(ValueError, match="listen_host"):
        edge_app.Config(model_path="/m", listen_host="0.0.0.0; rm -rf /")


def test_f7_infer_token_is_required_when_configured(tmp_path, digits):
    token_file = tmp_path / "infer.token"
    token_file.write_text("a-long-enough-infer-token-123\n")
    client = edge_client(tmp_path, digits, infer_token_file=str(token_file))
    assert client.post("/infer", json=golden(digits)).status_code == 401
    assert client.post("/infer", json=golden(digits), headers={"Authorization": "Bearer wrong"}).status_code == 401
    good = client.post("/infer", json=golden(digits), headers={"Authorization": "Bearer a-long-enough-infer-token-123"})
    assert good.status_code == 200
    assert client.get("/health").status_code == 200  # liveness needs no token


def test_f7_one_client_cannot_complete_or_break_another_streak(tmp_path, digits):
    client = edge_client(tmp_path, digits)
    sample = golden(digits)
    first = client.post("/infer", json={**sample, "stream": "camera-1"}).json()
    assert "detection" not in first
    other = client.post("/infer", json={**sample, "stream": "camera-2"}).json()  # another stream
    assert "detection" not in other
    second = client.post("/infer", json={**sample, "stream": "camera-1"}).json()
    assert second.get("detection") is True


def test_f7_smoke_traffic_never_makes_a_detection(tmp_path, digits):
    client = edge_client(tmp_path, digits)
    answers = [client.post("/infer", json=golden(digits), headers={"X-Fleetops-Smoke": "1"}).json() for _ in range(5)]
    assert all("detection" not in answer and answer["smoke"] is True for answer in answers)


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity", "1e999", "nested"])
def test_f2_non_finite_or_absurd_input_is_400_and_never_queued(tmp_path, digits, bad):
    """A full-sized input (the golden one) with one value replaced, so only that value is wrong."""
    import numpy as np

    values = [str(float(v)) for v in np.ravel(golden(digits)["input"])]
    body = "[" * 50000 + "]" * 50000 if bad == "nested" else '{"input": [' + ", ".join([bad, *values[1:]]) + "]}"
    client = edge_client(tmp_path, digits, confirm_frames=1)
    response = client.post("/infer", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert (
        not (tmp_path / "log" / "inference.jsonl").exists()
        or "NaN" not in (tmp_path / "log" / "inference.jsonl").read_text()
    )


def test_f8_oversized_bodies_are_413_before_being_read(tmp_path, digits):
    client = edge_client(tmp_path, digits, max_body_bytes=4096)
    response = client.post("/infer", content=b"x" * 10_000, headers={"Content-Type": "application/json"})
    assert response.status_code == 413

    def chunks():  # no Content-Length: counted while it streams
        for _ in range(100):
            yield b" " * 1000

    assert client.post("/infer", content=chunks()).status_code == 413


def test_f8_base64_image_larger_than_one_input_is_refused_before_decoding(tmp_path, digits):
    client = edge_client(tmp_path, digits)
    response = client.post("/infer", json={"data": base64.b64encode(b"\0" * 100_000).decode()})
    assert response.status_code == 400 and "larger than one input" in response.json()["error"]


def test_f8_inference_log_is_size_bounded(tmp_path, digits):
    client = edge_client(tmp_path, digits, log_max_bytes=4096, log_backups=2)
    for _ in range(120):
        assert client.post("/infer", json=golden(digits)).status_code == 200
    files = sorted(p.name for p in (tmp_path / "log").iterdir())
    assert files == ["inference.jsonl", "inference.jsonl.1", "inference.jsonl.2"]
    assert all((tmp_path / "log" / name).stat().st_size <= 4096 + 300 for name in files)


def test_f12_the_app_refuses_a_model_file_that_is_not_its_manifests(tmp_path, digits):
    directory, _ = digits
    swapped = tmp_path / "swapped"
    swapped.mkdir()
    (swapped / "manifest.json").write_text((directory / "manifest.json").read_text())
    (swapped / "model.onnx").write_bytes((directory / "model.onnx").read_bytes() + b"\0")
    client = TestClient(
        edge_app.create_app(
            edge_app.Config(model_path=str(swapped), log_path=str(tmp_path / "l.jsonl")), start_reporter=False
        )
    )
    ready = client.get("/ready")
    assert ready.status_code == 503 and "sha256" in ready.json()["reason"]


def test_f12_ready_reports_the_hash_of_the_loaded_file(tmp_path, digits):
    import hashlib

    directory, _ = digits
    actual = hashlib.sha256((directory / "model.onnx").read_bytes()).hexdigest()
    assert edge_client(tmp_path, digits).get("/ready").json()["sha256"] == actual


# ----- the gateway's reporter -------------------------------------------------------------------
def test_f2_an_event_the_receiver_would_refuse_is_never_queued():
    reporter = Reporter("http://127.0.0.1:9", "gw1", 1.0, lambda: {"ready": True})
    now = time.time()
    for bad in ({"confidence": math.nan}, {"confidence": 1.5}, {"frames": 0}, {"time": 1.0}, {"label": ""}):
        assert not reporter.event({"label": "7", "confidence": 0.9, "frames": 3, "time": now, **bad})
    assert not reporter.events and reporter.dropped == 5
    assert valid_event({"label": "7", "confidence": 0.9, "frames": 3, "time": now})


def test_f2_a_batch_refused_as_invalid_is_dropped_and_later_events_flow(monkeypatch):
    import urllib.error

    reporter = Reporter("http://127.0.0.1:9", "gw1", 1.0, lambda: {"ready": True})
    reporter.event({"label": "7", "confidence": 0.9, "frames": 3, "time": time.time()})
    answers = iter([None, urllib.error.HTTPError("u", 400, "bad", {}, None), None, None])

    def post(path, body):
        answer = next(answers)
        if answer is not None:
            raise answer

    monkeypatch.setattr(reporter, "_post", post)
    assert reporter.report_once() is False and reporter.dropped == 1 and not reporter.events
    reporter.event({"label": "7", "confidence": 0.8, "frames": 3, "time": time.time()})
    assert reporter.report_once() is True and not reporter.events


def test_f1_reporter_sends_its_token_read_fresh_each_round(tmp_path, monkeypatch):
    token = tmp_path / "server.token"
    token.write_text("first-token-value-0001\n")
    reporter = Reporter("http://127.0.0.1:9", "gw1", 1.0, lambda: {"ready": True}, token_file=str(token))
    assert reporter._headers()["Authorization"] == "Bearer first-token-value-0001"
    token.write_text("rotated-token-value-0002\n")  # rotation: no restart, no queue lost
    assert reporter._headers()["Authorization"] == "Bearer rotated-token-value-0002"


# ----- the platform receiver ------------------------------------------------------------------
class FakeDb:
    """The receiver's tables as dicts, answering exactly the statements the app sends."""

    def __init__(self) -> None:
        self.gateways = {
            "gw1": platform_app.token_digest("gw1-token-000000000001"),
            "gw2": platform_app.token_digest("gw2-token-000000000002"),
        }
        self.heartbeats: list[tuple] = []
        self.events: list[tuple] = []
        self.admins = {"admin": password_hash("admin-password-1")}

    def connect(self, **_kwargs):
        return FakeConnection(self)


class FakeConnection:
    def __init__(self, db: FakeDb) -> None:
        self.db, self.pending = db, []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def cursor(self):
        return FakeCursor(self)

    def commit(self):
        for table, row in self.pending:
            getattr(self.db, table).append(row)
        self.pending = []


class FakeCursor:
    def __init__(self, connection: FakeConnection) -> None:
        self.connection, self.rows = connection, []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, sql: str, args: tuple = ()):
        db = self.connection.db
        if "FROM gateways WHERE token_sha256" in sql:
            self.rows = [(name, digest) for name, digest in db.gateways.items() if digest == args[0]]
        elif sql.startswith("SELECT password_hash FROM admins"):
            self.rows = [(db.admins[args[0]],)] if args[0] in db.admins else []
        elif sql.startswith("INSERT INTO heartbeats"):
            self.connection.pending.append(("heartbeats", args))
        elif sql.startswith("SELECT name, site"):
            self.rows = [
                (name, "", 1.0, None, None, True, None) for name in sorted(db.gateways) if not args or name == args[0]
            ]
        else:
            self.rows = []
        return 1

    def executemany(self, sql: str, rows: list):
        self.connection.pending.extend(("events", row) for row in rows)

    def fetchall(self):
        return self.rows


@pytest.fixture
def receiver(monkeypatch):
    import pymysql

    db = FakeDb()
    monkeypatch.setattr(pymysql, "connect", db.connect)
    config = platform_app.Config(database="edge_platform", option_file="/nonexistent")
    return TestClient(platform_app.create_app(config)), db


GW1 = {"Authorization": "Bearer gw1-token-000000000001"}


def beat(**values) -> dict:
    return {"gateway": "gw1", "time": time.time(), "ready": True, **values}


def test_f1_ingest_without_or_with_a_wrong_token_is_401_and_stores_nothing(receiver):
    client, db = receiver
    assert client.post("/api/heartbeat", json=beat()).status_code == 401
    assert client.post("/api/heartbeat", json=beat(), headers={"Authorization": "Bearer nope"}).status_code == 401
    event = {"gateway": "gw1", "time": time.time(), "label": "7", "confidence": 0.9, "frames": 3}
    assert client.post("/api/events", json={"events": [event]}).status_code == 401
    assert not db.heartbeats and not db.events
    assert client.post("/api/heartbeat", json=beat(), headers=GW1).status_code == 200 and len(db.heartbeats) == 1


def test_f1_a_gateway_can_report_only_as_itself(receiver):
    client, db = receiver
    assert client.post("/api/heartbeat", json=beat(gateway="gw2"), headers=GW1).status_code == 403
    event = {"gateway": "gw2", "time": time.time(), "label": "7", "confidence": 0.9, "frames": 3}
    assert client.post("/api/events", json={"events": [event]}, headers=GW1).status_code == 403
    assert not db.heartbeats and not db.events


def test_f1_the_gateway_list_needs_an_admin_and_a_gateway_sees_only_itself(receiver):
    client, _ = receiver
    assert client.get("/api/gateways").status_code == 401
    assert client.get("/api/gateways", auth=("admin", "admin-password-1")).status_code == 200
    assert client.get("/api/gateways/gw1", headers=GW1).status_code == 200
    assert client.get("/api/gateways/gw2", headers=GW1).status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        '{"gateway": "gw1", "ready": true, "uptime_s": NaN}',
        '{"gateway": "gw1", "ready": true, "uptime_s": Infinity}',
        '{"gateway": "gw1", "ready": true, "inferences": 1180591620717411303424}',
        '{"gateway": "gw1", "ready": true, "time": -1e20}',
        '{"gateway": "gw1", "ready": true, "time": 1e12}',
        '{"gateway": "gw1", "ready": true, "evil": "extra"}',
        "[" * 100000 + "]" * 100000,
    ],
)
def test_f13_bad_heartbeats_are_400_never_500(receiver, body):
    client, db = receiver
    response = client.post("/api/heartbeat", content=body, headers={**GW1, "Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert not db.heartbeats


def test_f13_event_numbers_must_fit_their_columns(receiver):
    client, db = receiver
    event = {"gateway": "gw1", "time": time.time(), "label": "7", "confidence": 0.9, "frames": 2**40}
    assert client.post("/api/events", json={"events": [event]}, headers=GW1).status_code == 400
    assert not db.events


def test_f8_receiver_bodies_are_size_limited(receiver):
    client, _ = receiver
    response = client.post("/api/events", content=b"{" + b" " * (2**20 + 10) + b"}", headers=GW1)
    assert response.status_code == 413


def test_f8_f11_repeated_bad_logins_are_throttled(receiver):
    client, _ = receiver
    codes = [client.get("/api/events", auth=("admin", f"wrong-{i}")).status_code for i in range(7)]
    assert codes[:5] == [401] * 5 and codes[5:] == [429, 429]
    # even the right password waits out the window: a guesser cannot tell
    assert client.get("/api/events", auth=("admin", "admin-password-1")).status_code == 429


def test_f11_salts_are_random_and_rounds_are_pinned():
    first, second = password_hash("same-password"), password_hash("same-password")
    assert first != second and first.split("$")[2] != second.split("$")[2]
    assert verify_password("same-password", first)
    _, _, salt, _ = first.split("$")
    import hashlib

    cheap = f"pbkdf2_sha256$1${salt}${hashlib.pbkdf2_hmac('sha256', b'x', salt.encode(), 1).hex()}"
    assert not verify_password("x", cheap)  # a row cannot lower the cost
    assert first.split("$")[1] == str(PBKDF2_ROUNDS)


def test_f11_the_app_account_cannot_write_admins():
    from fleetops.platform.schema import APP_PRIVILEGES

    assert APP_PRIVILEGES["admins"] == ["SELECT"] and APP_PRIVILEGES["event_labels"] == ["SELECT"]
    assert all("DELETE" not in privileges for privileges in APP_PRIVILEGES.values())


def test_f11_platform_role_grants_per_table():
    from fleetops.roles.mysql import _grant_object

    assert _grant_object("edge_platform.admins") == "`edge_platform`.`admins`"
    assert _grant_object("shop") == "`shop`.*" and _grant_object("*") == "*.*"


def test_f2_the_reporter_never_sends_a_non_finite_number(monkeypatch):
    """A NaN in the gateway's own status is a failed round, never a body the receiver must refuse."""
    import urllib.request

    sent = []
    monkeypatch.setattr(urllib.request, "urlopen", lambda *args, **kwargs: sent.append(args))
    reporter = Reporter("http://127.0.0.1:9", "gw1", 1.0, lambda: {"ready": True, "uptime_s": math.nan})
    assert reporter.report_once() is False and reporter.failures == 1
    assert sent == [] and "not JSON compliant" in reporter.last_error
