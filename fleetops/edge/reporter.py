"""Heartbeats and detection events from a gateway to the platform receiver (``server_api``).

A daemon thread posts a heartbeat every ``interval`` seconds and, in the same round, every
detection event queued since the last round. Inference never waits on the network: events go
into a bounded queue; when the server is unreachable (or refuses this gateway's token, as it does
for a moment while a token is rotated) they stay queued (the oldest are dropped beyond
``MAX_QUEUED``) and are sent when it answers again. An event the receiver would refuse as
invalid is never queued, and a batch it refuses as invalid (400/413/422) is dropped and counted,
so one bad event can never block the ones after it.

Every post carries this gateway's token (``Authorization: Bearer``), read from its 0600 file each
round, so a rotated token takes effect without a restart (and without losing the queue). With an
``https`` server the receiver's certificate is verified against ``ca_file``. Standard library only
(it runs on the gateway inside the edge app).
"""

from __future__ import annotations

import json
import math
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from pathlib import Path
from typing import Callable

MAX_QUEUED = 1000
REFUSED_AS_INVALID = {400, 413, 422}  # the batch itself is wrong: retrying can never succeed


def valid_event(record: dict) -> bool:
    """What the receiver accepts (see ``fleetops/platform/app.py``: Event)."""
    confidence, frames, when = record.get("confidence"), record.get("frames"), record.get("time")
    label = record.get("label")
    return (
        isinstance(label, str)
        and 1 <= len(label) <= 64
        and isinstance(confidence, (int, float))
        and math.isfinite(confidence)
        and 0 <= confidence <= 1
        and isinstance(frames, int)
        and 1 <= frames <= 1_000_000
        and isinstance(when, (int, float))
        and math.isfinite(when)
        and abs(when - time.time()) < 86400
    )


class Reporter:
    def __init__(
        self,
        server_api: str,
        gateway: str,
        interval: float,
        status: Callable[[], dict],
        timeout: float = 5.0,
        token_file: str | None = None,
        ca_file: str | None = None,
    ) -> None:
        self.base = server_api.rstrip("/")
        self.gateway, self.interval, self.status, self.timeout = gateway, interval, status, timeout
        self.token_file = token_file
        self.context = ssl.create_default_context(cafile=ca_file) if self.base.startswith("https") else None
        self.events: deque[dict] = deque(maxlen=MAX_QUEUED)
        self.sent_heartbeats = 0
        self.failures = 0
        self.dropped = 0
        self.last_success = 0.0
        self.last_error = ""
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def event(self, record: dict) -> bool:
        """Queue one detection event (called from request handlers; never blocks on I/O).
        False (and counted as dropped) when the receiver would refuse it."""
        if not valid_event(record):
            self.dropped += 1
            return False
        with self._lock:
            self.events.append({"gateway": self.gateway, **record})
        return True

    def _headers(self) -> dict:
        headers = {"Content-Type": "application/json"}
        if self.token_file:
            token = Path(self.token_file).read_text().strip()
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def _post(self, path: str, body: dict) -> None:
        request = urllib.request.Request(
            f"{self.base}{path}",
            data=json.dumps(body, allow_nan=False).encode(),
            headers=self._headers(),
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=self.timeout, context=self.context) as response:
            response.read()

    def report_once(self) -> bool:
        """One round: heartbeat, then queued events. True when both reached the server."""
        batch: list[dict] = []
        try:
            self._post("/api/heartbeat", {"gateway": self.gateway, "time": time.time(), **self.status()})
            self.sent_heartbeats += 1
            with self._lock:  # take the queued events out; they go back if the post fails
                batch = list(self.events)
                self.events.clear()
            if batch:
                self._post("/api/events", {"events": batch})
            self.last_success, self.last_error = time.time(), ""
            return True
        except urllib.error.HTTPError as error:
            if batch and error.code in REFUSED_AS_INVALID:
                self.dropped += len(batch)  # never again: it would block every later event
            elif batch:
                self._requeue(batch)
            self._failed(error)
            return False
        except (OSError, urllib.error.URLError, ValueError) as error:
            if batch:
                self._requeue(batch)
            self._failed(error)
            return False

    def _requeue(self, batch: list[dict]) -> None:
        with self._lock:  # oldest first again; beyond MAX_QUEUED the oldest are dropped
            self.events = deque(batch + list(self.events), maxlen=MAX_QUEUED)

    def _failed(self, error: Exception) -> None:
        self.failures += 1
        self.last_error = f"{type(error).__name__}: {error}"[:300]

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                self.report_once()
                self._stop.wait(self.interval)

        threading.Thread(target=loop, name="fleetops-edge-reporter", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
