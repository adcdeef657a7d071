"""The offline bundle: the edge app and every wheel it needs, fetched once on the controller.

Gateways often have no internet and no package index, so nothing is downloaded there: the
controller runs ``pip download`` for the gateway's platform (CPython 3.11, manylinux x86_64),
packs the wheels with ``app.py`` and ``requirements.txt`` into one tarball, and caches it under a
key derived from those inputs. The edge role uploads the tarball and installs with ``--no-index``.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tarfile
import tempfile
from functools import lru_cache
from pathlib import Path

from fleetops.errors import EnvironmentProblem
from fleetops.paths import cache_dir

HERE = Path(__file__).parent
APP, REQUIREMENTS = HERE / "app.py", HERE / "requirements.txt"
PYTHON_VERSION = "3.11"
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64", "any")


def bundle_key() -> str:
    digest = hashlib.sha256()
    for part in (APP.read_bytes(), REQUIREMENTS.read_bytes(), PYTHON_VERSION.encode(), repr(PLATFORMS).encode()):
        digest.update(part)
    return digest.hexdigest()[:12]


@lru_cache(maxsize=1)
def build_bundle() -> Path:
    """The bundle tarball for the current app and requirements (built on first use, then cached)."""
    out = cache_dir() / "edge-bundles" / f"fleetops-edge-{bundle_key()}.tar.gz"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fleetops-edge-bundle-") as tmp:
        wheels = Path(tmp) / "wheels"
        argv = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                "--only-binary=:all:", "--python-version", PYTHON_VERSION, "--implementation", "cp",
                "-r", str(REQUIREMENTS), "-d", str(wheels)]
        for platform in PLATFORMS:
            argv += ["--platform", platform]
        proc = subprocess.run(argv, capture_output=True, text=True)
        if proc.returncode != 0:
            raise EnvironmentProblem("cannot build the edge bundle: pip download failed: "
                                     + (proc.stderr.strip().splitlines() or ["?"])[-1])
        partial = out.with_suffix(".partial")
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(APP, arcname="app.py")
            tar.add(REQUIREMENTS, arcname="requirements.txt")
            for wheel in sorted(wheels.iterdir()):
                tar.add(wheel, arcname=f"wheels/{wheel.name}")
        partial.replace(out)
    return out
