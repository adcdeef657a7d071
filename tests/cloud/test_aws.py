"""The aws provider against moto's EC2 emulator on 127.0.0.1: the API contract, not AWS itself
(no boot, no SSH, no real ClientToken de-duplication: moto ignores the token)."""

from __future__ import annotations

import boto3
import pytest

from fleetops.cloud.apply import apply, destroy, make_plan
from fleetops.cloud.errors import NotOffered
from fleetops.cloud.instance import TAG_FLEET
from fleetops.cloud.provider import make_provider
from fleetops.cloud.spec import parse_cloud_spec

REGION, ZONE = "us-east-1", "us-east-1a"


def spec_for(endpoint: str, **changes) -> dict:
    data = {
        "fleet": "exam-2026",
        "provider": "aws",
        "endpoint": endpoint,
        "defaults": {"region": REGION, "zone": ZONE, "instance_type": "t3.micro", "ttl": "8h"},
        "firewall": [{"port": 22, "cidr": "203.0.113.0/24"}, {"port": 3389, "cidr": "203.0.113.0/24"}],
        "instances": [
            {"name": "lin1", "image": "al2023", "groups": ["web"]},
            {"name": "win1", "os": "windows", "image": "windows-2016", "instance_type": "t3.large"},
        ],
    }
    data.update(changes)
    return data


def setup(endpoint: str, **changes):
    spec = parse_cloud_spec(spec_for(endpoint, **changes), "test")
    return spec, make_provider(spec, read_timeout=1.0)


def raw_client(endpoint: str):
    return boto3.client(
        "ec2", region_name=REGION, endpoint_url=endpoint, aws_access_key_id="x", aws_secret_access_key="x"
    )


def live_ids(endpoint: str, fleet: str = "exam-2026") -> list[str]:
    reply = raw_client(endpoint).describe_instances(
        Filters=[
            {"Name": f"tag:{TAG_FLEET}", "Values": [fleet]},
            {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]},
        ]
    )
    return sorted(i["InstanceId"] for r in reply["Reservations"] for i in r["Instances"])


def test_lifecycle_linux_and_windows(ec2):
    spec, provider = setup(ec2.endpoint)
    run = apply(spec, provider, "20261202T000000Z-aaaaaa")
    assert run.error is None, run.error
    assert sorted(run.created) == ["lin1", "win1"]
    assert {p.name: p.status for p in run.phases}["create"] == "ok"
    listed = {i.name: i for i in provider.live([REGION])}
    assert {name: (i.os, i.state, i.instance_type, i.zone) for name, i in listed.items()} == {
        "lin1": ("linux", "running", "t3.micro", ZONE),
        "win1": ("windows", "running", "t3.large", ZONE),
    }
    assert listed["lin1"].expires and listed["lin1"].expires.endswith("Z")
    # the tags carry identity; the security group carries exactly the spec's rules
    groups = raw_client(ec2.endpoint).describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["fleetops-exam-2026"]}]
    )["SecurityGroups"]
    rules = sorted((p["FromPort"], r["CidrIp"]) for p in groups[0]["IpPermissions"] for r in p["IpRanges"])
    assert rules == [(22, "203.0.113.0/24"), (3389, "203.0.113.0/24")]
    # an emulator's addresses never reach an inventory
    assert "54." not in run.inventory.read_text() and "_HOSTS = {}" in run.inventory.read_text()

    provider.stop([listed["win1"]])
    provider.wait([listed["win1"]], "stopped", timeout=60)
    assert {i.name: i.state for i in provider.live([REGION])}["win1"] == "stopped"
    again = make_plan(spec, provider)
    assert {a.name: a.verb for a in again.actions} == {"lin1": "keep", "win1": "start"}
    provider.start([listed["win1"]])
    provider.wait([listed["win1"]], "running", timeout=60)

    gone = destroy(provider, spec, [])
    assert sorted(i.name for i in gone) == ["lin1", "win1"]
    assert provider.live([REGION]) == [] and live_ids(ec2.endpoint) == []


def test_second_apply_changes_nothing(ec2):
    spec, provider = setup(ec2.endpoint)
    first = apply(spec, provider, "20261202T000000Z-aaaaaa")
    ids = live_ids(ec2.endpoint)
    second = apply(spec, provider, "20261202T000001Z-bbbbbb")
    assert second.error is None
    assert [a.verb for a in second.actions] == ["keep", "keep"]
    assert second.created == {} and live_ids(ec2.endpoint) == ids
    assert sorted(first.created.values()) == ids


