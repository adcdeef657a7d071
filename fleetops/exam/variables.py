"""Per-candidate values: seeded from the sitting's secret and the candidate id.

``seed.int(100, 999)``, ``seed.choice([...])``, ``seed.hex(8)`` and ``seed.word()`` draw from
HMAC-SHA256(secret, variable name + candidate id + draw number): the same candidate always gets
the same values (a regrade or a reprinted slip agrees), neighbours get different ones, and without
the secret nobody can work them out. Templates are Jinja in a sandbox with undefined names as
errors, so a typo fails ``exam validate`` rather than rendering an empty string.
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
from collections.abc import Sequence
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from fleetops.errors import InputError
from fleetops.exam.roster import Candidate
from fleetops.secrets import Secret

WORDS = (
    "amber", "birch", "cedar", "delta", "ember", "fjord", "grove", "harbor", "iris", "juniper",
    "kestrel", "lotus", "maple", "nectar", "onyx", "pine", "quartz", "raven", "sierra", "tundra",
)  # fmt: skip

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


class Seed:
    """Deterministic draws for one (candidate, variable)."""

    def __init__(self, secret: Secret, candidate_id: str, variable: str) -> None:
        self._key = secret.reveal().encode()
        self._message = f"{variable}\0{candidate_id}".encode()
        self._count = 0

    def _next(self) -> int:
        self._count += 1
        digest = hmac.new(self._key, self._message + b"\0%d" % self._count, hashlib.sha256).digest()
        return int.from_bytes(digest[:8], "big")

    def int(self, low: int, high: int) -> int:
        if high < low:
            raise ValueError(f"seed.int({low}, {high}): high is below low")
        return low + self._next() % (high - low + 1)

    def choice(self, options: Sequence[Any]) -> Any:
        if not options:
            raise ValueError("seed.choice([]): nothing to choose from")
        return options[self._next() % len(options)]

    def hex(self, length: builtins.int = 8) -> str:
        out = ""
        while len(out) < length:
            out += f"{self._next():016x}"
        return out[:length]

    def word(self) -> str:
        return self.choice(WORDS)


def candidate_context(candidate: Candidate) -> dict[str, Any]:
    """What templates may use about a candidate: never the name or id_check (they stay on the
    controller and in reports)."""
    return {"candidate_id": candidate.candidate_id, "seat": candidate.seat, "level": candidate.level}


def render(template: str, context: dict[str, Any], where: str) -> str:
    try:
        return _ENV.from_string(template).render(**context)
    except TemplateError as error:
        raise InputError(f"{where}: {type(error).__name__}: {error}") from None
    except (ValueError, TypeError, ZeroDivisionError) as error:
        raise InputError(f"{where}: {error}") from None


def candidate_variables(
    variables: dict[str, str],
    secret: Secret,
    candidate: Candidate,
    account_template: str,
    constants: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Render every variable in order (later ones may use earlier ones) plus ``user``, the
    candidate's seat account, and the exam's ``constants`` (its ``files:``)."""
    context = candidate_context(candidate)
    user = render(account_template, context, "accounts.candidate.user")
    context["user"] = user
    values: dict[str, Any] = {"user": user, **(constants or {})}
    for name, template in variables.items():
        seed = Seed(secret, candidate.candidate_id, name)
        value = render(template, {**context, **values, "seed": seed}, f"variables.{name}")
        values[name] = value
    return values


def render_data(data: Any, context: dict[str, Any], where: str) -> Any:
    """Render every string inside a declaration (a rubric check) with ``context``."""
    if isinstance(data, str):
        return render(data, context, where) if "{" in data else data
    if isinstance(data, list):
        return [render_data(item, context, f"{where}[{i}]") for i, item in enumerate(data)]
    if isinstance(data, dict):
        return {key: render_data(value, context, f"{where}.{key}") for key, value in data.items()}
    return data
