"""Check a bundle on the controller before anything is uploaded: the refusals start here.

In order: the cpio reads; ``sw-description`` is the first member and its signature the second
(an unsigned bundle is refused); the signature chains to the CA and names the expected signer;
every member is listed in the description with the sha256 it has (a tampered payload is refused
without being unpacked); the hardware and the version fit the gateway. The gateway's SWUpdate
checks all of this again; the controller's check means a refusal changes nothing on any host.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fleetops.errors import InputError
from fleetops.fileutil import sha256_file
from fleetops.firmware import bundle as bundles
from fleetops.firmware import description as descriptions
from fleetops.firmware import signing


class BundleRefused(Exception):
    """The bundle must not be installed; the message is the one-line reason."""


@dataclass(frozen=True)
class VerifiedBundle:
    path: Path
    version: str
    board: str
    revisions: tuple[str, ...]
    signer: str
    sha256: str
    size: int
    installed_directly: bool

    def to_dict(self) -> dict:
        return {
            "bundle": self.path.name,
            "version": self.version,
            "board": self.board,
            "revisions": list(self.revisions),
            "signer": self.signer,
            "sha256": self.sha256,
            "size": self.size,
            "installed_directly": self.installed_directly,
        }


def verify_bundle(path: Path, ca_file: Path, signer_name: str | None = None) -> VerifiedBundle:
    """The bundle's facts when it may be installed; BundleRefused (or InputError) otherwise."""
    contents = bundles.read(path)
    members = contents.members
    if members[0] != bundles.DESCRIPTION:
        raise BundleRefused(f"the first member is {members[0]!r}, not sw-description")
    if len(members) < 2 or members[1] != bundles.SIG:
        second = members[1] if len(members) > 1 else "nothing"
        raise BundleRefused(f"unsigned bundle: the second member is {second!r}, not sw-description.sig")
    try:
        signer = signing.verify(contents.description, contents.signature, ca_file, signer_name)
    except signing.SignatureRefused as error:
        raise BundleRefused(str(error)) from None
    try:
        described = descriptions.parse(contents.description.decode("utf-8", errors="replace"))
    except InputError as error:
        raise BundleRefused(str(error)) from None
    payload = members[2:]
    for name in payload:
        if name not in described.hashes:
            raise BundleRefused(f"member {name!r} is not in sw-description")
        if contents.hashes[name] != described.hashes[name]:
            raise BundleRefused(
                f"{name}: sha256 {contents.hashes[name][:12]}… does not match sw-description's "
                f"{described.hashes[name][:12]}… (tampered payload)"
            )
    for name in described.hashes:
        if name not in payload:
            raise BundleRefused(f"sw-description lists {name!r} but the bundle does not hold it")
    return VerifiedBundle(
        path=Path(path),
        version=described.version,
        board=described.board,
        revisions=described.revisions,
        signer=signer,
        sha256=sha256_file(Path(path)),
        size=Path(path).stat().st_size,
        installed_directly=described.installed_directly,
    )


def hardware_refusal(bundle: VerifiedBundle, board: str, revision: str) -> str | None:
    """Why the bundle does not fit a gateway of ``board`` ``revision``, or None."""
    if bundle.board != board:
        return f"bundle is for board {bundle.board!r}, the gateway is {board!r}"
    if revision not in bundle.revisions:
        return f"bundle fits hardware revisions {', '.join(bundle.revisions)}; the gateway is {board} {revision}"
    return None
