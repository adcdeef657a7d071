"""Offline bundles: an app and every wheel it needs, fetched once on the controller.

Gateways (and the platform server next to them) often have no internet and no package index, so
nothing is downloaded there: the controller runs ``pip download`` for the target platform
(CPython 3.11, manylinux x86_64), packs the wheels with the app's files and ``requirements.txt``
into one tarball, and caches it under a key derived from those inputs. The roles upload the
tarball and install it with ``pip --no-index`` (:func:`fleetops.operations.releases.bundle_release`).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fleetops.errors import EnvironmentProblem
from fleetops.paths import cache_dir

HERE = Path(__file__).parent
PYTHON_VERSION = "3.11"
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64", "any")


@dataclass(frozen=True)
class Bundle:
    """What one app ships: its files (flat, next to each other in the release) and requirements."""

    name: str
    files: tuple[Path, ...]
    requirements: Path

    def key(self) -> str:
        digest = hashlib.sha256()
        for path in (*self.files, self.requirements):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        digest.update(PYTHON_VERSION.encode() + repr(PLATFORMS).encode())
        return digest.hexdigest()[:12]


STANDALONE = HERE.parent / "standalone.py"  # config loading and command line of both apps
EDGE = Bundle(
    "fleetops-edge",
    (HERE / "app.py", HERE / "inference.py", HERE / "reporter.py", STANDALONE),
    HERE / "requirements.txt",
)
PLATFORM_DIR = HERE.parent / "platform"
PLATFORM = Bundle(
    "fleetops-platform",
    (PLATFORM_DIR / "app.py", PLATFORM_DIR / "schema.py", STANDALONE),
    PLATFORM_DIR / "requirements.txt",
)


def download_wheels(what: list[str], dest: Path, name: str) -> None:
    """``pip download`` of ``what`` (``-r FILE`` or wheel files) and every dependency into
    ``dest``, as binary wheels for the hosts' Python and platform, not the controller's."""
    argv = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--only-binary=:all:",
            "--python-version", PYTHON_VERSION, "--implementation", "cp", *what, "-d", str(dest)]  # fmt: skip
    for platform in PLATFORMS:
        argv += ["--platform", platform]
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode != 0:
        raise EnvironmentProblem(
            f"cannot build the {name} bundle: pip download failed: " + (proc.stderr.strip().splitlines() or ["?"])[-1]
        )


def bundle_key(bundle: Bundle = EDGE) -> str:
    return bundle.key()


@cache
def build_bundle(bundle: Bundle = EDGE) -> Path:
    """The tarball for the bundle's current files and requirements (built on first use, then cached)."""
    out = cache_dir() / "bundles" / f"{bundle.name}-{bundle.key()}.tar.gz"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"{bundle.name}-bundle-") as tmp:
        wheels = Path(tmp) / "wheels"
        download_wheels(["-r", str(bundle.requirements)], wheels, bundle.name)
        partial = out.with_suffix(".partial")
        with tarfile.open(partial, "w:gz") as tar:
            for path in bundle.files:
                tar.add(path, arcname=path.name)
            tar.add(bundle.requirements, arcname="requirements.txt")
            for wheel in sorted(wheels.iterdir()):
                tar.add(wheel, arcname=f"wheels/{wheel.name}")
        partial.replace(out)
    return out
