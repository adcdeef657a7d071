"""What kind of machine a host is: a container (and which manager), a VM, or bare metal."""

from __future__ import annotations

from pyinfra.api import FactBase


class Virtualization(FactBase):
    """``{"container": "systemd-nspawn" | "docker" | "lxc" | ... | None, "vm": "kvm" | ... | None}``
    from ``systemd-detect-virt`` (``none`` means none; a host without it reports None for both).
    Checks read the same answer in their probe: in a container, ``load`` and ``memory`` judge the
    host's own cgroup rather than the shared kernel's figures."""

    def command(self) -> str:
        return (
            "command -v systemd-detect-virt >/dev/null || exit 0; "
            "echo container=$(systemd-detect-virt --container || true); echo vm=$(systemd-detect-virt --vm || true)"
        )

    def process(self, output: list[str]) -> dict:
        found: dict = {"container": None, "vm": None}
        for line in output:
            key, _, value = line.partition("=")
            if key in found and value.strip() not in ("", "none"):
                found[key] = value.strip()
        return found
