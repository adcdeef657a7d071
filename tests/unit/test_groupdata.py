"""Group data is validated before connecting: one line naming host, key and problem."""

from pathlib import Path

import pytest

from fleetops.errors import InputError
from fleetops.groupdata import specs_for_deploy, validate_data
from fleetops.roles.spec import BaselineData

HASH = "$6$saltsalt$" + "a" * 86


def error_for(data: dict) -> str:
    with pytest.raises(InputError) as error:
        validate_data("web1", data, [BaselineData])
    text = str(error.value)
    assert "\n" not in text and text.startswith("host web1: ")
    return text


def test_valid_data_passes():
    validate_data(
        "web1",
        {
            "timezone": "Asia/Shanghai",
            "packages": ["curl", "git=1:2.39.5-0+deb12u2"],
            "users": [
                {
                    "name": "ops",
                    "groups": ["ops"],
                    "password_hash": HASH,
                    "authorized_keys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA ops@x"],
                }
            ],
            "sudo_rules": [{"name": "ops", "who": "%ops", "nopasswd": True}],
            "sshd": {"password_authentication": False},
            "custom_key_for_my_deploy": 42,  # unknown but not a typo: allowed
            "ssh_user": "root",
        },
        [BaselineData],
    )


@pytest.mark.parametrize(
    "data, expected",
    [
        ({"usres": []}, "unknown group-data key 'usres' (did you mean 'users'?)"),
        ({"timezone": "Mars/Olympus"}, "timezone: unknown timezone 'Mars/Olympus'"),
        ({"users": [{"name": "ops", "shell": 5}]}, "users[0].shell"),
        ({"users": [{"name": "Robert'); DROP"}]}, "users[0].name"),
        ({"users": [{"name": "ops", "password_hash": "hunter2"}]}, "crypt(3) hash"),
        ({"users": [{"name": "ops", "authorized_keys": ["not a key"]}]}, "not an SSH public key"),
        ({"users": [{"name": "a"}, {"name": "a"}]}, "duplicate users: a"),
        ({"sudo_rules": [{"name": "x", "who": "%ops", "commands": ["rm -rf /"]}]}, "sudo_rules[0].commands[0]"),
        ({"sshd": {"port": 70000}}, "sshd.port"),
        ({"sshd": {"permit_root_login": "yes"}}, "sshd.permit_root_login"),
        ({"packages": ["curl; rm -rf /"]}, "packages[0]"),
        ({"users": [{"name": "ops", "lockd": True}]}, "users[0].lockd: unknown key"),
    ],
)
def test_bad_data_is_rejected_with_the_key_named(data, expected):
    assert expected in error_for(data)


def test_password_problems_never_echo_the_value():
    text = error_for({"users": [{"name": "ops", "password_hash": "PlainCanary123"}]})
    assert "PlainCanary123" not in text


def test_specs_come_from_the_roles_a_deploy_imports(tmp_path):
    from fleetops.roles.edge_spec import EdgeData
    from fleetops.roles.web_spec import WebData

    site = specs_for_deploy(Path(__file__).parents[2] / "deploys/site.py")
    assert BaselineData in site and WebData in site and EdgeData in site
    plain = tmp_path / "plain.py"
    plain.write_text("from pyinfra.operations import server\nserver.shell(commands=['true'])\n")
    assert specs_for_deploy(plain) == []


def test_a_plain_pyinfra_inventory_with_its_own_keys_is_not_rejected():
    # `users` in its own shape, `db_users`: a plain pyinfra deploy reads these, no fleetops role does
    validate_data("web1", {"users": ["alice", "bob"], "db_users": {"app": "x"}}, [])
