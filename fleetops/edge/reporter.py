"""Heartbeats and detection events from a gateway to the platform receiver (``server_api``).

A daemon thread posts a heartbeat every ``interval`` seconds and, in the same round, every
detection event queued since the last round. Inference never waits on the network: events go
into a bounded queue; when the server is unreachable they stay queued (the oldest are dropped
beyond ``MAX_QUEUED``) and are sent when it answers again. Standard library only (it runs on the
gateway inside the edge app).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from typing import Callable

MAX_QUEUED = 1000


class Reporter:
    def __init__(self, server_api: str, gateway: str, interval: float,
                 status: Callable[[], dict], timeout: float = 5.0) -> None:
        self.base = server_api.rstrip("/")
        self.gateway, self.interval, self.status, self.timeout = gateway, interval, status, timeout
        self.events: deque[dict] = deque(maxlen=MAX_QUEUED)
        self.sent_heartbeats = 0
        self.failures = 0
        self.last_success = 0.0
        self.last_error = ""
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def event(self, record: dict) -> None:
        """Queue one detection event (called from request handlers; never blocks on I/O)."""
        with self._lock:
            self.events.append({"gateway": self.gateway, **record})

    def _post(self, path: str, body: dict) -> None:
        request = urllib.request.Request(f"{self.base}{path}", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
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
        except (OSError, urllib.error.URLError, ValueError) as error:
            if batch:
                with self._lock:  # oldest first again; beyond MAX_QUEUED the oldest are dropped
                    self.events = deque(batch + list(self.events), maxlen=MAX_QUEUED)
            self.failures += 1
            self.last_error = f"{type(error).__name__}: {error}"[:300]
            return False

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                self.report_once()
                self._stop.wait(self.interval)

        threading.Thread(target=loop, name="fleetops-edge-reporter", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
