"""What every standalone fleetops app shares: its config file and its command line.

The edge inference app and the platform receiver run on their hosts from offline bundles, with
this file shipped next to them (it needs only pydantic and, to serve, uvicorn). A config that
does not validate stops the app with one line naming the key; ``--check-config`` validates and
exits, which the roles use before a new config can take effect.
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

    uvicorn.run(create_app(config), host=config.listen_host, port=config.listen_port,
                log_level="warning", access_log=False)
    return 0
