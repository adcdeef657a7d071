"""fleetops itself as an offline bundle: its wheel and every dependency's, for the target Python.

Built like the edge app's bundle (``pip download`` for CPython 3.11 manylinux x86_64, packed with
a ``requirements.txt``), from this source tree; cached under a key derived from the tree's files,
so an unchanged fleetops is not rebuilt and a second converge uploads nothing.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from functools import cache
from pathlib import Path

from fleetops.edge.bundle import PLATFORMS, PYTHON_VERSION, download_wheels
from fleetops.errors import EnvironmentProblem
from fleetops.paths import cache_dir

SOURCE = Path(__file__).resolve().parents[2]  # the repository root of an editable install
PACKAGES = ("fleetops", "cli", "roles", "checks", "templates")


def source_key() -> str:
    """A digest of every file the fleetops wheel is made of."""
    if not (SOURCE / "pyproject.toml").is_file():
        raise EnvironmentProblem("a control node bundle is built from the fleetops source tree, which is not here")
    digest = hashlib.sha256((SOURCE / "pyproject.toml").read_bytes())
    for package in PACKAGES:
        for path in sorted((SOURCE / package).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and not path.name.endswith(".pyc"):
                digest.update(path.relative_to(SOURCE).as_posix().encode() + b"\0" + path.read_bytes())
    digest.update(PYTHON_VERSION.encode() + repr(PLATFORMS).encode())
    return digest.hexdigest()[:12]


def _run(argv: list[str], what: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise EnvironmentProblem(
            f"cannot build the control bundle: {what} failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}"
        )


@cache
def build_control_bundle() -> Path:
    key = source_key()
    out = cache_dir() / "bundles" / f"fleetops-control-{key}.tar.gz"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fleetops-control-") as tmp:
        wheels, tree = Path(tmp) / "wheels", Path(tmp) / "source"
        # built from a copy: setuptools leaves build/ behind in the tree it builds, and a stale
        # build/lib there would put deleted modules into the next wheel
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        for package in PACKAGES:
            shutil.copytree(SOURCE / package, tree / package, ignore=ignore)
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(SOURCE / name, tree / name)
        _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), str(tree)], "pip wheel")
        wheel = next(wheels.glob("fleetops-*.whl"))
        download_wheels([str(wheel)], wheels, "control")
        requirements = Path(tmp) / "requirements.txt"
        requirements.write_text("fleetops\n")
        partial = out.with_suffix(".partial")
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(requirements, arcname="requirements.txt")
            for path in sorted(wheels.iterdir()):
                tar.add(path, arcname=f"wheels/{path.name}")
        partial.replace(out)
    return out
