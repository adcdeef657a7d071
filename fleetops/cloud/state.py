"""Where a fleet's own files live on the controller: ``<state>/cloud/<fleet>/`` (0700).

It holds the fleet's SSH and RSA keys, the host keys handed to instances, the pinned
``known_hosts``, the generated ``inventory.py`` and ``secrets.json`` (Windows passwords the
provider took at creation). Nothing here is needed to find instances (tags are), so losing the
directory loses keys, never track of what runs.
"""

from __future__ import annotations

import json
from pathlib import Path

from fleetops.fileutil import atomic_write_text, private_dir
from fleetops.paths import state_dir
from fleetops.secrets import register


class FleetState:
    def __init__(self, fleet: str) -> None:
        self.fleet = fleet
        self.dir = state_dir() / "cloud" / fleet

    def ensure(self) -> "FleetState":
        private_dir(self.dir.parent)
        private_dir(self.dir)
        private_dir(self.dir / "host_keys")
        return self

    @property
    def key_file(self) -> Path:
        return self.dir / "id_ed25519"

    @property
    def rsa_key_file(self) -> Path:
        return self.dir / "id_rsa.pem"

    @property
    def known_hosts(self) -> Path:
        return self.dir / "known_hosts"

    @property
    def inventory(self) -> Path:
        return self.dir / "inventory.py"

    def host_key_file(self, name: str) -> Path:
        return self.dir / "host_keys" / name

    # ----- secrets.json: passwords given to Windows instances at creation ----------------------
    def _secrets(self) -> dict:
        try:
            data = json.loads((self.dir / "secrets.json").read_text())
        except FileNotFoundError:
            return {}
        for value in data.values():
            register(value)
        return data

    def password(self, name: str) -> str | None:
        return self._secrets().get(name)

    def remember_password(self, name: str, password: str) -> None:
        data = self._secrets()
        data[name] = password
        register(password)
        atomic_write_text(self.dir / "secrets.json", json.dumps(data, indent=2, sort_keys=True))

    def forget(self, name: str) -> None:
        """Drop an instance's host key and password after it was destroyed."""
        self.host_key_file(name).unlink(missing_ok=True)
        data = self._secrets()
        if data.pop(name, None) is not None:
            atomic_write_text(self.dir / "secrets.json", json.dumps(data, indent=2, sort_keys=True))
