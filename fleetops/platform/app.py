"""fleetops platform receiver: stores gateway heartbeats and detection events in MySQL.

Runs standalone on the platform server (its own venv from the offline bundle, next to
``schema.py``). The database account's credentials come from a 0600 MySQL option file, never
from the config or the command line. Endpoints:

* ``GET /health``                the process is alive
* ``GET /ready``                 the database answers and has the expected schema version
* ``POST /api/heartbeat``        ``{"gateway": "gw1", "ready": true, "model": ..., ...}`` from a gateway
* ``POST /api/events``           ``{"events": [{"gateway", "time", "label", "confidence", "frames"}]}``
* ``GET /api/gateways[/NAME]``   registered gateways with their last heartbeat's age (operational
  status, no secrets, no login)
* ``GET /api/events``            recent events; HTTP basic auth with an admin account

Only gateways registered as reference data (by the platform role, from the inventory) may report;
others get 404 so a typo in a gateway's name shows up at once.
"""

from __future__ import annotations

import base64
import sys
from datetime import datetime, timezone

from pydantic import BaseModel, ConfigDict, Field, ValidationError

try:
    from fleetops import standalone
    from fleetops.platform.schema import SCHEMA_VERSION, verify_password
except ImportError:  # standalone on the server, next to schema.py and standalone.py in the release
    import standalone  # type: ignore[no-redef]
    from schema import SCHEMA_VERSION, verify_password  # type: ignore[no-redef]

Name = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    listen_host: str = "0.0.0.0"
    listen_port: int = Field(8600, ge=1, le=65535)
    database: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    option_file: str = Field(pattern=r"^/")  # [client] user/password/socket, mode 0600


class Heartbeat(BaseModel):
    model_config = ConfigDict(extra="ignore")

    gateway: str = Name
    time: float | None = None
    model: str | None = Field(None, max_length=64)
    version: str | None = Field(None, max_length=64)
    ready: bool
    reason: str | None = Field(None, max_length=300)
    uptime_s: float | None = None
    inferences: int | None = None


class Event(BaseModel):
    model_config = ConfigDict(extra="ignore")

    gateway: str = Name
    time: float
    label: str = Field(min_length=1, max_length=64)
    confidence: float = Field(ge=0, le=1)
    frames: int = Field(ge=1)
    model: str | None = Field(None, max_length=64)
    model_version: str | None = Field(None, max_length=64)


class Events(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[Event] = Field(max_length=1000)


def load_config(path: str) -> Config:
    return standalone.load_config(Config, path)


def _when(seconds: float | None) -> datetime | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, tz=timezone.utc).replace(tzinfo=None)


