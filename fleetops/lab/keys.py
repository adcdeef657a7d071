"""The controller's SSH key: one per machine, shared by every lab, so what group data grants
(``controller_public_keys()``) does not change as labs come and go.

Each lab used to have its own key and group data granted every lab's key: bringing a second lab
up changed the first lab's desired state (its users' authorized_keys) between two converges.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from fleetops.fileutil import private_dir
from fleetops.paths import state_dir


def controller_key_file() -> Path:
    return state_dir() / "controller" / "id_ed25519"


def ensure_controller_key() -> Path:
    """The controller key, generated (ed25519, 0600, in a 0700 folder) the first time a lab needs it."""
    key = controller_key_file()
    if not key.exists():
        private_dir(key.parent)
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "fleetops-controller", "-f", str(key)], check=True
        )
    return key


def controller_public_keys() -> list[str]:
    """The controller's public key (empty before any lab was ever brought up)."""
    pub = Path(str(controller_key_file()) + ".pub")
    return [pub.read_text().strip()] if pub.exists() else []
