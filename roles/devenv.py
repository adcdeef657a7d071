"""Development environment (skill A-J3.1): Python venv tooling, OpenJDK and git."""

from __future__ import annotations

from pyinfra.api import deploy

from fleetops.roles.data import os_family
from fleetops.roles.packages import install
from fleetops.roles.spec import BaselineData, DevenvSpec

# Per-OS package names, as data.
PACKAGES = {
    "debian": {
        "python": ["python3", "python3-venv", "python3-pip"],
        "git": ["git"],
        "java": "openjdk-{version}-jdk-headless",
    },
    "redhat": {"python": ["python3", "python3-pip"], "git": ["git"], "java": "java-{version}-openjdk-devel"},
}


def devenv_packages(spec: DevenvSpec, family: str) -> list[str]:
    """The package list for ``spec`` on an OS family (pure, unit-tested)."""
    table = PACKAGES[family]
    packages: list[str] = []
    if spec.python:
        packages += table["python"]
    if spec.git:
        packages += table["git"]
    if spec.java:
        packages.append(str(table["java"]).format(version=spec.java_version))
    return packages + list(spec.extra_packages)


@deploy("Development environment")
def devenv(data: BaselineData) -> None:
    install(devenv_packages(data.devenv, os_family()), name="Install development tools")