def create_app(config: Config):
    import pymysql
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    def connect():
        # a connection per request: the server is on the same host (unix socket) and this keeps
        # the app free of pool state across database restarts
        return pymysql.connect(read_default_file=config.option_file, database=config.database,
                               autocommit=True, connect_timeout=5, charset="utf8mb4")

    def query(sql: str, args: tuple = ()) -> list[tuple]:
        with connect() as db, db.cursor() as cursor:
            cursor.execute("SET time_zone = '+00:00'")
            cursor.execute(sql, args)
            return list(cursor.fetchall())

    def known(gateway: str) -> bool:
        return bool(query("SELECT 1 FROM gateways WHERE name = %s", (gateway,)))

    async def body_of(request: Request, model: type[BaseModel]):
        try:
            return model.model_validate(await request.json()), None
        except (ValueError, ValidationError) as error:
            detail = error.errors()[0] if isinstance(error, ValidationError) else None
            message = f"{'.'.join(map(str, detail['loc']))}: {detail['msg']}" if detail else "body is not JSON"
            return None, JSONResponse({"error": message}, status_code=400)

    def health(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "alive"})

    def ready(_request: Request) -> JSONResponse:
        try:
            rows = query("SELECT v FROM meta WHERE k = 'schema'")
        except pymysql.MySQLError as error:
            return JSONResponse({"ready": False, "reason": f"database: {error.args[-1]}"[:300]}, status_code=503)
        version = rows[0][0] if rows else None
        if version != SCHEMA_VERSION:
            return JSONResponse({"ready": False, "reason": f"schema version {version}, want {SCHEMA_VERSION}"},
                                status_code=503)
        return JSONResponse({"ready": True, "schema": version})

    async def heartbeat(request: Request) -> JSONResponse:
        beat, problem = await body_of(request, Heartbeat)
        if problem:
            return problem
        from starlette.concurrency import run_in_threadpool

        def store() -> bool:
            with connect() as db, db.cursor() as cursor:
                cursor.execute("SET time_zone = '+00:00'")
                updated = cursor.execute(
                    "UPDATE gateways SET last_heartbeat = UTC_TIMESTAMP(6), model = %s, model_version = %s, "
                    "ready = %s, reason = %s WHERE name = %s",
                    (beat.model, beat.version, beat.ready, beat.reason, beat.gateway))
                if not updated and not known(beat.gateway):
                    return False
                cursor.execute(
                    "INSERT INTO heartbeats (gateway, received_at, sent_at, model, model_version, ready, "
                    "uptime_s, inferences) VALUES (%s, UTC_TIMESTAMP(6), %s, %s, %s, %s, %s, %s)",
                    (beat.gateway, _when(beat.time), beat.model, beat.version, beat.ready, beat.uptime_s,
                     beat.inferences))
                return True

        if not await run_in_threadpool(store):
            return JSONResponse({"error": f"unknown gateway {beat.gateway!r}"}, status_code=404)
        return JSONResponse({"stored": True})

    async def events(request: Request) -> JSONResponse:
        batch, problem = await body_of(request, Events)
        if problem:
            return problem
        from starlette.concurrency import run_in_threadpool

        def store() -> str | None:
            names = {event.gateway for event in batch.events}
            for name in names:
                if not known(name):
                    return name
            with connect() as db, db.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO events (gateway, occurred_at, received_at, label, confidence, frames, model, "
                    "model_version) VALUES (%s, %s, UTC_TIMESTAMP(6), %s, %s, %s, %s, %s)",
                    [(e.gateway, _when(e.time), e.label, e.confidence, e.frames, e.model, e.model_version)
                     for e in batch.events])
            return None

        unknown = await run_in_threadpool(store)
        if unknown:
            return JSONResponse({"error": f"unknown gateway {unknown!r}"}, status_code=404)
        return JSONResponse({"stored": len(batch.events)})

    def gateway_rows(name: str | None = None) -> list[dict]:
        sql = ("SELECT name, site, TIMESTAMPDIFF(MICROSECOND, last_heartbeat, UTC_TIMESTAMP(6)) / 1e6, "
               "model, model_version, ready, reason FROM gateways")
        rows = query(sql + (" WHERE name = %s" if name else "") + " ORDER BY name", (name,) if name else ())
        return [{"name": r[0], "site": r[1], "heartbeat_age_s": None if r[2] is None else float(r[2]),
                 "model": r[3], "model_version": r[4], "ready": None if r[5] is None else bool(r[5]),
                 "reason": r[6]} for r in rows]

    def gateways(_request: Request) -> JSONResponse:
        return JSONResponse({"gateways": gateway_rows()})

    def gateway(request: Request) -> JSONResponse:
        rows = gateway_rows(request.path_params["name"])
        if not rows:
            return JSONResponse({"error": "unknown gateway"}, status_code=404)
        return JSONResponse(rows[0])

    def admin(request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("basic "):
            return None
        try:
            name, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        rows = query("SELECT password_hash FROM admins WHERE name = %s", (name,))
        return name if rows and verify_password(password, rows[0][0]) else None

    def recent_events(request: Request) -> JSONResponse:
        if admin(request) is None:
            return JSONResponse({"error": "admin login required"}, status_code=401,
                                headers={"WWW-Authenticate": 'Basic realm="fleetops platform"'})
        try:
            limit = min(1000, max(1, int(request.query_params.get("limit", "100"))))
        except ValueError:
            return JSONResponse({"error": "limit must be a number"}, status_code=400)
        gateway_name = request.query_params.get("gateway")
        rows = query("SELECT e.gateway, e.occurred_at, e.label, e.confidence, e.frames, e.model, "
                     "e.model_version, l.severity FROM events e LEFT JOIN event_labels l ON l.label = e.label"
                     + (" WHERE e.gateway = %s" if gateway_name else "") + " ORDER BY e.id DESC LIMIT %s",
                     ((gateway_name, limit) if gateway_name else (limit,)))
        return JSONResponse({"events": [
            {"gateway": r[0], "time": r[1].isoformat() + "Z", "label": r[2], "confidence": r[3],
             "frames": r[4], "model": r[5], "model_version": r[6], "severity": r[7]} for r in rows]})

    return Starlette(routes=[
        Route("/health", health), Route("/ready", ready),
        Route("/api/heartbeat", heartbeat, methods=["POST"]), Route("/api/events", events, methods=["POST"]),
        Route("/api/events", recent_events, methods=["GET"]),
        Route("/api/gateways", gateways), Route("/api/gateways/{name}", gateway),
    ])


def main(argv: list[str] | None = None) -> int:
    return standalone.main(argv, "fleetops platform receiver", Config, create_app)


if __name__ == "__main__":
    sys.exit(main())
