"""Firmware versions: dotted numbers, compared the way SWUpdate's ``-N``/``-R`` gates compare them.

SWUpdate packs up to four numeric parts of 16 bits each into one number; fleetops accepts exactly
that form, so the controller's refusal and the gateway's agree.
"""

from __future__ import annotations

import re

from fleetops.errors import InputError

VERSION = re.compile(r"^\d{1,5}(\.\d{1,5}){0,3}$")


def parse(text: str, what: str = "version") -> tuple[int, ...]:
    """``"2.0.1"`` → ``(2, 0, 1, 0)``; InputError for anything SWUpdate could not compare."""
    if not isinstance(text, str) or not VERSION.match(text) or any(int(p) > 0xFFFF for p in text.split(".")):
        raise InputError(f"{what}: {text!r} is not a firmware version (1 to 4 dot-separated numbers up to 65535)")
    parts = tuple(int(p) for p in text.split("."))
    return parts + (0,) * (4 - len(parts))


def gate(new: str, installed: str, force: bool) -> str | None:
    """Why ``new`` may not replace ``installed`` (same version, downgrade), or None."""
    if force or not installed:
        return None
    if parse(new) == parse(installed):
        return f"version {new} is already installed (--force reinstalls)"
    if parse(new) < parse(installed):
        return f"version {new} is older than the installed {installed} (--force downgrades)"
    return None
