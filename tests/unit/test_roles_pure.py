"""Pure planning helpers of the roles and the runner."""

from types import SimpleNamespace

from fleetops.roles.devenv import devenv_packages
from fleetops.roles.spec import DevenvSpec
from fleetops.runner.deploy import _planned_if


def test_devenv_packages_per_os():
    spec = DevenvSpec(java=True, extra_packages=["make"])
    assert devenv_packages(spec, "debian") == [
        "python3",
        "python3-venv",
        "python3-pip",
        "git",
        "openjdk-17-jdk-headless",
        "make",
    ]
    assert "java-17-openjdk-devel" in devenv_packages(spec, "redhat")
    assert devenv_packages(DevenvSpec(python=False, git=False), "debian") == []


def planned(is_change: bool):
    """A real pyinfra OperationMeta as planning leaves it (not executed yet)."""
    from pyinfra.api.operation import OperationMeta

    return OperationMeta("hash", is_change)


def op(**global_arguments):

    return SimpleNamespace(global_arguments=global_arguments)


def test_planned_if_follows_the_referenced_operation():
    from fleetops.operations.conditions import any_changed

    assert _planned_if(op(_if=planned(True).did_change)) is True
    assert _planned_if(op(_if=planned(False).did_change)) is False
    assert _planned_if(op(_if=[planned(True).did_change, planned(True).did_not_change])) is False
    assert _planned_if(op(_if=lambda: False)) is True  # unknowable in advance: assume it runs
    assert _planned_if(op()) is True
    assert _planned_if(op(_if=any_changed(planned(False), planned(True)))) is True
    assert _planned_if(op(_if=any_changed(planned(False), planned(False)))) is False
