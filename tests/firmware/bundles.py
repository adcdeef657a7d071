"""Test helpers: a PKI per session and bundles rewritten member by member (the refusal cases)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import libarchive

from fleetops.firmware import bundle as bundles

Members = list[tuple[str, bytes]]


def members(path: Path) -> Members:
    """Every member of a .swu, in order, with its bytes."""
    with libarchive.file_reader(str(path)) as archive:
        return [(entry.pathname, b"".join(entry.get_blocks())) for entry in archive]


def write(path: Path, items: Members) -> Path:
    with libarchive.file_writer(str(path), "cpio_newc") as archive:
        for name, data in items:
            archive.add_file_from_memory(name, len(data), data, permission=0o644)
    return path


def rewrite(source: Path, out: Path, change: Callable[[Members], Members]) -> Path:
    return write(out, change(members(source)))


def unsigned(items: Members) -> Members:
    return [(n, d) for n, d in items if n != bundles.SIG]


def edited_description(items: Members) -> Members:
    """sw-description changed after signing (the version raised by hand)."""
    return [(n, d.replace(b'version = "', b'version = "9') if n == bundles.DESCRIPTION else d) for n, d in items]


def tampered_payload(items: Members) -> Members:
    """One byte of the rootfs flipped; the signed description still has the old sha256."""

    def flip(data: bytes) -> bytes:
        middle = len(data) // 2
        return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]

    return [(n, flip(d) if n == "rootfs.tar.gz" else d) for n, d in items]


def extra_member(items: Members) -> Members:
    return items + [("evil.sh", b"#!/bin/sh\nrm -rf /\n")]


def missing_member(items: Members) -> Members:
    return [(n, d) for n, d in items if n != "clean-b.sh"]
