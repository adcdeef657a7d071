"""fleetops platform receiver: stores gateway heartbeats and detection events in MySQL.

Runs standalone on the platform server (its own venv from the offline bundle, next to
``schema.py``), over HTTPS with the certificate the platform role installs. The database
account's credentials come from a 0600 MySQL option file, never from the config or the command
line; that account may read the admin table but never write it. Endpoints:

* ``GET /health``                the process is alive (no login)
* ``GET /ready``                 the database answers and has the expected schema version (no login)
* ``POST /api/heartbeat``        ``{"gateway": "gw1", "ready": true, "model": ..., ...}``
* ``POST /api/events``           ``{"events": [{"gateway", "time", "label", "confidence", "frames"}]}``
* ``GET /api/gateways``          registered gateways with their last heartbeat's age (admin login)
* ``GET /api/gateways/NAME``     one gateway (admin login, or that gateway's own token)
* ``GET /api/events``            recent events (admin login)

**Who may call what.** A gateway authenticates with its own token (``Authorization: Bearer``;
generated at deploy, kept 0600 on the gateway, stored here as a sha256) and may report only as
itself: an unknown or wrong token is 401 and nothing is stored, a body naming another gateway is
403. Admins use HTTP basic auth (pbkdf2 with a random salt per hash, rounds pinned in code);
repeated failures from one address are answered 429 for a while, and unknown names cost as much
time as known ones. Every body is size-limited (413), strict JSON (no NaN/Infinity), and checked
field by field (finite numbers in column ranges, times within a day of now, no unknown keys).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import sys
import threading
import time
from datetime import datetime, timezone

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

try:
    from fleetops import standalone
    from fleetops.platform.schema import SCHEMA_VERSION, dummy_hash, verify_password
except ImportError:  # standalone on the server, next to schema.py and standalone.py in the release
    import standalone  # type: ignore[no-redef]
    from schema import SCHEMA_VERSION, dummy_hash, verify_password  # type: ignore[no-redef]

Name = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_CLOCK_SKEW_S = 86400.0  # a gateway's clock may be this far off; beyond it a time is refused
LOGIN_FAILURES, LOGIN_WINDOW_S = 5, 60.0  # this many bad logins from one address: 429 for the window


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    listen_host: str = "0.0.0.0"
    listen_port: int = Field(8600, ge=1, le=65535)
    database: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    option_file: str = Field(pattern=r"^/")  # [client] user/password/socket, mode 0600
    tls_cert: str | None = Field(None, pattern=r"^/")
    tls_key: str | None = Field(None, pattern=r"^/")
    max_body_bytes: int = Field(2**20, ge=1024, le=2**28)


class Body(BaseModel):
    """What every request body shares: no unknown keys, no NaN or infinite numbers."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


def _recent(value: float | None) -> float | None:
    if value is not None and abs(value - time.time()) > MAX_CLOCK_SKEW_S:
        raise ValueError("time is more than a day away from the receiver's clock")
    return value


class Heartbeat(Body):
    gateway: str = Name
    time: float | None = None
    model: str | None = Field(None, max_length=64)
    version: str | None = Field(None, max_length=64)
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    ready: bool
    reason: str | None = Field(None, max_length=300)
    uptime_s: float | None = Field(None, ge=0, le=1e10)
    inferences: int | None = Field(None, ge=0, le=2**62)

    @field_validator("time")
    @classmethod
    def _time(cls, value: float | None) -> float | None:
        return _recent(value)


class Event(Body):
    gateway: str = Name
    time: float
    label: str = Field(min_length=1, max_length=64)
    confidence: float = Field(ge=0, le=1)
    frames: int = Field(ge=1, le=1_000_000)
    model: str | None = Field(None, max_length=64)
    model_version: str | None = Field(None, max_length=64)

    @field_validator("time")
    @classmethod
    def _time(cls, value: float) -> float:
        return _recent(value) or value


class Events(Body):
    events: list[Event] = Field(max_length=1000)


def load_config(path: str) -> Config:
    return standalone.load_config(Config, path)


def _when(seconds: float | None) -> datetime | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, tz=timezone.utc).replace(tzinfo=None)


def token_digest(token: str) -> str:
    """How a gateway token is stored: sha256 hex (tokens are 256 random bits, so no slow hash)."""
    return hashlib.sha256(token.encode()).hexdigest()


class LoginThrottle:
    """Failed admin logins per client address; past the limit, logins are refused without
    trying the password (which also keeps pbkdf2 from being used to starve the threads)."""

    def __init__(self) -> None:
        self.failures: dict[str, list[float]] = {}
        self.lock = threading.Lock()

    def blocked(self, client: str) -> bool:
        now = time.monotonic()
        with self.lock:
            recent = [t for t in self.failures.get(client, []) if now - t < LOGIN_WINDOW_S]
            self.failures[client] = recent
            if len(self.failures) > 10_000:  # forget the oldest addresses, never grow unbounded
                self.failures = dict(list(self.failures.items())[-5_000:])
            return len(recent) >= LOGIN_FAILURES

    def failed(self, client: str) -> None:
        with self.lock:
            self.failures.setdefault(client, []).append(time.monotonic())


