"""moto's EC2 emulator served in-process on 127.0.0.1 (never 0.0.0.0), with a fault switch.

``LoseAnswer`` lets a test make the emulator carry out a request (the instance is created) and
then hold the answer back past the client's read timeout: exactly the "did my create happen?"
case a retry must not turn into a second instance.
"""

from __future__ import annotations

import io
import os
import threading
import time
from urllib.parse import parse_qs

VALIDATION = {
    "MOTO_EC2_ENABLE_INSTANCE_TYPE_VALIDATION": "1",
    "MOTO_ENABLE_KEYPAIR_VALIDATION": "1",
    "MOTO_ENABLE_AMI_VALIDATION": "1",
}


class LoseAnswer:
    """WSGI middleware: for the next ``count`` requests of ``action``, answer ``delay`` s late."""

    def __init__(self, app) -> None:
        self.app = app
        self.rules: dict[str, list[float]] = {}
        self.seen: list[str] = []

    def arm(self, action: str, delay: float, count: int = 1) -> None:
        self.rules[action] = [delay] * count

    def __call__(self, environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        action = (parse_qs(body.decode(errors="replace")).get("Action") or [""])[0]
        self.seen.append(action)
        environ["wsgi.input"] = io.BytesIO(body)
        result = self.app(environ, start_response)
        pending = self.rules.get(action)
        if pending:
            time.sleep(pending.pop(0))
        return result


class MotoEc2:
    """A running emulator: ``endpoint``, ``faults`` and ``stop()``."""

    def __init__(self) -> None:
        os.environ.update(VALIDATION)
        from moto.moto_server.threaded_moto_server import MotoRequestHandler
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        self.faults = LoseAnswer(DomainDispatcherApplication(create_backend_app))
        self.server = make_server("127.0.0.1", 0, self.faults, threaded=True, request_handler=MotoRequestHandler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.endpoint = f"http://127.0.0.1:{self.server.server_port}"

    def reset(self) -> None:
        """Forget every instance, key and group (moto's own reset endpoint)."""
        from urllib.request import Request, urlopen

        urlopen(Request(f"{self.endpoint}/moto-api/reset", method="POST"), timeout=30).close()

    def stop(self) -> None:
        self.server.shutdown()
