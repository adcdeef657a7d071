"""Turn pydantic validation errors into the one-line messages users see."""

from __future__ import annotations

from pydantic import ValidationError


def error_location(loc: tuple) -> str:
    """``('users', 0, 'shell')`` -> ``users[0].shell``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def describe_validation_error(error: ValidationError) -> str:
    """The first problem as ``key: message`` (and how many more there are)."""
    problems = error.errors()
    first = problems[0]
    where = error_location(tuple(first["loc"]))
    message = first["msg"]
    text = f"{where}: {message}" if where else message
    if first.get("type") == "extra_forbidden":
        text = f"{where}: unknown key"
    if len(problems) > 1:
        text += f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
    return text