def create_app(config: Config):
    import pymysql
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    throttle = LoginThrottle()
    hashing = threading.BoundedSemaphore(4)  # pbkdf2 at most 4 at a time, the pool stays free

    def connect(autocommit: bool = True):
        # a connection per request: the server is on the same host (unix socket) and this keeps
        # the app free of pool state across database restarts
        db = pymysql.connect(
            read_default_file=config.option_file,
            database=config.database,
            autocommit=autocommit,
            connect_timeout=5,
            charset="utf8mb4",
        )
        with db.cursor() as cursor:
            cursor.execute("SET time_zone = '+00:00'")
        return db

    def query(sql: str, args: tuple = ()) -> list[tuple]:
        with connect() as db, db.cursor() as cursor:
            cursor.execute(sql, args)
            return list(cursor.fetchall())

    def error(status: int, message: str, **headers: str) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status, headers=headers or None)

    async def body_of(request: Request, model: type[BaseModel]):
        try:
            raw = await standalone.read_body(request, config.max_body_bytes)
            return model.model_validate(standalone.parse_json(raw)), None
        except standalone.BodyTooLarge as problem:
            return None, error(413, str(problem))
        except ValidationError as problem:
            detail = problem.errors()[0]
            return None, error(400, f"{'.'.join(map(str, detail['loc']))}: {detail['msg']}"[:300])
        except ValueError as problem:
            return None, error(400, f"body is not valid JSON: {problem}"[:300])

    def gateway_of(request: Request) -> str | None:
        """The gateway whose token the request carries (None: no token, or not a known one)."""
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("bearer ") or len(header) > 300:
            return None
        digest = token_digest(header[7:].strip())
        rows = query("SELECT name, token_sha256 FROM gateways WHERE token_sha256 = %s", (digest,))
        for name, stored in rows:
            if stored and hmac.compare_digest(stored.encode(), digest.encode()):
                return name
        return None

    def unauthorized() -> JSONResponse:
        return error(401, "gateway token required", **{"WWW-Authenticate": 'Bearer realm="fleetops platform"'})

    def health(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "alive"})

    def ready(_request: Request) -> JSONResponse:
        try:
            rows = query("SELECT v FROM meta WHERE k = 'schema'")
        except pymysql.MySQLError as problem:
            return JSONResponse({"ready": False, "reason": f"database: {problem.args[-1]}"[:300]}, status_code=503)
        version = rows[0][0] if rows else None
        if version != SCHEMA_VERSION:
            return JSONResponse(
                {"ready": False, "reason": f"schema version {version}, want {SCHEMA_VERSION}"}, status_code=503
            )
        return JSONResponse({"ready": True, "schema": version})

    async def heartbeat(request: Request) -> JSONResponse:
        caller = await run_in_threadpool(gateway_of, request)
        if caller is None:
            return unauthorized()
        beat, problem = await body_of(request, Heartbeat)
        if problem:
            return problem
        if beat.gateway != caller:
            return error(403, f"this token belongs to {caller!r}, not {beat.gateway!r}")

        def store() -> None:  # one transaction: either both writes happen or neither
            with connect(autocommit=False) as db, db.cursor() as cursor:
                cursor.execute(
                    "UPDATE gateways SET last_heartbeat = UTC_TIMESTAMP(6), model = %s, model_version = %s, "
                    "ready = %s, reason = %s WHERE name = %s",
                    (beat.model, beat.version, beat.ready, beat.reason, beat.gateway),
                )
                cursor.execute(
                    "INSERT INTO heartbeats (gateway, received_at, sent_at, model, model_version, ready, "
                    "uptime_s, inferences) VALUES (%s, UTC_TIMESTAMP(6), %s, %s, %s, %s, %s, %s)",
                    (
                        beat.gateway,
                        _when(beat.time),
                        beat.model,
                        beat.version,
                        beat.ready,
                        beat.uptime_s,
                        beat.inferences,
                    ),
                )
                db.commit()

        try:
            await run_in_threadpool(store)
        except pymysql.DataError as problem:
            return error(400, f"a value does not fit: {problem.args[-1]}"[:300])
        return JSONResponse({"stored": True})

    async def events(request: Request) -> JSONResponse:
        caller = await run_in_threadpool(gateway_of, request)
        if caller is None:
            return unauthorized()
        batch, problem = await body_of(request, Events)
        if problem:
            return problem
        others = sorted({event.gateway for event in batch.events} - {caller})
        if others:
            return error(403, f"this token belongs to {caller!r}, not {others[0]!r}")

        def store() -> None:
            with connect(autocommit=False) as db, db.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO events (gateway, occurred_at, received_at, label, confidence, frames, model, "
                    "model_version) VALUES (%s, %s, UTC_TIMESTAMP(6), %s, %s, %s, %s, %s)",
                    [
                        (e.gateway, _when(e.time), e.label, e.confidence, e.frames, e.model, e.model_version)
                        for e in batch.events
                    ],
                )
                db.commit()

        if batch.events:
            try:
                await run_in_threadpool(store)
            except pymysql.DataError as problem:
                return error(400, f"a value does not fit: {problem.args[-1]}"[:300])
        return JSONResponse({"stored": len(batch.events)})

    def gateway_rows(name: str | None = None) -> list[dict]:
        sql = (
            "SELECT name, site, TIMESTAMPDIFF(MICROSECOND, last_heartbeat, UTC_TIMESTAMP(6)) / 1e6, "
            "model, model_version, ready, reason FROM gateways"
        )
        rows = query(sql + (" WHERE name = %s" if name else "") + " ORDER BY name", (name,) if name else ())
        return [
            {
                "name": r[0],
                "site": r[1],
                "heartbeat_age_s": None if r[2] is None else float(r[2]),
                "model": r[3],
                "model_version": r[4],
                "ready": None if r[5] is None else bool(r[5]),
                "reason": r[6],
            }
            for r in rows
        ]

    def admin(request: Request) -> str | None | JSONResponse:
        """The admin's name, None for no or wrong credentials, or a 429/503 to send as it is."""
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("basic "):
            return None
        client = request.client.host if request.client else "?"
        if throttle.blocked(client):
            return error(429, "too many failed logins; try again later", **{"Retry-After": str(int(LOGIN_WINDOW_S))})
        try:
            name, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            throttle.failed(client)
            return None
        rows = query("SELECT password_hash FROM admins WHERE name = %s", (name,)) if len(name) <= 64 else []
        if not hashing.acquire(timeout=5):
            return error(503, "busy verifying logins; try again")
        try:  # an unknown name costs the same pbkdf2 as a known one: timing tells nothing
            good = verify_password(password, rows[0][0] if rows else dummy_hash()) and bool(rows)
        finally:
            hashing.release()
        if not good:
            throttle.failed(client)
            return None
        return name

    def refused_admin(request: Request) -> JSONResponse | None:
        """The answer to send when the request is not an admin's (401, or 429/503), else None."""
        who = admin(request)
        if isinstance(who, JSONResponse):
            return who
        if who is None:
            return error(401, "admin login required", **{"WWW-Authenticate": 'Basic realm="fleetops platform"'})
        return None

    def gateways(request: Request) -> JSONResponse:
        if (refusal := refused_admin(request)) is not None:
            return refusal
        return JSONResponse({"gateways": gateway_rows()})

    def gateway(request: Request) -> JSONResponse:
        name = request.path_params["name"]
        if request.headers.get("authorization", "").lower().startswith("bearer "):
            caller = gateway_of(request)
            if caller is None:
                return unauthorized()
            if caller != name:
                return error(403, f"this token belongs to {caller!r}, not {name!r}")
        elif (refusal := refused_admin(request)) is not None:
            return refusal
        rows = gateway_rows(name)
        if not rows:
            return error(404, "unknown gateway")
        return JSONResponse(rows[0])

    def recent_events(request: Request) -> JSONResponse:
        if (refusal := refused_admin(request)) is not None:
            return refusal
        try:
            limit = min(1000, max(1, int(request.query_params.get("limit", "100"))))
        except ValueError:
            return error(400, "limit must be a number")
        gateway_name = request.query_params.get("gateway")
        rows = query(
            "SELECT e.gateway, e.occurred_at, e.label, e.confidence, e.frames, e.model, "
            "e.model_version, l.severity FROM events e LEFT JOIN event_labels l ON l.label = e.label"
            + (" WHERE e.gateway = %s" if gateway_name else "")
            + " ORDER BY e.id DESC LIMIT %s",
            ((gateway_name, limit) if gateway_name else (limit,)),
        )
        return JSONResponse(
            {
                "events": [
                    {
                        "gateway": r[0],
                        "time": r[1].isoformat() + "Z",
                        "label": r[2],
                        "confidence": r[3],
                        "frames": r[4],
                        "model": r[5],
                        "model_version": r[6],
                        "severity": r[7],
                    }
                    for r in rows
                ]
            }
        )

    return Starlette(
        routes=[
            Route("/health", health),
            Route("/ready", ready),
            Route("/api/heartbeat", heartbeat, methods=["POST"]),
            Route("/api/events", events, methods=["POST"]),
            Route("/api/events", recent_events, methods=["GET"]),
            Route("/api/gateways", gateways),
            Route("/api/gateways/{name}", gateway),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    return standalone.main(argv, "fleetops platform receiver", Config, create_app)


if __name__ == "__main__":
    sys.exit(main())
