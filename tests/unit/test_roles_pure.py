"""Pure planning helpers of the roles and the runner."""

from types import SimpleNamespace

from fleetops.roles.devenv import devenv_packages
from fleetops.roles.spec import DevenvSpec
from fleetops.runner.deploy import _planned_if


def test_devenv_packages_per_os():
    spec = DevenvSpec(java=True, extra_packages=["make"])
    assert devenv_packages(spec, "debian") == [
        "python3", "python3-venv", "python3-pip", "git", "openjdk-17-jdk-headless", "make"]
    assert "java-17-openjdk-devel" in devenv_packages(spec, "redhat")
    assert devenv_packages(DevenvSpec(python=False, git=False), "debian") == []


class FakeMeta:
    def __init__(self, planned):
        self._maybe_is_change = planned

    def did_change(self):
        raise AssertionError("not callable while planning")

    def did_not_change(self):
        raise AssertionError("not callable while planning")


def test_planned_if_follows_the_referenced_operation():
    assert _planned_if({"_if": FakeMeta(True).did_change}) is True
    assert _planned_if({"_if": FakeMeta(False).did_change}) is False
    assert _planned_if({"_if": [FakeMeta(True).did_change, FakeMeta(True).did_not_change]}) is False
    assert _planned_if({"_if": lambda: False}) is True  # unknowable in advance: assume it runs
    assert _planned_if({}) is True
