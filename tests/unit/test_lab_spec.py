"""Lab spec parsing and validation: everything is checked before the machine changes."""

import ipaddress

import pytest

from fleetops.errors import InputError
from fleetops.lab.spec import generated_spec, load_spec, parse_spec


def test_generated_spec_names_and_addresses():
    spec = generated_spec(3, "demo", "10.90.0.0/24")
    assert [h.name for h in spec.hosts] == ["demo1", "demo2", "demo3"]
    assert spec.gateway == ipaddress.IPv4Address("10.90.0.1")
    assert spec.address_of(0) == ipaddress.IPv4Address("10.90.0.11")
    assert spec.bridge == "fo-demo"


@pytest.mark.parametrize(
    "data, message",
    [
        ({"hosts": []}, "hosts"),
        ({"hosts": [{"name": "a"}, {"name": "a"}]}, "duplicate host names: a"),
        ({"hosts": [{"name": "Bad_Name"}]}, "hosts[0].name"),
        ({"hosts": [{"name": "a", "grups": ["web"]}]}, "hosts[0].grups: unknown key"),
        ({"subnet": "8.8.8.0/24", "hosts": [{"name": "a"}]}, "not a private range"),
        ({"name": "much-too-long-name", "hosts": [{"name": "a"}]}, "name"),
        ({"hosts": [{"name": "web", "groups": ["web"]}]}, "both host and group: web"),
    ],
)
def test_bad_specs_give_one_line_naming_the_key(data, message):
    with pytest.raises(InputError) as error:
        parse_spec(data, source="lab.yml")
    text = str(error.value)
    assert "\n" not in text
    assert text.startswith("lab.yml: ")
    assert message in text


def test_hosts_out_of_range():
    with pytest.raises(InputError, match="between 1 and 60"):
        generated_spec(0)


def test_yaml_errors_name_the_line(tmp_path):
    path = tmp_path / "lab.yml"
    path.write_text("hosts:\n  - name: a\n   groups: [x\n")
    with pytest.raises(InputError, match=r"lab.yml: line \d+ not valid YAML"):
        load_spec(path)


def test_group_data_resolved_relative_to_spec(tmp_path):
    (tmp_path / "gd").mkdir()
    path = tmp_path / "lab.yml"
    path.write_text("group_data: gd\nhosts:\n  - name: a\n    groups: [web]\n")
    spec = load_spec(path)
    assert spec.group_data == (tmp_path / "gd").resolve()
    assert spec.hosts[0].groups == ["web"]


def test_missing_group_data_dir_is_an_error(tmp_path):
    path = tmp_path / "lab.yml"
    path.write_text("group_data: nowhere\nhosts:\n  - name: a\n")
    with pytest.raises(InputError, match="group_data directory not found"):
        load_spec(path)


def test_repository_default_spec_is_valid():
    from pathlib import Path

    spec = load_spec(Path(__file__).parents[2] / "inventory" / "lab.yml")
    assert {g for h in spec.hosts for g in h.groups} >= {"web", "ftp", "db"}


def test_inotify_limit_is_raised_for_many_hosts_never_lowered(tmp_path):
    from fleetops.lab.limits import ensure_inotify_instances, wanted_inotify_instances

    limit = tmp_path / "max_user_instances"
    limit.write_text("128\n")
    assert ensure_inotify_instances(50, limit) == wanted_inotify_instances(50) > 50 * 7
    assert int(limit.read_text()) == wanted_inotify_instances(50)
    limit.write_text("100000\n")
    assert ensure_inotify_instances(3, limit) == 100000
    assert limit.read_text() == "100000\n"


def test_a_host_memory_limit_is_validated_and_reaches_the_launcher(monkeypatch):
    from fleetops.lab import launcher

    spec = parse_spec({"hosts": [{"name": "a", "memory_max_mb": 256}, {"name": "b"}]}, source="t")
    assert spec.hosts[0].memory_max_mb == 256 and spec.hosts[1].memory_max_mb is None
    with pytest.raises(InputError, match="memory_max_mb"):
        parse_spec({"hosts": [{"name": "a", "memory_max_mb": 8}]}, source="t")
    seen = {}
    monkeypatch.setattr(
        launcher, "supervise", lambda lab, host, argv, memory_max=None: seen.update(argv=argv, memory=memory_max) or 0
    )
    assert launcher.main(["lab", "a", "--memory-max", str(256 * 2**20), "--", "systemd-nspawn", "--boot"]) == 0
    assert seen == {"argv": ["systemd-nspawn", "--boot"], "memory": 256 * 2**20}
    assert launcher.main(["lab", "a", "--", "true"]) == 0 and seen["memory"] is None
