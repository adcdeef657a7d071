"""The cloud spec and the plan: pure validation and diffing, no API call."""

from __future__ import annotations

import pytest

from fleetops.cloud.instance import TAG_IMAGE, TAG_OS, Instance
from fleetops.cloud.plan import changes, plan
from fleetops.cloud.spec import load_cloud_spec, parse_cloud_spec, parse_duration
from fleetops.errors import InputError

BASE = {
    "fleet": "exam-2026",
    "provider": "aws",
    "defaults": {"region": "us-east-1", "zone": "us-east-1a", "instance_type": "t3.micro", "image": "al2023"},
    "instances": [{"name": "web1", "groups": ["web"]}, {"name": "win1", "os": "windows", "image": "windows-2022"}],
}


def spec(**changes):
    return parse_cloud_spec({**BASE, **changes}, "cloud.yml")


def test_defaults_fill_every_instance():
    wanted = {w.name: w for w in spec(defaults={**BASE["defaults"], "ttl": "90m"}).wanted()}
    assert wanted["web1"].image == "al2023" and wanted["web1"].groups == ("web",) and wanted["web1"].ttl_s == 5400
    assert wanted["win1"].os == "windows" and wanted["win1"].image == "windows-2022"
    assert wanted["win1"].zone == "us-east-1a"


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"fleet": "Exam 2026"}, r"fleet: String should match"),
        ({"provider": "gcp"}, r"provider: Input should be 'local', 'aws' or 'aliyun'"),
        ({"instances": []}, r"instances: List should have at least 1 item"),
        ({"instances": [{"name": "a"}, {"name": "a"}]}, r"duplicate instance names: a"),
        ({"instances": [{"name": "a;rm -rf"}]}, r"instances\[0\]\.name: String should match"),
        ({"instances": [{"name": "a", "zone": "us-east-1a b"}]}, r"instances\[0\]\.zone: String should match"),
        ({"instances": [{"name": "a", "colour": "red"}]}, r"instances\[0\]\.colour: unknown key"),
        ({"defaults": {"region": "us-east-1", "image": "al2023"}}, r"instance web1: no zone"),
        ({"firewall": [{"port": 70000, "cidr": "10.0.0.0/8"}]}, r"port '70000' is outside 1-65535"),
        ({"firewall": [{"port": "22-20", "cidr": "10.0.0.0/8"}]}, r"outside 1-65535 or reversed"),
        ({"firewall": [{"port": 22, "cidr": "10.0.0.1/8"}]}, r"has host bits set; did you mean 10.0.0.0/8"),
        ({"firewall": [{"port": 22, "cidr": "10.0.0.0/8", "protocol": "icmp"}]}, r"protocol: Input should be"),
        ({"defaults": {**BASE["defaults"], "ttl": "8 hours"}}, r"is not a duration like 30m"),
        ({"endpoint": "ftp://127.0.0.1"}, r"endpoint: .*is not an http\(s\)://host\[:port\] endpoint"),
        ({"lab": "demo"}, r"lab: only the local provider takes it"),
        ({"instances": [{"name": "web", "groups": ["web"]}]}, r"names used as both instance and group: web"),
    ],
)
def test_bad_specs_are_one_line_errors(changes, message):
    with pytest.raises(InputError, match=message) as error:
        spec(**changes)
    assert "\n" not in str(error.value) and str(error.value).startswith("cloud.yml: ")


def test_aliyun_needs_a_vpc_and_a_vswitch_per_zone():
    with pytest.raises(InputError, match="vpc: the aliyun provider needs"):
        spec(provider="aliyun")
    with pytest.raises(InputError, match="zone us-east-1a has no vSwitch"):
        spec(provider="aliyun", vpc="vpc-1")
    assert spec(provider="aliyun", vpc="vpc-1", vswitches={"us-east-1a": "vsw-1"}).vpc == "vpc-1"


def test_yaml_errors_and_missing_files(tmp_path):
    bad = tmp_path / "cloud.yml"
    bad.write_text("fleet: [a\n")
    with pytest.raises(InputError, match=r"cloud.yml: line \d+ not valid YAML"):
        load_cloud_spec(bad)
    with pytest.raises(InputError, match="cloud spec not found"):
        load_cloud_spec(tmp_path / "nope.yml")
    bad.write_text("- a list\n")
    with pytest.raises(InputError, match="a cloud spec must be a mapping"):
        load_cloud_spec(bad)


def test_emulated_means_an_endpoint_on_this_machine():
    assert spec(endpoint="http://127.0.0.1:5000").emulated
    assert not spec(endpoint="https://ec2.us-east-1.amazonaws.com").emulated
    assert not spec().emulated


def test_durations():
    assert parse_duration("30s") == 30 and parse_duration("2d") == 172800
    for bad in ("0m", "1w", "-1h", "h"):
        with pytest.raises(ValueError):
            parse_duration(bad)


def live(name: str, **changes) -> Instance:
    data = dict(
        name=name,
        id=f"i-{name}",
        state="running",
        os="linux",
        image="ami-1",
        region="us-east-1",
        zone="us-east-1a",
        instance_type="t3.micro",
        tags={TAG_IMAGE: "al2023", TAG_OS: "linux"},
    )
    data.update(changes)
    return Instance(**data)


def test_plan_creates_keeps_starts_and_reports():
    wanted = spec(instances=[{"name": n} for n in ("new", "same", "stopped", "moved", "twice")]).wanted()
    have = [
        live("same"),
        live("stopped", state="stopped"),
        live("moved", zone="us-east-1b", instance_type="t3.large"),
        live("twice", id="i-a"),
        live("twice", id="i-b"),
        live("orphan"),
    ]
    actions = {a.name: a for a in plan(wanted, have)}
    assert {name: a.verb for name, a in actions.items()} == {
        "new": "create",
        "same": "keep",
        "stopped": "start",
        "moved": "drift",
        "twice": "duplicate",
        "orphan": "extra",
    }
    assert actions["moved"].drift == [
        "zone: have us-east-1b, want us-east-1a",
        "instance_type: have t3.large, want t3.micro",
    ]
    assert [a.name for a in changes(list(actions.values()))] == ["new", "stopped"]


def test_image_drift_compares_the_alias_not_todays_newest_image():
    wanted = spec(instances=[{"name": "a"}]).wanted()
    assert plan(wanted, [live("a", image="ami-newer-one")])[0].verb == "keep"
    moved = live("a", tags={TAG_IMAGE: "debian-12", TAG_OS: "linux"})
    assert plan(wanted, [moved])[0].drift == ["image: have debian-12, want al2023"]
