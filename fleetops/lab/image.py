"""Build and cache the golden Debian root filesystem that every lab host overlays.

The image is built once with debootstrap and cached under a key derived from its recipe, so a
changed recipe builds a new image and an unchanged one is reused (lab up in seconds). The build
goes to a ``.partial`` directory that is renamed only when complete.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from fleetops.lab.system import require_tools, run
from fleetops.paths import cache_dir

log = logging.getLogger("fleetops.lab")

# Timers that grab the dpkg lock in the middle of tests, and services useless in a container.
MASKED_UNITS = (
    "apt-daily.timer",
    "apt-daily-upgrade.timer",
    "e2scrub_all.timer",
    "fstrim.timer",
    "dpkg-db-backup.timer",
    "systemd-timesyncd.service",
)

# Keep images small and installs fast, as Debian's own slim container images do.
DPKG_NODOC = """\
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
"""

APT_CONF = """\
// fleetops lab: mirrors may serve snapshots; do not reject them as expired.
Acquire::Check-Valid-Until "false";
Acquire::Languages "none";
"""

SSH_KEYGEN_DROPIN = """\
[Service]
# Each lab host gets its own host keys; generate any that are missing before sshd starts.
ExecStartPre=
ExecStartPre=/usr/bin/ssh-keygen -A
ExecStartPre=/usr/sbin/sshd -t
"""


@dataclass(frozen=True)
class ImageRecipe:
    """Everything that determines the golden image; its hash is the cache key."""

    suite: str = "bookworm"
    mirror: str = "http://deb.debian.org/debian"
    variant: str = "minbase"
    packages: tuple[str, ...] = (
        "systemd",
        "systemd-sysv",
        "dbus",
        "openssh-server",
        "python3",
        "iproute2",
        "sudo",
        "procps",
        "ca-certificates",
        "netbase",
        "iputils-ping",
        "less",
    )
    masked_units: tuple[str, ...] = MASKED_UNITS
    revision: int = 1  # bump when the configuration steps below change
    extra: dict = field(default_factory=dict)

    def key(self) -> str:
        blob = json.dumps(asdict(self), sort_keys=True).encode()
        return f"{self.suite}-{hashlib.sha256(blob).hexdigest()[:12]}"


def image_dir(recipe: ImageRecipe) -> Path:
    return cache_dir() / "images" / recipe.key()


def ensure_image(recipe: ImageRecipe | None = None) -> Path:
    """Return the cached golden rootfs for ``recipe``, building it first if needed."""
    recipe = recipe or ImageRecipe()
    target = image_dir(recipe)
    if (target / ".fleetops-image.json").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / ".fleetops-image.json").exists():  # built by a concurrent caller
            return target
        _build(recipe, target)
    return target


def _build(recipe: ImageRecipe, target: Path) -> None:
    require_tools("debootstrap")
    partial = target.with_name(target.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    log.info("building golden image %s with debootstrap (about a minute, once)", recipe.key())
    run(
        [
            "debootstrap",
            f"--variant={recipe.variant}",
            "--include=" + ",".join(recipe.packages),
            recipe.suite,
            str(partial),
            recipe.mirror,
        ],
        timeout=1800,
    )
    _configure(recipe, partial)
    (partial / ".fleetops-image.json").write_text(json.dumps(asdict(recipe), indent=2))
    partial.rename(target)


def _configure(recipe: ImageRecipe, root: Path) -> None:
    """Turn a debootstrapped tree into a bootable, per-host-customisable container image."""
    (root / "etc/machine-id").write_text("")
    for key in root.glob("etc/ssh/ssh_host_*"):
        key.unlink()
    dropin = root / "etc/systemd/system/ssh.service.d"
    dropin.mkdir(parents=True, exist_ok=True)
    (dropin / "10-fleetops-hostkeys.conf").write_text(SSH_KEYGEN_DROPIN)
    for unit in recipe.masked_units:
        link = root / "etc/systemd/system" / unit
        if link.exists() or link.is_symlink():
            link.unlink()
        link.symlink_to("/dev/null")
    run(["systemctl", f"--root={root}", "enable", "systemd-networkd.service", "ssh.service"])
    (root / "etc/dpkg/dpkg.cfg.d").mkdir(parents=True, exist_ok=True)
    (root / "etc/dpkg/dpkg.cfg.d/01-fleetops-nodoc").write_text(DPKG_NODOC)
    (root / "etc/apt/apt.conf.d/99-fleetops-lab").write_text(APT_CONF)
    (root / "etc/apt/sources.list").write_text(
        f"deb {recipe.mirror} {recipe.suite} main\n"
        f"deb {recipe.mirror} {recipe.suite}-updates main\n"
        f"deb {recipe.mirror.replace('/debian', '/debian-security')} {recipe.suite}-security main\n"
    )
    # Root logs in with keys only; the per-host authorized_keys is written at lab up.
    ssh_root = root / "root/.ssh"
    ssh_root.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(ssh_root, 0o700)
    run(["chroot", str(root), "apt-get", "clean"])
