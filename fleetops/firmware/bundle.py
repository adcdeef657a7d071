"""Build and read ``.swu`` bundles: a cpio archive, sw-description first and its signature second.

Building packs ROOTDIR (the firmware userland a slot holds) as ``rootfs.tar.gz`` with root
ownership and ``etc/fw-version`` set to the bundle's version, adds one slot-wipe script per copy,
describes them with their sha256, signs the description and writes the cpio (libarchive's newc
writer, which SWUpdate reads) atomically. Reading streams the members, hashing as it goes, so a
bundle of any size is checked without holding it in memory.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import libarchive

from fleetops.errors import InputError
from fleetops.firmware import description as descriptions
from fleetops.firmware import layout, signing, versions
from fleetops.firmware.description import Description

SIG = "sw-description.sig"
DESCRIPTION = "sw-description"
MAX_DESCRIPTION_BYTES = 1 << 20


@dataclass
class BundleContents:
    """What a bundle holds: member names in order, the description and signature bytes, hashes."""

    members: list[str] = field(default_factory=list)
    description: bytes = b""
    signature: bytes = b""
    hashes: dict[str, str] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)


def _rootfs(rootdir: Path, version: str) -> bytes:
    """``rootdir`` as a gzip tar owned by root, with ``etc/fw-version`` = ``version``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=6) as tar:
        for path in sorted(rootdir.rglob("*")):
            relative = path.relative_to(rootdir).as_posix()
            if relative == layout.VERSION_FILE:
                continue
            if not (path.is_symlink() or path.is_file() or path.is_dir()):
                raise InputError(f"ROOTDIR: {relative} is not a file, directory or symlink")
            info = tar.gettarinfo(str(path), arcname=relative)
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            if info.isreg():
                with open(path, "rb") as handle:
                    tar.addfile(info, handle)
            else:
                tar.addfile(info)
        data = (version + "\n").encode()
        if not (rootdir / "etc").is_dir():  # the version file needs its directory in the archive
            info = tarfile.TarInfo("etc")
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        info = tarfile.TarInfo(layout.VERSION_FILE)
        info.size, info.mode = len(data), 0o644
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def build(
    rootdir: Path,
    version: str,
    key: Path,
    cert: Path,
    out: Path,
    board: str,
    revisions: tuple[str, ...],
    installed_directly: bool = False,
) -> Description:
    """Write a signed bundle to ``out``; InputError (nothing written) on any bad input."""
    versions.parse(version)
    descriptions.check_hardware(board, revisions)
    if not Path(rootdir).is_dir():
        raise InputError(f"ROOTDIR {rootdir}: not a directory")
    signer_cert, signer_key = signing.load_signer(cert, key)
    members = {descriptions.ROOTFS: _rootfs(Path(rootdir), version)}
    for slot in layout.SLOT_NAMES:
        members[descriptions.clean_script_name(slot)] = descriptions.clean_script(slot)
    hashes = {name: hashlib.sha256(data).hexdigest() for name, data in members.items()}
    described = Description(version, board, tuple(revisions), hashes, installed_directly)
    text = described.render().encode()
    signature = signing.sign(text, signer_cert, signer_key)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with libarchive.file_writer(tmp, "cpio_newc") as archive:
            for name, data in [(DESCRIPTION, text), (SIG, signature), *members.items()]:
                mode = 0o755 if name.endswith(".sh") else 0o644
                archive.add_file_from_memory(name, len(data), data, permission=mode)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return described


def read(path: Path) -> BundleContents:
    """The members of a bundle in order, hashed; InputError when it is not a readable cpio."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"bundle {path}: no such file")
    contents = BundleContents()
    try:
        with libarchive.file_reader(str(path), format_name="cpio") as archive:
            for entry in archive:
                name = entry.pathname
                digest, size, kept = hashlib.sha256(), 0, bytearray()
                for block in entry.get_blocks():
                    digest.update(block)
                    size += len(block)
                    if name in (DESCRIPTION, SIG) and size <= MAX_DESCRIPTION_BYTES:
                        kept += block
                contents.members.append(name)
                contents.hashes[name], contents.sizes[name] = digest.hexdigest(), size
                if name == DESCRIPTION:
                    contents.description = bytes(kept)
                elif name == SIG:
                    contents.signature = bytes(kept)
    except libarchive.ArchiveError as error:
        raise InputError(f"bundle {path.name}: not a readable .swu (cpio) archive: {error}") from None
    if not contents.members:
        raise InputError(f"bundle {path.name}: empty archive")
    return contents
