"""fleetops edge inference app: serves one ONNX model over HTTP on an AI edge gateway.

Runs standalone on the gateway (its own venv from the offline bundle; it imports nothing from
fleetops). Endpoints:

* ``GET /health``  the process is alive
* ``GET /ready``   the model is loaded AND a warm-up inference on its first golden input succeeded
* ``GET /model``   the model's manifest (name, version, sha256, labels, golden inputs)
* ``POST /infer``  ``{"input": [[...features...]]}`` -> label, confidence, latency
* ``GET /metrics`` Prometheus metrics

Every inference is logged as one JSON line (time, model version, latency, top label, confidence)
to ``log_path``. ``--check-config`` validates a config file and exits (used before it is installed).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


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


class Config(BaseModel):
    """The app's configuration (rendered by the edge role from group data)."""

    model_config = ConfigDict(extra="forbid")
    listen_host: str = "0.0.0.0"
    listen_port: int = Field(8500, ge=1, le=65535)
    server_api: str | None = Field(None, pattern=r"^https?://[^\s]+$")
    model_path: str = Field(pattern=r"^/")
    threads: int = Field(1, ge=1, le=64)
    input_kind: Literal["tabular", "image", "audio"] = "tabular"
    image_size: list[int] = Field(default_factory=list)
    channels: int = Field(1, ge=1, le=4)
    sample_rate: int | None = Field(None, ge=8000, le=192000)
    scale: float = 1.0
    mean: float = 0.0
    std: float = Field(1.0, gt=0)
    confidence_threshold: float = Field(0.5, ge=0, le=1)
    confirm_frames: int = Field(1, ge=1, le=100)
    devices: Devices = Devices()
    log_path: str = Field("/var/log/fleetops-edge/inference.jsonl", pattern=r"^/")

    @model_validator(mode="after")
    def _image(self) -> "Config":
        if self.input_kind == "image" and len(self.image_size) != 2:
            raise ValueError("image input needs image_size: [height, width]")
        return self


def load_config(path: str) -> Config:
    try:
        return Config.model_validate(json.loads(Path(path).read_text()))
    except (OSError, ValueError) as error:
        if isinstance(error, ValidationError):
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise SystemExit(f"config {path}: {where}: {first['msg']}") from None
        raise SystemExit(f"config {path}: {error}") from None


class Model:
    """The ONNX session, its manifest, and the readiness that a warm-up proved."""

    def __init__(self, config: Config) -> None:
        import numpy as np
        import onnxruntime as ort

        self.np = np
        directory = Path(config.model_path)
        self.manifest = json.loads((directory / "manifest.json").read_text())
        options = ort.SessionOptions()
        options.intra_op_num_threads = config.threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(directory / "model.onnx"), sess_options=options,
                                            providers=["CPUExecutionProvider"])
        model_input = self.session.get_inputs()[0]
        self.input_name = model_input.name
        self.config = config
        expected = self.expected_features(config)
        width = model_input.shape[-1] if model_input.shape else None
        if expected and isinstance(width, int) and width != expected:
            raise ValueError(f"model input {model_input.name}{list(model_input.shape)} does not fit the "
                             f"configured input ({expected} features from {config.input_kind} "
                             f"{config.image_size or ''} x {config.channels} channel(s))")
        self.ready = False
        self.error = ""

    @staticmethod
    def expected_features(config: Config) -> int | None:
        """How many features the configured input makes (images: height x width x channels)."""
        if config.input_kind == "image" and len(config.image_size) == 2:
            return config.image_size[0] * config.image_size[1] * config.channels
        return None

    def run(self, rows: list[list[float]]) -> tuple[str, float, float]:
        np = self.np
        features = (np.asarray(rows, dtype=np.float32) * self.config.scale - self.config.mean) / self.config.std
        started = time.perf_counter_ns()
        outputs = self.session.run(None, {self.input_name: features.astype(np.float32)})
        latency_ms = (time.perf_counter_ns() - started) / 1e6
        index = int(np.asarray(outputs[0]).reshape(-1)[0])
        scores = np.asarray(outputs[1])[0] if len(outputs) > 1 else None
        confidence = float(scores[index]) if scores is not None else 1.0
        return self.manifest["labels"][index], confidence, latency_ms

    def warm_up(self) -> None:
        try:
            golden = self.manifest["golden"][0]
            label, _confidence, _ms = self.run(golden["input"])
            if label != golden["label"]:
                raise ValueError(f"warm-up answered {label!r}, golden says {golden['label']!r}")
            self.ready = True
        except Exception as error:  # noqa: BLE001 - any failure means "not ready", with a reason
            self.error = f"{type(error).__name__}: {error}"
            self.ready = False


