"""A setting in a configuration file: ``{kind: config, path: /etc/vsftpd.conf, format: keyvalue,
key: chroot_local_user, equals: "YES"}``.

The probe only reads the file (up to 1 MiB); parsing happens here, on the controller, so every
format is unit-tested from captured files. Formats and what ``key`` means in each:

+ ``keyvalue``: ``key=value`` lines (vsftpd, sysctl, .env; ``#`` comments); the last one wins
+ ``sshd``: ``Keyword value`` lines, keywords case-insensitive, the *first* one wins (as sshd
  reads it); ``Match`` blocks are not the global setting and are skipped
+ ``ini``: ``section.key`` (configparser, repeated keys allowed; the last one wins)
+ ``json`` / ``yaml``: a dotted path, numbers index lists (``servers.0.port``)
+ ``nginx``: a dotted path of directives (``server.listen``, ``http.server.root``); every match
  counts, so ``server.listen`` passes when any server listens there (parsed with crossplane)
"""

from __future__ import annotations

import configparser
import json
import os
import re
import tempfile
from typing import Any, Literal

import yaml
from pydantic import Field, field_validator, model_validator

from fleetops.checks.base import Check, Outcome, compile_pattern, failed, passed

MAX_BYTES = 1024 * 1024


class ConfigSyntaxError(ValueError):
    """The file is not valid in its declared format."""


def values_at(text: str, fmt: str, key: str) -> list[str]:
    """Every value ``key`` has in ``text`` read as ``fmt`` (empty when unset), as strings."""
    if fmt == "keyvalue":
        found = [v.strip() for k, v in _pairs(text, "=") if k.strip() == key]
        return found[-1:]
    if fmt == "sshd":
        for k, v in _sshd_pairs(text):
            if k.lower() == key.lower():
                return [v]
        return []
    if fmt == "ini":
        section, _, option = key.rpartition(".")
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        try:
            parser.read_string(text if section else "[_top_]\n" + text)
        except configparser.Error as error:
            raise ConfigSyntaxError(f"not valid ini: {error.message.splitlines()[0]}") from None
        section = section or "_top_"
        if parser.has_option(section, option):
            return [parser.get(section, option)]
        return []
    if fmt in ("json", "yaml"):
        try:
            data = json.loads(text) if fmt == "json" else yaml.safe_load(text)
        except (ValueError, yaml.YAMLError) as error:
            raise ConfigSyntaxError(f"not valid {fmt}: {str(error).splitlines()[0]}") from None
        node: Any = data
        for part in key.split("."):
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return []
        return [_as_text(node)]
    if fmt == "nginx":
        return _nginx_values(text, key.split("."))
    raise ValueError(f"unknown format {fmt}")


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return "" if value is None else str(value)


def _pairs(text: str, sep: str) -> list[tuple[str, str]]:
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or sep not in line:
            continue
        key, _, value = line.partition(sep)
        pairs.append((key, value))
    return pairs


def _sshd_pairs(text: str) -> list[tuple[str, str]]:
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = re.split(r"[\s=]+", line, maxsplit=1)
        if parts[0].lower() == "match":
            break  # everything after Match applies conditionally
        pairs.append((parts[0], parts[1].strip() if len(parts) > 1 else ""))
    return pairs


def _nginx_values(text: str, path: list[str]) -> list[str]:
    import crossplane

    with tempfile.TemporaryDirectory(prefix="fleetops-nginx-") as tmp:
        file = os.path.join(tmp, "nginx.conf")
        with open(file, "w", encoding="utf-8") as handle:
            handle.write(text)
        payload = crossplane.parse(file, single=True, check_ctx=False, check_args=False, catch_errors=False)
    if payload["status"] != "ok":
        raise ConfigSyntaxError("not valid nginx: " + payload["errors"][0]["error"])
    found: list[str] = []

    def walk(block: list[dict], rest: list[str]) -> None:
        for directive in block:
            if directive["directive"] != rest[0]:
                continue
            if len(rest) == 1:
                found.append(" ".join(directive["args"]))
            else:
                walk(directive.get("block") or [], rest[1:])

    walk(payload["config"][0]["parsed"], path)
    return found


class Config(Check):
    """``equals`` (exact, after trimming), ``matches`` (a regular expression) or ``present``;
    ``case_sensitive: false`` for YES/yes-style values. Without a test, the key must be set."""

    kind: Literal["config"]
    path: str = Field(pattern=r"^/")
    format: Literal["keyvalue", "sshd", "ini", "json", "yaml", "nginx"]
    key: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.@/:-]+$")
    equals: str | None = None
    matches: str | None = None
    present: bool = True
    case_sensitive: bool = True

    @field_validator("equals", mode="before")
    @classmethod
    def _text(cls, value: object) -> object:
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value) if isinstance(value, (int, float)) else value

    @field_validator("matches")
    @classmethod
    def _matches(cls, value: str | None) -> str | None:
        return compile_pattern(value, "matches") if value else value

    @model_validator(mode="after")
    def _consistent(self) -> "Config":
        if not self.present and (self.equals is not None or self.matches):
            raise ValueError("present: false cannot also test a value")
        return self

    def default_name(self) -> str:
        return f"config:{self.path}:{self.key}"

    def probe(self) -> dict:
        return {"op": "read", "args": {"path": self.path, "max_bytes": MAX_BYTES}}

    def judge(self, raw: dict) -> Outcome:
        if not raw["exists"]:
            return failed(f"{self.path} does not exist", value=None)
        try:
            values = values_at(raw["text"], self.format, self.key)
        except ConfigSyntaxError as error:
            return failed(f"{self.path}: {error}")
        where = f"{self.path} {self.key}"
        if not self.present:
            return failed(f"{where} is set ({values[0]})", value=values[0]) if values else passed(f"{where} is unset")
        if not values:
            return failed(f"{where} is not set", value=None)
        fold = (lambda s: s) if self.case_sensitive else str.lower
        if self.equals is not None and not any(fold(v.strip()) == fold(self.equals) for v in values):
            return failed(f"{where} = {' | '.join(values)} (expected {self.equals})", value=values[0])
        flags = 0 if self.case_sensitive else re.IGNORECASE
        if self.matches and not any(re.search(self.matches, v, flags) for v in values):
            return failed(f"{where} = {' | '.join(values)} (expected to match {self.matches!r})", value=values[0])
        return passed(f"{where} = {' | '.join(values)}", values[0])
