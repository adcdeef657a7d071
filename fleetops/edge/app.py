"""fleetops edge inference app: serves one ONNX model over HTTP on an AI edge gateway.

Runs standalone on the gateway (its own venv from the offline bundle, next to ``inference.py``
and ``reporter.py``; it imports nothing else from fleetops). Endpoints:

* ``GET /health``  the process is alive
* ``GET /ready``   the model is loaded AND a warm-up on its first golden input answered as recorded
* ``GET /model``   the model's manifest (name, version, sha256, labels, golden inputs)
* ``POST /infer``  ``{"input": [[...]]}``, ``{"data": "<base64>"}`` or ``{"text": "..."}`` (see
  ``inference.py``) -> label, confidence, latency
* ``GET /metrics`` Prometheus metrics

It runs as an unprivileged user and listens on ``listen_host`` (the gateway's own address, set by
the edge role). ``/infer`` bodies are limited to ``max_body_bytes`` (413 before they are read
whole), parsed as strict JSON (no NaN/Infinity) and run off the event loop; with
``infer_token_file`` it needs ``Authorization: Bearer``. The model file is hashed at load and
refused unless it is the manifest's. Requests marked ``X-Fleetops-Smoke: 1`` (smoke tests, the
deploy gate) are answered and logged but never count as detections.

Every inference is logged as one JSON line (time, model version, latency, top label, confidence)
to ``log_path``. A label confirmed ``confirm_frames`` times in a row at or above
``confidence_threshold`` is a detection event; events and a heartbeat every
``heartbeat_interval`` seconds go to ``server_api`` (the platform receiver), see ``reporter.py``.
Streaks are kept per stream (the request's ``stream`` field and the client's address). The log is
size-rotated (``log_max_bytes``).
``--check-config`` validates a config file and exits (used before it is installed).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import logging.handlers
import sys
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

try:  # inside fleetops (controller, tests) ...
    from fleetops.edge.inference import InputSpec, Preprocess, Runner
except ImportError:  # ... or standalone on a gateway, next to inference.py in the release
    from inference import InputSpec, Preprocess, Runner  # type: ignore[no-redef]
try:
    from fleetops import standalone
    from fleetops.edge.reporter import Reporter
except ImportError:
    import standalone  # type: ignore[no-redef]
    from reporter import Reporter  # type: ignore[no-redef]


class Serial(BaseModel):
    model_config = ConfigDict(extra="forbid")
    port: str = Field(pattern=r"^/dev/[A-Za-z0-9/_-]+$")
    baud: int = Field(9600, ge=50, le=4_000_000)
    parity: Literal["N", "E", "O"] = "N"
    stop_bits: Literal[1, 2] = 1


class Devices(BaseModel):
    model_config = ConfigDict(extra="forbid")
    camera: str | None = Field(None, pattern=r"^/dev/[A-Za-z0-9/_-]+$")
    audio: str | None = Field(None, pattern=r"^[A-Za-z0-9:,_.-]+$")
    serial: Serial | None = None


class Tuning(BaseModel):
    """What group data tunes on a gateway: input, preprocessing, business thresholds, reporting,
    devices. The edge role's spec inherits these fields, so group data and the app agree by
    construction.

    The input parameters (kind, image size, channels, sample rate) describe what this gateway's
    devices deliver; when set, a model whose interface declares something else is refused.
    ``scale``/``mean``/``std`` override the model's own normalisation when set.
    """

    model_config = ConfigDict(extra="forbid")
    heartbeat_interval: float = Field(10.0, ge=0.5, le=3600)
    threads: int = Field(1, ge=1, le=64)
    input_kind: Literal["tabular", "image", "audio", "text"] | None = None
    image_size: list[int] | None = None
    channels: int | None = Field(None, ge=1, le=4)
    sample_rate: int | None = Field(None, ge=8000, le=192000)
    scale: float | None = None
    mean: list[float] | None = None
    std: list[float] | None = None
    confidence_threshold: float = Field(0.5, ge=0, le=1)
    confirm_frames: int = Field(1, ge=1, le=100)
    event_labels: list[str] | None = None  # labels that count as detections (default: every label)
    devices: Devices = Devices()

    @model_validator(mode="after")
    def _image(self):
        if self.image_size is not None and len(self.image_size) != 2:
            raise ValueError("image_size needs [height, width]")
        if self.std is not None and any(value <= 0 for value in self.std):
            raise ValueError("std values must be positive")
        return self


class Config(Tuning):
    """The app's configuration (rendered by the edge role from group data). It holds no secret:
    tokens live in their own 0600 files, named here."""

    listen_host: str = "127.0.0.1"
    listen_port: int = Field(8500, ge=1, le=65535)
    gateway_name: str = Field("gateway", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    server_api: str | None = Field(None, pattern=r"^https?://[^\s]+$")
    server_token_file: str | None = Field(None, pattern=r"^/")  # this gateway's receiver token
    server_ca_file: str | None = Field(None, pattern=r"^/")  # CA that signed the receiver's certificate
    infer_token_file: str | None = Field(None, pattern=r"^/")  # when set, /infer needs this bearer token
    model_path: str = Field(pattern=r"^/")
    log_path: str = Field("/var/log/fleetops-edge/inference.jsonl", pattern=r"^/")
    log_max_bytes: int = Field(10 * 2**20, ge=4096, le=2**34)  # rotated beyond this size
    log_backups: int = Field(3, ge=1, le=100)
    max_body_bytes: int = Field(4 * 2**20, ge=1024, le=2**28)  # bigger /infer bodies get 413
    max_streams: int = Field(256, ge=1, le=100_000)  # detector streaks kept (one per stream/client)

    @model_validator(mode="after")
    def _address(self):
        import ipaddress

        try:
            ipaddress.ip_address(self.listen_host)
        except ValueError:
            raise ValueError(f"listen_host: not an IP address: {self.listen_host!r}") from None
        return self


def load_config(path: str) -> Config:
    return standalone.load_config(Config, path)


def misfit(config: Config, spec: InputSpec) -> str | None:
    """Why the model's declared input does not fit this gateway's configured input, if it does not."""
    wanted = []
    if config.input_kind is not None and config.input_kind != spec.kind:
        wanted.append(f"{config.input_kind} input (the model takes {spec.kind})")
    if spec.kind == "image":
        height, width, channels = spec.shape
        if config.image_size is not None and config.image_size != [height, width]:
            wanted.append(f"{config.image_size[0]}x{config.image_size[1]} images (the model takes {height}x{width})")
        if config.channels is not None and config.channels != channels:
            wanted.append(f"{config.channels} channel(s) (the model takes {channels})")
    if spec.kind == "audio" and config.sample_rate is not None and config.sample_rate != spec.sample_rate:
        wanted.append(f"{config.sample_rate} Hz audio (the model takes {spec.sample_rate} Hz)")
    if not wanted:
        return None
    return "the model does not fit the configured input: gateway configured for " + "; ".join(wanted)


class Model:
    """The ONNX session, its manifest, and the readiness that a warm-up proved."""

    def __init__(self, config: Config) -> None:
        import onnxruntime as ort

        directory = Path(config.model_path)
        self.manifest = json.loads((directory / "manifest.json").read_text())
        blob = (directory / "model.onnx").read_bytes()
        # the hash of what is really loaded, not the manifest's claim: a swapped file is refused
        self.sha256 = hashlib.sha256(blob).hexdigest()
        if self.sha256 != self.manifest.get("sha256"):
            raise ValueError(
                f"model.onnx has sha256 {self.sha256[:12]}, its manifest says "
                f"{str(self.manifest.get('sha256'))[:12]}: refusing a file that is not the model"
            )
        options = ort.SessionOptions()
        options.intra_op_num_threads = config.threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(blob, sess_options=options, providers=["CPUExecutionProvider"])
        overrides = Preprocess(scale=config.scale, mean=config.mean, std=config.std)
        self.runner = Runner(session, self.manifest, overrides)
        if problem := misfit(config, self.runner.interface.input):
            raise ValueError(problem)
        self.ready = False
        self.error = ""

    def run(self, payload: dict) -> tuple[str, float, float]:
        return self.runner.run(payload)

    def warm_up(self) -> None:
        """Ready only when the first golden input answers as recorded (label and score); the smoke
        test sends all of them, so a gateway that is ready but answers wrong still fails smoke."""
        try:
            problems = self.runner.check_golden(first_only=True)
            if problems:
                raise ValueError("warm-up answered wrong: " + "; ".join(problems[:3]))
            self.ready = True
        except Exception as error:  # noqa: BLE001 - any failure means "not ready", with a reason
            self.error = f"{type(error).__name__}: {error}"
            self.ready = False


class Detector:
    """Business rule: a label seen ``confirm_frames`` times in a row at or above the confidence
    threshold is one detection event (then the streak starts again)."""

    def __init__(self, config: Config) -> None:
        self.config, self.streak = config, 0
        self.label: str | None = None

    def observe(self, label: str, confidence: float) -> int | None:
        """The streak length when this observation confirms a detection, else None."""
        counts = self.config.event_labels is None or label in self.config.event_labels
        if not counts or confidence < self.config.confidence_threshold:
            self.label, self.streak = None, 0
            return None
        self.streak = self.streak + 1 if label == self.label else 1
        self.label = label
        if self.streak >= self.config.confirm_frames:
            frames, self.label, self.streak = self.streak, None, 0
            return frames
        return None


class Detectors:
    """One Detector per stream (the request's ``stream`` field, else the client address), so one
    client can neither complete nor break another's streak; the least recently seen streams are
    forgotten beyond ``limit``."""

    def __init__(self, config: Config, limit: int) -> None:
        self.config, self.limit = config, limit
        self.streams: OrderedDict[str, Detector] = OrderedDict()
        self.lock = threading.Lock()

    def observe(self, stream: str, label: str, confidence: float) -> int | None:
        with self.lock:
            detector = self.streams.pop(stream, None) or Detector(self.config)
            self.streams[stream] = detector
            while len(self.streams) > self.limit:
                self.streams.popitem(last=False)
            return detector.observe(label, confidence)


def inference_log(config: Config) -> logging.Logger:
    """A size-rotated JSON-lines log (``log_max_bytes`` x ``log_backups``): anyone may send
    requests, so the log must not be able to fill the disk."""
    Path(config.log_path).parent.mkdir(parents=True, exist_ok=True)
    log = logging.getLogger(f"fleetops.edge.inference.{config.log_path}")
    log.propagate = False
    log.setLevel(logging.INFO)
    if not log.handlers:
        handler = logging.handlers.RotatingFileHandler(
            config.log_path, maxBytes=config.log_max_bytes, backupCount=config.log_backups
        )
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
    return log


SMOKE_HEADER = "x-fleetops-smoke"  # monitoring traffic: answered and logged, never a detection


def create_app(config: Config, start_reporter: bool = True):
    """The ASGI app; with a ``server_api`` it also starts the heartbeat/event reporter."""
    from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
    from prometheus_client import CollectorRegistry
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    registry = CollectorRegistry()
    inferences = Counter("edge_inferences_total", "Inferences served.", ["label"], registry=registry)
    failures = Counter("edge_inference_errors_total", "Inferences that failed.", registry=registry)
    detections = Counter("edge_detections_total", "Confirmed detection events.", ["label"], registry=registry)
    latency = Histogram(
        "edge_inference_latency_seconds",
        "Model run time.",
        registry=registry,
        buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0),
    )
    ready_gauge = Gauge("edge_ready", "1 when the model is loaded and warmed up.", registry=registry)
    heartbeat_gauge = Gauge(
        "edge_last_heartbeat_timestamp_seconds",
        "When the server last accepted a heartbeat (0: never).",
        registry=registry,
    )
    dropped = Counter(
        "edge_events_dropped_total", "Detection events not reported (invalid for the receiver).", registry=registry
    )
    state: dict = {"model": None, "error": "", "started": time.time(), "served": 0}
    detectors = Detectors(config, config.max_streams)
    log = inference_log(config)
    infer_token = standalone.read_secret_file(config.infer_token_file)

    try:
        model = Model(config)
        model.warm_up()
        state["model"], state["error"] = model, model.error
    except Exception as error:  # noqa: BLE001 - the app still serves /health and says why
        state["error"] = f"model not loaded: {type(error).__name__}: {error}"
    ready_gauge.set(1 if state["model"] and state["model"].ready else 0)

    def status() -> dict:
        model = state["model"]
        manifest = model.manifest if model is not None else {}
        return {
            "model": manifest.get("name"),
            "version": manifest.get("version"),
            "sha256": model.sha256 if model is not None else None,
            "ready": bool(model and model.ready),
            "reason": None if model and model.ready else state["error"][:300],
            "uptime_s": round(time.time() - state["started"], 1),
            "inferences": state["served"],
        }

    reporter = None
    if config.server_api:
        reporter = Reporter(
            config.server_api,
            config.gateway_name,
            config.heartbeat_interval,
            status,
            token_file=config.server_token_file,
            ca_file=config.server_ca_file,
        )
        heartbeat_gauge.set_function(lambda: reporter.last_success)
        if start_reporter:
            reporter.start()

    async def health(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "alive"})

    async def ready(_request: Request) -> JSONResponse:
        model = state["model"]
        if model is not None and model.ready:
            return JSONResponse(
                {
                    "ready": True,
                    "model": model.manifest["name"],
                    "version": model.manifest["version"],
                    "sha256": model.sha256,
                }
            )
        return JSONResponse({"ready": False, "reason": state["error"] or "not warmed up"}, status_code=503)

    async def manifest(_request: Request) -> JSONResponse:
        model = state["model"]
        if model is None:
            return JSONResponse({"error": state["error"]}, status_code=503)
        return JSONResponse({**model.manifest, "sha256": model.sha256})

    def authorized(request: Request) -> bool:
        if infer_token is None:
            return True
        header = request.headers.get("authorization", "")
        presented = header[7:] if header.lower().startswith("bearer ") else ""
        return hmac.compare_digest(presented.encode(), infer_token.encode())

    async def infer(request: Request) -> JSONResponse:
        if not authorized(request):
            return JSONResponse(
                {"error": "bearer token required"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="fleetops edge"'},
            )
        model = state["model"]
        if model is None:
            return JSONResponse({"error": state["error"]}, status_code=503)
        try:
            raw = await standalone.read_body(request, config.max_body_bytes)
        except standalone.BodyTooLarge as error:
            failures.inc()
            return JSONResponse({"error": str(error)}, status_code=413)

        def work() -> tuple[dict, str, float, float]:
            body = standalone.parse_json(raw)
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            return (body, *model.run(body))

        try:  # decoding and inference run off the event loop: /health stays responsive
            body, label, confidence, ms = await run_in_threadpool(work)
        except Exception as error:  # noqa: BLE001 - bad input or a failing model: a 4xx/5xx, not a crash
            failures.inc()
            status_code = 400 if isinstance(error, (KeyError, ValueError, TypeError, IndexError)) else 500
            return JSONResponse({"error": f"{type(error).__name__}: {error}"[:500]}, status_code=status_code)
        inferences.labels(label).inc()
        latency.observe(ms / 1000)
        state["served"] += 1
        smoke = request.headers.get(SMOKE_HEADER) == "1"
        record = {
            "time": time.time(),
            "model": model.manifest["name"],
            "model_version": model.manifest["version"],
            "latency_ms": round(ms, 4),
            "label": label,
            "confidence": round(confidence, 4),
            "below_threshold": confidence < config.confidence_threshold,
        }
        if smoke:
            record["smoke"] = True
        else:
            stream = body.get("stream") if isinstance(body.get("stream"), str) else None
            client = request.client.host if request.client else "?"
            frames = detectors.observe(f"{client}/{(stream or '')[:64]}", label, confidence)
            if frames is not None:
                record["detection"] = True
                detections.labels(label).inc()
                event = {
                    "time": record["time"],
                    "label": label,
                    "confidence": record["confidence"],
                    "frames": frames,
                    "model": record["model"],
                    "model_version": record["model_version"],
                }
                if reporter is not None and not reporter.event(event):
                    dropped.inc()
        log.info(json.dumps(record))
        return JSONResponse(record)

    async def metrics(_request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app = Starlette(
        routes=[
            Route("/health", health),
            Route("/ready", ready),
            Route("/model", manifest),
            Route("/infer", infer, methods=["POST"]),
            Route("/metrics", metrics),
        ]
    )
    app.state.reporter = reporter
    return app


def main(argv: list[str] | None = None) -> int:
    return standalone.main(argv, "fleetops edge inference app", Config, create_app)


if __name__ == "__main__":
    sys.exit(main())
