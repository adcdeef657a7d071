"""The same lifecycle for both cloud providers, each against its emulator on 127.0.0.1: moto for
aws, the fleetops fake ECS for aliyun. These test fleetops' logic and the API contract as the
emulators implement it, not the clouds themselves."""

from __future__ import annotations

import pytest

from fleetops.cloud.apply import apply, destroy, make_plan, regions_of
from fleetops.cloud.provider import make_provider
from fleetops.cloud.spec import parse_cloud_spec
from tests.cloud.backends import AliyunBackend, AwsBackend


@pytest.fixture(params=["aws", "aliyun"])
def backend(request):
    if request.param == "aws":
        return AwsBackend(request.getfixturevalue("ec2"))
    return AliyunBackend(request.getfixturevalue("ecs"))


def setup(backend, **changes):
    spec = parse_cloud_spec(backend.spec(**changes), "test")
    return spec, make_provider(spec, read_timeout=1.0)


def test_linux_and_windows_created_listed_stopped_started_destroyed(backend):
    spec, provider = setup(backend)
    run = apply(spec, provider, "20261202T000000Z-aaaaaa")
    assert run.error is None, run.error
    assert sorted(run.created) == ["lin1", "win1"]
    listed = {i.name: i for i in provider.live(regions_of(spec))}
    assert {name: (i.os, i.state) for name, i in listed.items()} == {
        "lin1": ("linux", "running"),
        "win1": ("windows", "running"),
    }
    assert listed["lin1"].expires and listed["lin1"].expires.endswith("Z")
    assert sorted(i.id for i in listed.values()) == backend.live_ids()
    # an emulator's addresses never reach the inventory
    assert "_HOSTS = {}" in run.inventory.read_text()

    provider.stop([listed["win1"]])
    provider.wait([listed["win1"]], "stopped", timeout=60)
    assert {i.name: i.state for i in provider.live(regions_of(spec))}["win1"] == "stopped"
    assert {a.name: a.verb for a in make_plan(spec, provider).actions} == {"lin1": "keep", "win1": "start"}
    provider.start([listed["win1"]])
    provider.wait([listed["win1"]], "running", timeout=60)

    gone = destroy(provider, spec, [])
    assert sorted(i.name for i in gone) == ["lin1", "win1"]
    assert provider.live(regions_of(spec)) == [] and backend.live_ids() == []


def test_a_second_apply_changes_nothing(backend):
    spec, provider = setup(backend)
    first = apply(spec, provider, "20261202T000000Z-aaaaaa")
    ids = backend.live_ids()
    second = apply(spec, provider, "20261202T000001Z-bbbbbb")
    assert second.error is None
    assert [a.verb for a in second.actions] == ["keep", "keep"]
    assert second.created == {} and backend.live_ids() == ids == sorted(first.created.values())


def test_a_create_whose_answer_is_lost_is_found_by_tag_not_duplicated(backend):
    spec, provider = setup(backend, instances=[{"name": "lin1", "image": backend.linux_image}])
    backend.lose_create_answer(delay=2.5)  # the instance is made, the answer arrives after the timeout
    run = apply(spec, provider, "20261202T000000Z-aaaaaa")
    assert run.error is None, run.error
    assert run.adopted == ["lin1"]
    assert backend.create_calls() == 1  # looked up by its tags, never sent again
    assert backend.live_ids() == [run.created["lin1"]]


def test_drift_is_reported_never_replaced(backend):
    spec, provider = setup(backend, instances=[{"name": "lin1", "image": backend.linux_image}])
    instance_id = apply(spec, provider, "20261202T000000Z-aaaaaa").created["lin1"]
    wanted_type = spec.wanted()[0].instance_type
    backend.resize(instance_id, backend.other_type())
    (action,) = make_plan(spec, provider).actions
    assert action.verb == "drift"
    assert action.drift == [f"instance_type: have {backend.other_type()}, want {wanted_type}"]
    again = apply(spec, provider, "20261202T000001Z-bbbbbb")
    assert again.created == {} and backend.live_ids() == [instance_id]


def test_destroy_touches_only_this_fleets_instances(backend):
    spec, provider = setup(backend, instances=[{"name": "lin1", "image": backend.linux_image}])
    run = apply(spec, provider, "20261202T000000Z-aaaaaa")
    foreign = backend.foreign_instance(run.images["lin1"])
    theirs = parse_cloud_spec(
        backend.spec(fleet="other", instances=[{"name": "lin1", "image": backend.linux_image}]), "t"
    )
    apply(theirs, make_provider(theirs), "20261202T000000Z-cccccc")
    destroy(provider, spec, [])
    assert backend.live_ids() == []
    assert len(backend.live_ids("other")) == 1
    assert backend.state_of(foreign) == "running"
