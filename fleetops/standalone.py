"""What every standalone fleetops app shares: its config file and its command line.

The edge inference app and the platform receiver run on their hosts from offline bundles, with
this file shipped next to them (it needs only pydantic and, to serve, uvicorn). A config that
does not validate stops the app with one line naming the key; ``--check-config`` validates and
exits, which the roles use before a new config can take effect. Both apps also share how they
read untrusted bodies: a size limit enforced before the body is read whole, and strict JSON
(no NaN or Infinity).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Callable, TypeVar

from pydantic import BaseModel, ValidationError

Config = TypeVar("Config", bound=BaseModel)


def load_config(model: type[Config], path: str) -> Config:
    """The validated config, or SystemExit with one line: ``config PATH: KEY: problem``."""
    try:
        return model.model_validate(json.loads(Path(path).read_text()))
    except (OSError, ValueError) as error:
        if isinstance(error, ValidationError):
            first = error.errors()[0]
            raise SystemExit(f"config {path}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
        raise SystemExit(f"config {path}: {error}") from None


class BodyTooLarge(Exception):
    """The request body is over the app's limit (answered 413)."""


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def parse_json(raw: bytes) -> object:
    """Strict JSON: ``NaN``/``Infinity`` (which Python's json accepts) are refused, as is nesting
    too deep to parse; every failure is a ValueError the apps answer with 400."""
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


async def read_body(request, limit: int) -> bytes:
    """The request body, refused with BodyTooLarge as soon as it is known to exceed ``limit``
    bytes: from ``Content-Length`` before reading anything, else while it streams in."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise BodyTooLarge(f"body of {declared} bytes is over the limit of {limit}")
        except ValueError:
            raise BodyTooLarge("Content-Length is not a number") from None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"body is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def read_secret_file(path: str | None) -> str | None:
    """A token from a file (first line, stripped); None when no file is configured."""
    if not path:
        return None
    text = Path(path).read_text().strip()
    if len(text) < 16:
        raise ValueError(f"{path}: a token must have at least 16 characters")
    return text


def main(argv: list[str] | None, description: str, model: type[Config], create_app: Callable) -> int:
    """``--config FILE [--check-config]``: validate, then serve ``create_app(config)`` with uvicorn
    on the config's ``listen_host``/``listen_port``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--config", required=True)
    parser.add_argument("--check-config", action="store_true", help="validate the config and exit")
    args = parser.parse_args(argv)
    config = load_config(model, args.config)
    if args.check_config:
        print(f"config {args.config}: ok")
        return 0
    import uvicorn

    settings = config.model_dump()  # every app's config has listen_host/listen_port, maybe tls_*
    tls = {}
    if settings.get("tls_cert"):
        tls = {"ssl_certfile": settings["tls_cert"], "ssl_keyfile": settings["tls_key"]}
    uvicorn.run(
        create_app(config),
        host=settings["listen_host"],
        port=settings["listen_port"],
        log_level="warning",
        access_log=False,
        **tls,
    )
    return 0
