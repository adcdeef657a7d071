"""aliyun specifics against the fleetops FAKE ECS endpoint (tests/cloud/fake_ecs.py)."""

from __future__ import annotations

import base64
import json

import pytest
import yaml

from fleetops.cloud.apply import apply
from fleetops.cloud.errors import CloudError, NotOffered
from fleetops.cloud.keys import host_key
from fleetops.cloud.provider import make_provider
from fleetops.cloud.spec import parse_cloud_spec
from fleetops.cloud.state import FleetState
from tests.cloud.backends import AliyunBackend


def setup(ecs, **changes):
    spec = parse_cloud_spec(AliyunBackend(ecs).spec(**changes), "test")
    return spec, make_provider(spec, read_timeout=1.0)


def test_a_wrong_secret_is_refused_by_signature(ecs, monkeypatch):
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "not-the-secret")
    spec, provider = setup(ecs)
    with pytest.raises(CloudError, match=r"^aliyun DescribeRegions in cn-hangzhou: SignatureDoesNotMatch: ") as error:
        provider.regions()
    assert "not-the-secret" not in str(error.value) and "\n" not in str(error.value)


def test_no_credentials_is_one_line(ecs, monkeypatch):
    monkeypatch.delenv("ALIBABA_CLOUD_ACCESS_KEY_ID")
    with pytest.raises(CloudError, match="aliyun: no credentials"):
        setup(ecs)


def test_linux_gets_its_pinned_host_key_and_windows_a_kept_password(ecs):
    spec, provider = setup(ecs)
    run = apply(spec, provider, "20261202T000000Z-aaaaaa")
    assert run.error is None, run.error
    linux = ecs.instances[run.created["lin1"]]
    config = yaml.safe_load(base64.b64decode(linux["UserData"]).decode().removeprefix("#cloud-config\n"))
    _private, public = host_key(FleetState(spec.fleet), "lin1")
    assert config["ssh_keys"]["ed25519_public"] == public and config["ssh_deletekeys"] is True
    assert config["ssh_authorized_keys"][0].startswith("ssh-ed25519 ")
    windows = ecs.instances[run.created["win1"]]
    assert windows["HasPassword"] and windows["UserData"] is None
    secrets_file = FleetState(spec.fleet).dir / "secrets.json"
    assert oct(secrets_file.stat().st_mode & 0o777) == "0o600"
    password = json.loads(secrets_file.read_text())["win1"]
    assert len(password) == 20
    # the password is registered as a secret: it never appears in what is recorded
    assert password not in json.dumps(run.to_dict())


def test_types_not_sold_in_a_zone_are_refused_before_any_create(ecs):
    spec, provider = setup(
        ecs, defaults={"region": "cn-hangzhou", "zone": "cn-hangzhou-j", "instance_type": "ecs.g7.large"}
    )
    with pytest.raises(NotOffered, match="instance type 'ecs.g7.large' is not offered in cn-hangzhou-j"):
        apply(spec, provider, "20261202T000000Z-aaaaaa")
    assert "RunInstances" not in ecs.calls


def test_destroy_expired_takes_only_instances_past_their_ttl(ecs):
    import time

    from fleetops.cloud.apply import destroy

    spec, provider = setup(
        ecs,
        instances=[
            {"name": "short", "image": "debian-12", "ttl": "1s"},
            {"name": "long", "image": "debian-12", "ttl": "8h"},
            {"name": "forever", "image": "debian-12"},
        ],
        defaults={"region": "cn-hangzhou", "zone": "cn-hangzhou-h", "instance_type": "ecs.e-c1m1.large"},
    )
    apply(spec, provider, "20261202T000000Z-aaaaaa")
    time.sleep(1.2)
    gone = destroy(provider, spec, [], expired_only=True)
    assert [i.name for i in gone] == ["short"]
    assert sorted(i.name for i in provider.live(["cn-hangzhou"])) == ["forever", "long"]
