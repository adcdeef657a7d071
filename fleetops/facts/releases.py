"""Entries side by side under a parent (releases, model versions, bundles), newest first."""

from __future__ import annotations

import shlex

from pyinfra.api import FactBase


class SideBySide(FactBase):
    """``[{"name": ..., "mtime": float}]`` of the directories (``kind="d"``) or files (``kind="f"``)
    directly under ``path``, newest first (``[]`` when ``path`` does not exist)."""

    default = list

    def command(self, path: str, kind: str = "d") -> str:
        if kind not in ("d", "f"):
            raise ValueError(f"kind must be 'd' or 'f', not {kind!r}")
        return (
            f"test -d {shlex.quote(path)} && find {shlex.quote(path)} -mindepth 1 -maxdepth 1 -type {kind} "
            "-printf '%T@ %f\\n' || true"
        )

    def process(self, output: list[str]) -> list[dict]:
        entries = []
        for line in output:
            stamp, _, name = line.partition(" ")
            try:
                entries.append({"name": name, "mtime": float(stamp)})
            except ValueError:
                continue
        return sorted(entries, key=lambda entry: entry["mtime"], reverse=True)


class LinkTarget(FactBase):
    """Where a link (e.g. ``current``) resolves to, or None when it does not exist."""

    def command(self, path: str) -> str:
        return f"readlink -f {shlex.quote(path)} || true"

    def process(self, output: list[str]) -> str | None:
        lines = [line.strip() for line in output if line.strip()]
        return lines[0] if lines else None
