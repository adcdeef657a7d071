"""One type for secrets, and the redaction every log, diff, report and run record goes through.

A ``Secret`` never shows its value in ``str``/``repr``/f-strings; code that must use the value
calls ``reveal()``. Every Secret created registers its value so ``redact()`` can scrub it from
any text that leaves the process (console logs, diffs, run records, error output).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
from pathlib import Path
from typing import Annotated

from pydantic import BeforeValidator

MASK = "***"
MIN_LENGTH = 4  # a shorter value cannot be masked without masking ordinary text; Secret refuses it
_REGISTERED: set[str] = set()
_LONGEST_FIRST: list[str] = []  # _REGISTERED sorted for redact(), rebuilt only when it grows
_SENSITIVE_KEY = re.compile(
    r"(pass(word|wd|phrase)?|secret|token|private_key|password_hash|encryption_key|api_key)", re.I
)


class Secret:
    """A secret value (password, hash, token) that masks itself everywhere but ``reveal()``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str) or not value:
            raise ValueError("a secret must be a non-empty string")
        if len(value) < MIN_LENGTH:
            raise ValueError(
                f"a secret must have at least {MIN_LENGTH} characters (a shorter one "
                "could not be masked in logs and records)"
            )
        self._value = value
        register(value)

    @classmethod
    def from_env(cls, name: str) -> "Secret":
        """Read a secret from an environment variable (fails with the variable's name only)."""
        value = os.environ.get(name)
        if not value:
            raise KeyError(f"environment variable {name} is not set")
        return cls(value)

    @classmethod
    def from_file(cls, path: str | Path) -> "Secret":
        """Read a secret from a file (first line, stripped)."""
        return cls(Path(path).read_text().splitlines()[0].strip())

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK})"

    __str__ = lambda self: MASK  # noqa: E731 - str() must never leak the value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))


def _forms(value: str) -> set[str]:
    """The value and the forms it takes once quoted for JSON, shell or SQL, so a secret that
    holds quotes, backslashes or non-ASCII characters is masked wherever it ends up."""
    forms = {
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        shlex.quote(value),
        value.replace("\\", "\\\\").replace("'", "\\'"),
        value.replace("'", "''"),
    }
    return {form for form in forms if len(form) >= MIN_LENGTH}


def register(value: str) -> None:
    """Treat ``value`` as secret from now on (values shorter than 4 characters are too noisy)."""
    if isinstance(value, str) and len(value) >= MIN_LENGTH:
        new = _forms(value) - _REGISTERED
        if new:
            _REGISTERED.update(new)
            _LONGEST_FIRST[:] = sorted(_REGISTERED, key=len, reverse=True)


def is_sensitive_key(key: str) -> bool:
    """Whether a data key names something secret (``password``, ``token``, ...)."""
    return bool(_SENSITIVE_KEY.search(key))


def register_sensitive_values(data: object, key: str = "") -> None:
    """Walk host data and register Secrets and values stored under sensitive keys."""
    if isinstance(data, Secret):
        register(data.reveal())
    elif isinstance(data, dict):
        for sub_key, value in data.items():
            if is_sensitive_key(str(sub_key)) and isinstance(value, str):
                register(value)
            register_sensitive_values(value, str(sub_key))
    elif isinstance(data, (list, tuple)):
        for item in data:
            register_sensitive_values(item, key)


def redact(text: str) -> str:
    """Replace every registered secret value in ``text`` with ``***`` (longest first)."""
    if not text or not _LONGEST_FIRST:
        return text
    for value in _LONGEST_FIRST:
        if value in text:
            text = text.replace(value, MASK)
    return text


def redact_data(data: object) -> object:
    """``data`` (JSON-like: dicts, lists, strings, numbers) with every string redacted; keys and
    non-string values are kept as they are, so the result always serialises again."""
    if isinstance(data, str):
        return redact(data)
    if isinstance(data, dict):
        return {key: redact_data(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [redact_data(item) for item in data]
    return data


def to_secret(value: object) -> object:
    """A pydantic ``BeforeValidator``: a plain string from group data becomes a Secret."""
    return Secret(value) if isinstance(value, str) else value


# The type of a secret field in a spec or a check declaration (models need arbitrary_types_allowed).
SecretStr = Annotated[Secret, BeforeValidator(to_secret)]


class RedactingFilter(logging.Filter):
    """A logging filter that scrubs secrets from every record it passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
