"""Inference smoke tests against edge gateways (what `fleetops smoke` runs).

From the controller, like a client: the app must be ready, must answer every golden input of the
model it serves with the expected label (and at least the recorded score), and its p95 latency
over repeated requests after a warm-up must stay within budget. A gateway that says "ready" but
fails an inference fails the check.
"""

from __future__ import annotations

import http.client
import json
import statistics
import time
from typing import ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import ConfigDict, Field

from fleetops.checks.base import Check, Outcome, Target, failed
from fleetops.edge.inference import payload_of
from fleetops.edge.layout import CONFIG
from fleetops.secrets import Secret


class Inference(Check):
    """``{kind: inference, url: "http://{address}:8500", requests: 50, warn: 50, crit: 200}``.

    The value is the p95 round-trip latency in ms (HTTP included) over ``requests`` calls with
    the model's first golden input, after ``warmup`` calls.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    kind: Literal["inference"]
    url: str = Field("http://{address}:8500", pattern=r"^http://[^\s/]+(:\d+)?/?$")
    token: Secret | None = Field(None, exclude=True)  # the gateway's edge.infer_token (group data only)
    warmup: int = Field(5, ge=0, le=1000)
    requests: int = Field(50, ge=1, le=10000)
    timeout: float = Field(10.0, gt=0, le=120)
    unit: ClassVar[str] = "ms"
    where: ClassVar[str] = "controller"
    default_warn: ClassVar[float | None] = 50.0
    default_crit: ClassVar[float | None] = 200.0

    def default_name(self) -> str:
        return "inference"

    def for_host(self, data: dict) -> "Inference":
        """Takes the gateway's ``edge.infer_token`` when its app requires one."""
        token = (data.get("edge") or {}).get("infer_token") if isinstance(data.get("edge"), dict) else None
        if token is None:
            return self
        return self.model_copy(update={"token": token if isinstance(token, Secret) else Secret(str(token))})

    def collect(self, target: Target, timeout: float) -> dict:
        parts = urlsplit(self.url.format(address=target.address, host=target.name))
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=min(self.timeout, timeout))

        # smoke traffic is marked: the app answers and logs it, but it never counts as a detection
        headers = {"Content-Type": "application/json", "X-Fleetops-Smoke": "1"}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token.reveal()}"

        def call(method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
            payload = json.dumps(body).encode() if body is not None else None
            conn.request(method, path, body=payload, headers=headers)
            response = conn.getresponse()
            return response.status, json.loads(response.read() or b"{}")

        try:
            status, ready = call("GET", "/ready")
            if status != 200:
                return {"not_ready": ready.get("reason", f"HTTP {status}")}
            status, manifest = call("GET", "/model")
            problems = []
            for index, golden in enumerate(manifest.get("golden", [])):
                status, answer = call("POST", "/infer", payload_of(golden))
                if status != 200:
                    problems.append(f"golden {index}: HTTP {status} {answer.get('error', '')}"[:200])
                elif answer["label"] != golden["label"]:
                    problems.append(f"golden {index}: label {answer['label']!r}, expected {golden['label']!r}")
                elif answer["confidence"] < golden.get("min_score", 0):
                    problems.append(f"golden {index}: confidence {answer['confidence']:.3f} < {golden['min_score']}")
            if not manifest.get("golden"):
                problems.append("the model has no golden inputs")
            sample = payload_of(manifest["golden"][0]) if manifest.get("golden") else None
            timings = []
            if sample and not problems:
                for _ in range(self.warmup):
                    call("POST", "/infer", sample)
                for _ in range(self.requests):
                    started = time.perf_counter()
                    call("POST", "/infer", sample)
                    timings.append((time.perf_counter() - started) * 1000)
        except (OSError, http.client.HTTPException, ValueError) as error:
            return {"error": f"{parts.geturl()}: {type(error).__name__}: {error}"}
        finally:
            conn.close()
        timings.sort()
        return {
            "model": f"{manifest.get('name')} v{manifest.get('version')}",
            "problems": problems,
            "p50": statistics.median(timings) if timings else None,
            "p95": timings[int(0.95 * (len(timings) - 1))] if timings else None,
            "goldens": len(manifest.get("golden", [])),
        }

    def judge(self, raw: dict) -> Outcome:
        if raw.get("error"):
            return failed(raw["error"])
        if raw.get("not_ready"):
            return failed(f"not ready: {raw['not_ready']}")
        if raw["problems"]:
            return failed(f"{raw['model']}: " + "; ".join(raw["problems"][:3]))
        outcome = self.measured(raw["p95"], f"{raw['model']}: {raw['goldens']} golden inputs ok, p95", "{:.1f}")
        outcome.message += f", p50 {raw['p50']:.1f}ms"
        return outcome


class Device(Check):
    """A device node on a gateway: ``{kind: device, device: camera}`` reads its path from the edge
    app's config (``camera``, ``audio`` as ALSA ``hw:C,D``, ``serial``); ``path`` names one directly.

    A device that is absent is reported as absent (``absent: critical`` by default, or ``warning``
    / ``ok`` for optional hardware), never as a crash; one that is not configured is OK and says so.
    """

    kind: Literal["device"]
    device: Literal["camera", "audio", "serial"] | None = None
    path: str | None = Field(None, pattern=r"^/dev/[A-Za-z0-9/_.-]+$")
    absent: Literal["critical", "warning", "ok"] = "critical"

    def default_name(self) -> str:
        return f"device:{self.device or self.path}"

    def probe(self) -> dict:
        return {"op": "device", "args": {"path": self.path, "config_key": self.device, "config_file": CONFIG}}

    def judge(self, raw: dict) -> Outcome:
        from fleetops.checks.base import passed
        from fleetops.checks.result import Status

        if raw.get("error_text"):
            return Outcome(Status.UNKNOWN, raw["error_text"])
        if not raw["configured"]:
            return passed(f"no {self.device} configured", None)
        if not raw["present"]:
            status = {"critical": Status.CRITICAL, "warning": Status.WARNING, "ok": Status.OK}[self.absent]
            return Outcome(status, f"{raw['path']} absent", False)
        if not raw["char"]:
            return failed(f"{raw['path']} is not a character device", value=False)
        access = "rw" if raw["readable"] and raw["writable"] else ("r" if raw["readable"] else "no access")
        return passed(f"{raw['path']} present ({access})", True)


def receiver_unreachable(raw: dict) -> Outcome | None:
    """CRITICAL when the gateway has no receiver configured or cannot reach it (both platform kinds)."""
    if not raw["configured"]:
        return failed(raw.get("error_text") or "the edge app has no server_api configured")
    if raw.get("reach_error"):
        return failed(f"{raw['url']} unreachable: {raw['reach_error']}"[:300])
    return None


class PlatformApi(Check):
    """``{kind: platform_api}``: the platform receiver at the edge app's ``server_api`` answers
    ``/health`` from the gateway itself (the path its heartbeats take). Value: round trip in ms."""

    kind: Literal["platform_api"]
    timeout: float = Field(5.0, gt=0, le=60)
    unit: ClassVar[str] = "ms"
    default_warn: ClassVar[float | None] = 500.0
    default_crit: ClassVar[float | None] = 3000.0

    def default_name(self) -> str:
        return "platform:api"

    def probe(self) -> dict:
        return {"op": "platform", "args": {"timeout": self.timeout, "config_file": CONFIG}}

    def judge(self, raw: dict) -> Outcome:
        if problem := receiver_unreachable(raw):
            return problem
        return self.measured(raw["seconds"] * 1000, f"{raw['url']}/health answered", "{:.0f}")


class Heartbeat(Check):
    """``{kind: heartbeat, warn: 30, crit: 120}``: how long ago the platform receiver stored this
    gateway's last heartbeat (asked from the gateway, at its ``server_api``). Value: age in s."""

    kind: Literal["heartbeat"]
    timeout: float = Field(5.0, gt=0, le=60)
    unit: ClassVar[str] = "s"
    default_warn: ClassVar[float | None] = 30.0
    default_crit: ClassVar[float | None] = 120.0

    def default_name(self) -> str:
        return "platform:heartbeat"

    def probe(self) -> dict:
        return {"op": "platform", "args": {"timeout": self.timeout, "config_file": CONFIG}}  # as platform_api

    def judge(self, raw: dict) -> Outcome:
        if problem := receiver_unreachable(raw):
            return problem
        if raw.get("record_error"):
            return failed(f"gateway {raw['gateway']!r} not known to the platform: {raw['record_error']}"[:300])
        age = raw["record"].get("heartbeat_age_s")
        if age is None:
            return failed(f"no heartbeat from {raw['gateway']} stored yet")
        ready = raw["record"].get("ready")
        return self.measured(age, f"last heartbeat (gateway {'ready' if ready else 'NOT ready'}) age", "{:.1f}")