def test_a_create_whose_answer_is_lost_is_found_by_tag_not_duplicated(ec2):
    spec, provider = setup(ec2.endpoint, instances=[{"name": "lin1", "image": "al2023"}])
    ec2.faults.arm("RunInstances", delay=2.5)  # moto creates the instance, the answer comes too late
    run = apply(spec, provider, "20261202T000000Z-aaaaaa")
    assert run.error is None, run.error
    assert run.adopted == ["lin1"]
    assert ec2.faults.seen.count("RunInstances") == 1  # looked up by tag, never sent again
    assert live_ids(ec2.endpoint) == [run.created["lin1"]]


def test_drift_is_reported_never_replaced(ec2):
    spec, provider = setup(ec2.endpoint, instances=[{"name": "lin1", "image": "al2023"}])
    run = apply(spec, provider, "20261202T000000Z-aaaaaa")
    instance_id = run.created["lin1"]
    client = raw_client(ec2.endpoint)
    client.stop_instances(InstanceIds=[instance_id])
    client.modify_instance_attribute(InstanceId=instance_id, InstanceType={"Value": "t3.medium"})
    client.start_instances(InstanceIds=[instance_id])
    plan = make_plan(spec, provider)
    (action,) = plan.actions
    assert action.verb == "drift"
    assert action.drift == ["instance_type: have t3.medium, want t3.micro"]
    again = apply(spec, provider, "20261202T000001Z-bbbbbb")
    assert again.created == {} and live_ids(ec2.endpoint) == [instance_id]


def test_destroy_touches_only_this_fleets_instances(ec2):
    spec, provider = setup(ec2.endpoint, instances=[{"name": "lin1", "image": "al2023"}])
    apply(spec, provider, "20261202T000000Z-aaaaaa")
    client = raw_client(ec2.endpoint)
    image = provider.resolve_image(REGION, "al2023", "linux")
    other = client.run_instances(
        ImageId=image,
        InstanceType="t3.micro",
        MinCount=1,
        MaxCount=1,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "lin1"}]}],
    )["Instances"][0]["InstanceId"]
    other_fleet = spec_for(ec2.endpoint, fleet="other", instances=[{"name": "lin1", "image": "al2023"}])
    theirs = parse_cloud_spec(other_fleet, "test")
    apply(theirs, make_provider(theirs), "20261202T000000Z-cccccc")
    destroy(provider, spec, [])
    assert live_ids(ec2.endpoint) == []
    assert len(live_ids(ec2.endpoint, "other")) == 1
    state = client.describe_instances(InstanceIds=[other])["Reservations"][0]["Instances"][0]["State"]["Name"]
    assert state == "running"


@pytest.mark.parametrize(
    "changes, message",
    [
        (
            {"defaults": {"region": "us-east-9", "zone": "us-east-9a", "instance_type": "t3.micro"}},
            "region 'us-east-9'",
        ),
        ({"defaults": {"region": REGION, "zone": "eu-west-1a", "instance_type": "t3.micro"}}, "zone 'eu-west-1a'"),
        ({"defaults": {"region": REGION, "zone": ZONE, "instance_type": "t3.mega"}}, "instance type 't3.mega'"),
        ({"instances": [{"name": "a", "image": "windows-2016"}]}, "is a windows image"),
        ({"instances": [{"name": "a", "image": "gentoo"}]}, "image 'gentoo'"),
    ],
)
def test_offers_are_checked_before_anything_is_created(ec2, changes, message):
    spec, provider = setup(ec2.endpoint, **changes)
    with pytest.raises(NotOffered, match=message):
        apply(spec, provider, "20261202T000000Z-aaaaaa")
    assert live_ids(ec2.endpoint) == []
    assert "RunInstances" not in ec2.faults.seen


def test_instance_types_and_zones(ec2):
    spec, provider = setup(ec2.endpoint)
    assert ZONE in provider.zones(REGION)
    types = provider.instance_types(REGION, ZONE)
    assert "t3.micro" in types and "t3.mega" not in types


def test_windows_password_data_is_decrypted_with_the_fleets_key(ec2, tmp_path):
    """moto returns random bytes as password data; real AWS encrypts the password with the key
    pair. The decryption is checked on data encrypted the way AWS does."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    from fleetops.cloud.errors import CloudError
    from fleetops.cloud.keys import decrypt_password_data, fleet_keys
    from fleetops.cloud.state import FleetState

    keys = fleet_keys(FleetState("exam-2026").ensure(), windows=True)
    public = serialization.load_ssh_public_key(keys.rsa_public_key.split(" fleetops")[0].encode())
    sealed = public.encrypt(b"Tr0ub4dor&3", padding.PKCS1v15())
    assert decrypt_password_data(sealed, keys.rsa_private_key_file) == "Tr0ub4dor&3"
    with pytest.raises(CloudError, match="does not decrypt"):
        decrypt_password_data(b"\0" * 256, keys.rsa_private_key_file)
    assert oct(keys.rsa_private_key_file.stat().st_mode & 0o777) == "0o600"
