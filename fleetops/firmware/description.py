"""sw-description: what a bundle installs, for which hardware, and how the boot env changes.

One ``software`` block, written and read with ``libconf`` (SWUpdate's native libconfig syntax):
``version``, ``hardware-compatibility`` (the revisions of ``/etc/hwrevision`` it fits), the board
in ``fleetops.board`` (checked by the controller), and ``stable.copy1``/``copy2``: the same images
aimed at slot a or b, a pre-install script that empties the target slot, and the ``bootenv`` that
arms the trial (``boot_slot``, ``upgrade_available=1``, ``bootcount=0``, the trial version).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import libconf

from fleetops.errors import InputError
from fleetops.firmware import layout, versions

BOARD = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")
REVISION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,15}$")
MEMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
ROOTFS = "rootfs.tar.gz"


def clean_script_name(slot: str) -> str:
    return f"clean-{slot}.sh"


def clean_script(slot: str) -> bytes:
    """The pre-install script of one copy: the target slot is emptied before the archive lands."""
    target = f"{layout.SLOTS}/{slot}"
    return (
        "#!/bin/sh\n"
        f"# fleetops: empty slot {slot} before the new firmware is unpacked into it\n"
        "set -eu\n"
        f"mkdir -p '{target}'\n"
        f"find '{target}' -mindepth 1 -delete\n"
    ).encode()


@dataclass(frozen=True)
class Description:
    """The parts of a sw-description fleetops writes and checks."""

    version: str
    board: str
    revisions: tuple[str, ...]
    hashes: dict[str, str]  # member file name → sha256, every image and script of every copy
    installed_directly: bool = False

    def render(self) -> str:
        """The libconfig text (``copy1`` installs to slot a, ``copy2`` to slot b)."""
        return libconf.dumps({"software": self._software()})

    def _software(self) -> dict:
        copies = {}
        for slot in layout.SLOT_NAMES:
            script = clean_script_name(slot)
            copies[layout.copy_for(slot)] = {
                "images": (
                    {
                        "filename": ROOTFS,
                        "type": "archive",
                        "path": f"{layout.SLOTS}/{slot}",
                        "preserve-attributes": True,
                        "installed-directly": self.installed_directly,
                        "sha256": self.hashes[ROOTFS],
                    },
                ),
                "scripts": ({"filename": script, "type": "preinstall", "sha256": self.hashes[script]},),
                "bootenv": tuple(
                    {"name": name, "value": value}
                    for name, value in (
                        ("boot_slot", slot),
                        ("upgrade_available", "1"),
                        ("bootcount", "0"),
                        ("fleetops_trial_version", self.version),
                        ("fleetops_health", ""),
                        ("fleetops_rollback_reason", ""),
                    )
                ),
            }
        return {
            "version": self.version,
            "description": f"fleetops firmware {self.version} for {self.board}",
            "hardware-compatibility": list(self.revisions),
            "fleetops": {"board": self.board},
            "stable": copies,
        }


def check_hardware(board: str, revisions: tuple[str, ...] | list[str]) -> None:
    if not BOARD.match(board or ""):
        raise InputError(f"board {board!r}: lower-case letters, digits, '.', '_' or '-' (1 to 32)")
    if not revisions:
        raise InputError("a bundle needs at least one hardware revision")
    for revision in revisions:
        if not REVISION.match(revision or ""):
            raise InputError(f"hardware revision {revision!r}: letters, digits, '.', '_' or '-' (1 to 16)")


def parse(text: str) -> Description:
    """Read back a sw-description fleetops wrote; InputError naming what is missing or wrong."""
    try:
        software = libconf.loads(text)["software"]
        copies = software["stable"]
        version = str(software["version"])
        board = str(software["fleetops"]["board"])
        revisions = tuple(str(r) for r in software["hardware-compatibility"])
    except (libconf.ConfigParseError, KeyError, TypeError) as error:
        raise InputError(f"sw-description: not a fleetops firmware description ({error})") from None
    versions.parse(version, "sw-description version")
    hashes: dict[str, str] = {}
    direct = False
    for copy in (layout.copy_for(slot) for slot in layout.SLOT_NAMES):
        if copy not in copies:
            raise InputError(f"sw-description: stable.{copy} is missing")
        for entry in list(copies[copy].get("images", ())) + list(copies[copy].get("scripts", ())):
            name, digest = str(entry.get("filename", "")), str(entry.get("sha256", ""))
            if not MEMBER.match(name) or not re.fullmatch(r"[0-9a-f]{64}", digest):
                raise InputError(f"sw-description: {copy}: an entry without a valid filename and sha256")
            if hashes.setdefault(name, digest) != digest:
                raise InputError(f"sw-description: {name} has two different sha256 values")
            direct = direct or bool(entry.get("installed-directly", False))
    return Description(version, board, revisions, hashes, direct)
