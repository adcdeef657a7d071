"""The firmware boot environment as an operation: created once, never reset by a re-run."""

from __future__ import annotations

import shlex

from pyinfra import host
from pyinfra.api import StringCommand, operation

from fleetops.facts.firmware import FirmwareEnv


@operation()
def boot_environment(files: list[str], tool: str, factory: str, bootlimit: int, python: str = "python3"):
    """
    The redundant U-Boot environment in ``files`` exists, slot a seeded, with ``bootlimit``.

    + files: the two env copies (``/etc/fw_env.config`` names them)
    + tool: the gateway tool (``fleetops-fw``) that creates the env and seeds slot a from ``factory``
    + bootlimit: trial boots allowed before the bootloader falls back; changed only while no trial
      is pending, so re-running the deploy during a trial changes nothing
    """
    env = host.get_fact(FirmwareEnv, files=files)
    run = f"{shlex.quote(python)} {shlex.quote(tool)}"
    if env is None:
        yield StringCommand(f"{run} init --factory {shlex.quote(factory)}")
        return
    if env.get("bootlimit") == str(bootlimit):
        host.noop(f"boot environment exists (slot {env.get('boot_slot', '?')}, bootlimit {bootlimit})")
        return
    if env.get("upgrade_available") == "1":
        host.noop(f"a trial is pending: bootlimit stays {env.get('bootlimit')} until it ends")
        return
    yield StringCommand(f"{run} set-bootlimit {int(bootlimit)}")
