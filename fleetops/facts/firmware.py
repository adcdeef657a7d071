"""The firmware boot environment of a gateway, as ``fw_printenv`` shows it."""

from __future__ import annotations

import shlex

from pyinfra.api import FactBase


class FirmwareEnv(FactBase):
    """``{name: value}`` of the U-Boot environment, or None while either env file is missing
    (the firmware role has not created it yet)."""

    def requires_command(self, *args, **kwargs) -> str:
        return "fw_printenv"

    def command(self, files: list[str]) -> str:
        tests = " && ".join(f"test -s {shlex.quote(path)}" for path in files)
        return f"if {tests}; then fw_printenv; else echo __absent__; fi"

    def process(self, output: list[str]) -> dict[str, str] | None:
        if [line.strip() for line in output] == ["__absent__"]:
            return None
        env = {}
        for line in output:
            name, sep, value = line.partition("=")
            if sep:
                env[name] = value
        return env
