"""The lab controller's SSH public keys, for group data that grants lab users the same key."""

from __future__ import annotations

from fleetops.paths import state_dir


def controller_public_keys() -> list[str]:
    """Public keys of every lab on this machine (empty when none is up)."""
    keys = []
    for pub in sorted((state_dir() / "labs").glob("*/id_ed25519.pub")):
        keys.append(pub.read_text().strip())
    return keys
