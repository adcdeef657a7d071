"""A query as a given database user: ``{kind: sql, user: shop_app, password: ..., database: shop,
query: "SELECT COUNT(*) FROM orders", equals: 42}``.

It tests grants from the client's side: what that user can do, not what ``mysql.user`` says. The
probe runs the ``mysql`` client on the host over its unix socket (``--protocol`` tcp with
``host``), with the password in a 0600 option file that is removed at once, never on a command
line. ``expect_error: true`` asserts the server refuses (a grant that must not exist).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from fleetops.checks.base import Check, Outcome, compile_pattern, failed, passed
from fleetops.secrets import SecretStr


class Sql(Check):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    kind: Literal["sql"]
    user: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,80}$")
    password: SecretStr | None = None
    database: str | None = Field(None, pattern=r"^[A-Za-z0-9_$]{1,64}$")
    host: str | None = Field(
        None, pattern=r"^[A-Za-z0-9_.:-]+$", description="TCP to this address instead of the socket"
    )
    query: str = Field(min_length=1, max_length=4000)
    equals: str | None = None
    matches: str | None = None
    rows: int | None = Field(None, ge=0)
    expect_error: bool = False

    @model_validator(mode="before")
    @classmethod
    def _text(cls, data: object) -> object:
        if (
            isinstance(data, dict)
            and isinstance(data.get("equals"), (int, float))
            and not isinstance(data["equals"], bool)
        ):
            data = {**data, "equals": str(data["equals"])}
        return data

    @model_validator(mode="after")
    def _pattern(self) -> "Sql":
        if self.password is not None and any(c in self.password.reveal() for c in "\r\n"):
            raise ValueError("password: a line break cannot go into a MySQL option file")
        if self.matches:
            compile_pattern(self.matches, "matches")
        return self

    def default_name(self) -> str:
        return f"sql:{self.user}"

    def probe(self) -> dict:
        return {
            "op": "sql",
            "args": {
                "user": self.user,
                "password": self.password.reveal() if self.password else None,
                "database": self.database,
                "host": self.host,
                "query": self.query,
            },
        }

    def judge(self, raw: dict) -> Outcome:
        if raw["exit"] != 0:
            reason = (raw.get("stderr") or "").strip().splitlines()[-1:] or [f"exit {raw['exit']}"]
            if self.expect_error:
                return passed(f"{self.user}: refused as expected ({reason[0][:160]})")
            return failed(f"{self.user}: {reason[0][:200]}")
        if self.expect_error:
            return failed(f"{self.user}: the query succeeded but should be refused")
        rows = [line.split("\t") for line in raw["stdout"].splitlines()]
        first = rows[0][0] if rows and rows[0] else None
        if self.rows is not None and len(rows) != self.rows:
            return failed(f"{self.user}: {len(rows)} row(s) (expected {self.rows})", value=len(rows))
        if self.equals is not None and first != self.equals:
            return failed(f"{self.user}: {first!r} (expected {self.equals!r})", value=first)
        if self.matches and not re.search(self.matches, raw["stdout"]):
            return failed(f"{self.user}: output does not match {self.matches!r}", value=first)
        return passed(f"{self.user}: {len(rows)} row(s){f', first {first}' if first is not None else ''}", first)
