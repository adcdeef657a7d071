"""aws specifics against moto: offers checked before any create, the security group's rules,
Windows password data (moto returns random bytes: the decryption is checked on data sealed the
way AWS seals it)."""

from __future__ import annotations

import pytest

from fleetops.cloud.apply import apply
from fleetops.cloud.errors import CloudError, NotOffered
from fleetops.cloud.provider import make_provider
from fleetops.cloud.spec import parse_cloud_spec
from tests.cloud.backends import AWS_REGION, AWS_ZONE, AwsBackend


def setup(ec2, **changes):
    spec = parse_cloud_spec(AwsBackend(ec2).spec(**changes), "test")
    return spec, make_provider(spec, read_timeout=1.0)


def test_the_security_group_holds_exactly_the_specs_rules(ec2):
    spec, provider = setup(ec2, instances=[{"name": "lin1", "image": "al2023"}])
    apply(spec, provider, "20261202T000000Z-aaaaaa")
    narrowed = parse_cloud_spec(
        AwsBackend(ec2).spec(
            instances=[{"name": "lin1", "image": "al2023"}, {"name": "lin2", "image": "al2023"}],
            firewall=[{"port": "8000-8100", "cidr": "198.51.100.0/24"}],
        ),
        "test",
    )
    apply(narrowed, make_provider(narrowed), "20261202T000001Z-bbbbbb")  # a create runs prepare again
    groups = (
        AwsBackend(ec2)
        .client()
        .describe_security_groups(Filters=[{"Name": "group-name", "Values": ["fleetops-exam-2026"]}])["SecurityGroups"]
    )
    assert len(groups) == 1
    rules = sorted((p["FromPort"], p["ToPort"], r["CidrIp"]) for p in groups[0]["IpPermissions"] for r in p["IpRanges"])
    assert rules == [(8000, 8100, "198.51.100.0/24")]


@pytest.mark.parametrize(
    "changes, message",
    [
        (
            {"defaults": {"region": "us-east-9", "zone": "us-east-9a", "instance_type": "t3.micro"}},
            "region 'us-east-9'",
        ),
        ({"defaults": {"region": AWS_REGION, "zone": "eu-west-1a", "instance_type": "t3.micro"}}, "zone 'eu-west-1a'"),
        ({"defaults": {"region": AWS_REGION, "zone": AWS_ZONE, "instance_type": "t3.mega"}}, "type 't3.mega'"),
        ({"instances": [{"name": "a", "image": "windows-2016"}]}, "is a windows image"),
        ({"instances": [{"name": "a", "image": "gentoo"}]}, "image 'gentoo'"),
    ],
)
def test_offers_are_checked_before_anything_is_created(ec2, changes, message):
    spec, provider = setup(ec2, **changes)
    with pytest.raises(NotOffered, match=message):
        apply(spec, provider, "20261202T000000Z-aaaaaa")
    assert AwsBackend(ec2).live_ids() == []
    assert "RunInstances" not in ec2.faults.seen


def test_instance_types_and_zones(ec2):
    _spec, provider = setup(ec2)
    assert AWS_ZONE in provider.zones(AWS_REGION)
    types = provider.instance_types(AWS_REGION, AWS_ZONE)
    assert "t3.micro" in types and "t3.mega" not in types


def test_windows_password_data_is_decrypted_with_the_fleets_key(isolated_state):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    from fleetops.cloud.keys import decrypt_password_data, fleet_keys
    from fleetops.cloud.state import FleetState

    keys = fleet_keys(FleetState("exam-2026").ensure(), windows=True)
    assert keys.rsa_public_key and keys.rsa_private_key_file
    public = serialization.load_ssh_public_key(" ".join(keys.rsa_public_key.split()[:2]).encode())
    sealed = public.encrypt(b"Tr0ub4dor&3", padding.PKCS1v15())  # type: ignore[union-attr]
    assert decrypt_password_data(sealed, keys.rsa_private_key_file) == "Tr0ub4dor&3"
    with pytest.raises(CloudError, match="does not decrypt"):
        decrypt_password_data(b"\0" * 256, keys.rsa_private_key_file)
    assert oct(keys.rsa_private_key_file.stat().st_mode & 0o777) == "0o600"
    assert oct(keys.private_key_file.parent.stat().st_mode & 0o777) == "0o700"
