"""The lab's generated inventory loads with pyinfra's own loader; limits are checked."""

import pytest

from fleetops.errors import InputError
from fleetops.inventory import load_inventory, resolve_inventory, select_hosts
from fleetops.lab.inventory_file import write_inventory
from fleetops.lab.spec import parse_spec


@pytest.fixture
def inventory(tmp_path):
    spec = parse_spec(
        {
            "name": "t",
            "hosts": [
                {"name": "web1", "groups": ["web"]},
                {"name": "db1", "groups": ["db", "backup"]},
                {"name": "plain"},
            ],
        },
        source="test",
    )
    hosts = {h.name: {"address": str(spec.address_of(i))} for i, h in enumerate(spec.hosts)}
    path = tmp_path / "inventory.py"
    write_inventory(path, spec, hosts, tmp_path / "key", tmp_path / "known_hosts")
    return load_inventory(path)


def test_groups_and_connection_data(inventory):
    assert sorted(h.name for h in inventory.get_group("web")) == ["web1"]
    assert sorted(h.name for h in inventory.get_group("t")) == ["plain"]
    db1 = inventory.get_host("db1")
    assert db1.data.ssh_hostname == "10.77.0.12"
    assert db1.data.ssh_strict_host_key_checking == "yes"


def test_limit_and_exclude(inventory):
    assert [h.name for h in select_hosts(inventory, ["db", "web*"])] == ["db1", "web1"]
    assert [h.name for h in select_hosts(inventory, [], ["db", "plain"])] == ["web1"]


def test_unknown_limit_is_an_error(inventory):
    with pytest.raises(InputError, match="no group or host matches 'nosuch'"):
        select_hosts(inventory, ["nosuch"])


def test_missing_and_wrong_inventory_files(tmp_path):
    with pytest.raises(InputError, match="inventory not found"):
        resolve_inventory(str(tmp_path / "none.py"))
    (tmp_path / "inv.yml").write_text("x: 1")  # not .py: read as an Ansible inventory, with no host in it
    with pytest.raises(InputError, match=r"inv.yml: the Ansible inventory has no hosts"):
        load_inventory(resolve_inventory(str(tmp_path / "inv.yml")))
    (tmp_path / "inv.ini").write_text("[web\nw1 ansible_port=[\n")
    with pytest.raises(InputError, match=r"inv.ini: ansible-inventory failed: ") as error:
        load_inventory(resolve_inventory(str(tmp_path / "inv.ini")))
    assert "\n" not in str(error.value)


def test_broken_inventory_is_one_line(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("hosts = [\n")
    with pytest.raises(InputError, match="cannot load inventory"):
        load_inventory(path)