def create_app(config: Config):
    from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    inferences = Counter("edge_inferences_total", "Inferences served.", ["label"])
    failures = Counter("edge_inference_errors_total", "Inferences that failed.")
    latency = Histogram("edge_inference_latency_seconds", "Model run time.",
                        buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0))
    ready_gauge = Gauge("edge_ready", "1 when the model is loaded and warmed up.")
    state: dict = {"model": None, "error": ""}
    log_lock = threading.Lock()
    Path(config.log_path).parent.mkdir(parents=True, exist_ok=True)

    try:
        model = Model(config)
        model.warm_up()
        state["model"], state["error"] = model, model.error
    except Exception as error:  # noqa: BLE001 - the app still serves /health and says why
        state["error"] = f"model not loaded: {type(error).__name__}: {error}"
    ready_gauge.set(1 if state["model"] and state["model"].ready else 0)

    async def health(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "alive"})

    async def ready(_request: Request) -> JSONResponse:
        model = state["model"]
        if model is not None and model.ready:
            return JSONResponse({"ready": True, "model": model.manifest["name"],
                                 "version": model.manifest["version"], "sha256": model.manifest["sha256"]})
        return JSONResponse({"ready": False, "reason": state["error"] or "not warmed up"}, status_code=503)

    async def manifest(_request: Request) -> JSONResponse:
        model = state["model"]
        if model is None:
            return JSONResponse({"error": state["error"]}, status_code=503)
        return JSONResponse(model.manifest)

    async def infer(request: Request) -> JSONResponse:
        model = state["model"]
        if model is None:
            return JSONResponse({"error": state["error"]}, status_code=503)
        try:
            body = await request.json()
            rows = body["input"]
            label, confidence, ms = model.run(rows)
        except Exception as error:  # noqa: BLE001 - bad input or a failing model: a 4xx/5xx, not a crash
            failures.inc()
            status = 400 if isinstance(error, (KeyError, ValueError, TypeError)) else 500
            return JSONResponse({"error": f"{type(error).__name__}: {error}"[:500]}, status_code=status)
        inferences.labels(label).inc()
        latency.observe(ms / 1000)
        record = {"time": time.time(), "model": model.manifest["name"],
                  "model_version": model.manifest["version"], "latency_ms": round(ms, 4),
                  "label": label, "confidence": round(confidence, 4),
                  "below_threshold": confidence < config.confidence_threshold}
        with log_lock, open(config.log_path, "a") as handle:
            handle.write(json.dumps(record) + "\n")
        return JSONResponse(record)

    async def metrics(_request: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return Starlette(routes=[Route("/health", health), Route("/ready", ready), Route("/model", manifest),
                             Route("/infer", infer, methods=["POST"]), Route("/metrics", metrics)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="fleetops edge inference app")
    parser.add_argument("--config", required=True)
    parser.add_argument("--check-config", action="store_true", help="validate the config and exit")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    if args.check_config:
        print(f"config {args.config}: ok")
        return 0
    import uvicorn

    uvicorn.run(create_app(config), host=config.listen_host, port=config.listen_port,
                log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
