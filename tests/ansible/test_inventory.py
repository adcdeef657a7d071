"""Ansible inventories through ansible-inventory, vault decrypted by fleetops' own decryptor."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from fleetops.ansible import vault
from fleetops.ansible.inventory import load
from fleetops.cli import app
from fleetops.errors import InputError
from fleetops.inventory import load_inventory, select_hosts
from fleetops.secrets import redact
from tests.ansible.conftest import CANARY, INLINE, PASSWORD, vault_tool


def by_name(hosts):
    return {host.name: host for host in hosts}


@pytest.fixture
def password_file(ansible_inventory):
    return ansible_inventory.parent / "vault-pass"


@pytest.mark.parametrize("form", ["hosts.ini", "hosts.yml"])
def test_hosts_groups_precedence_and_mapping(ansible_inventory, password_file, form):
    hosts = by_name(load(ansible_inventory / form, password_file))
    assert sorted(hosts) == sorted(
        ["web01.example.test", "web02.example.test", "web03.example.test", "web-canary.example.test",
         "db1.example.test", "db2.example.test"]
    )  # fmt: skip
    web03 = hosts["web03.example.test"]
    assert web03.groups == ["eu", "web"]
    assert web03.data["nginx_workers"] == 16  # host_vars beat group_vars
    assert web03.data["http_port"] == 8081  # group_vars/web beats [web:vars]
    assert web03.data["ssh_hostname"] == "10.99.0.3" and web03.data["ssh_user"] == "deploy"
    assert web03.data["ssh_key"] == "~/.ssh/fleet_ed25519"
    assert web03.data["app_url"] == "https://web03.example.test/shop"  # plain references resolved
    canary = hosts["web-canary.example.test"].data
    assert canary["ssh_port"] == 2222 and isinstance(canary["ssh_port"], int) and canary["ssh_user"] == "ops"
    db1, db2 = hosts["db1.example.test"].data, hosts["db2.example.test"].data
    assert db1["_sudo"] is True and "_sudo_user" not in db1
    assert db2["_sudo"] is True and db2["_sudo_user"] == "postgres"
    assert db1["db_password"] == CANARY  # the vault file, through a reference
    assert db1["replication_password"] == INLINE  # the inline !vault value
    assert not any(key.startswith("ansible_") for host in hosts.values() for key in host.data)


def test_ini_and_yaml_give_the_same_hosts(ansible_inventory, password_file):
    ini = {h.name: (h.groups, h.data) for h in load(ansible_inventory / "hosts.ini", password_file)}
    yml = {h.name: (h.groups, h.data) for h in load(ansible_inventory / "hosts.yml", password_file)}
    assert ini == yml


def test_vault_values_are_secrets(ansible_inventory, password_file):
    load(ansible_inventory / "hosts.ini", password_file)
    text = f"connecting with {CANARY} and {INLINE}"
    assert CANARY not in redact(text) and INLINE not in redact(text)


def test_vault_problems_are_one_line(ansible_inventory, password_file, tmp_path):
    with pytest.raises(InputError, match="vault.yml is vault-encrypted: give --vault-password-file"):
        load(ansible_inventory / "hosts.ini", None)
    wrong = tmp_path / "wrong"
    wrong.write_text("not-the-password\n")
    wrong.chmod(0o600)
    with pytest.raises(InputError, match="wrong vault password") as error:
        load(ansible_inventory / "hosts.ini", wrong)
    assert "\n" not in str(error.value) and "not-the-password" not in str(error.value)
    wrong.chmod(0o644)
    with pytest.raises(InputError, match="readable by others"):
        load(ansible_inventory / "hosts.ini", wrong)


def test_our_decryptor_reads_what_ansible_vault_writes(password_file):
    sealed = vault_tool("encrypt_string", "über-secret 'quoted'", password_file=password_file)
    body = sealed.split("!vault |", 1)[1]
    text = "\n".join(line.strip() for line in body.strip().splitlines())
    assert vault.decrypt(text, PASSWORD.encode()) == "über-secret 'quoted'"
    labelled = vault_tool("encrypt_string", "labelled", "--encrypt-vault-id", "dev", "--vault-id",
                          f"dev@{password_file}", password_file=password_file)  # fmt: skip
    text = "\n".join(line.strip() for line in labelled.split("!vault |", 1)[1].strip().splitlines())
    assert text.startswith("$ANSIBLE_VAULT;1.2;AES256;dev") and vault.decrypt(text, PASSWORD.encode()) == "labelled"


def test_templates_that_could_run_on_the_controller_are_refused(tmp_path):
    (tmp_path / "hosts.ini").write_text("[web]\nw1 build_id=\"{{ lookup('pipe', 'touch SIDE_EFFECT') }}\"\n")
    with pytest.raises(InputError, match=r"host w1: build_id holds the template \{\{ lookup"):
        load(tmp_path / "hosts.ini")
    assert not (tmp_path / "SIDE_EFFECT").exists() and not list(tmp_path.rglob("SIDE_EFFECT"))


def test_unknown_connection_settings_are_refused(tmp_path):
    (tmp_path / "hosts.ini").write_text("[win]\nw1 ansible_connection=winrm\n")
    with pytest.raises(InputError, match="ansible_connection='winrm' is not one fleetops can use"):
        load(tmp_path / "hosts.ini")
    (tmp_path / "hosts.ini").write_text("[web]\nw1 ansible_ssh_common_args='-o ProxyJump=bastion'\n")
    with pytest.raises(InputError, match="sets ProxyJump"):
        load(tmp_path / "hosts.ini")
    (tmp_path / "hosts.ini").write_text(
        "[web]\nw1 ansible_ssh_common_args='-o UserKnownHostsFile=/k -o StrictHostKeyChecking=yes'\n"
    )
    data = by_name(load(tmp_path / "hosts.ini"))["w1"].data
    assert data["ssh_known_hosts_file"] == "/k" and data["ssh_strict_host_key_checking"] == "yes"


def test_a_pyinfra_inventory_from_ansible_with_limits(ansible_inventory, password_file, monkeypatch):
    monkeypatch.setenv("FLEETOPS_VAULT_PASSWORD_FILE", str(password_file))
    inventory = load_inventory(ansible_inventory / "hosts.yml")
    assert sorted(h.name for h in select_hosts(inventory, ["db"])) == ["db1.example.test", "db2.example.test"]
    assert len(select_hosts(inventory, ["eu"])) == 6
    db1 = inventory.get_host("db1.example.test")
    assert db1.data.get("ssh_hostname") == "10.99.1.11" and db1.data.get("_sudo") is True


def test_check_list_takes_an_ansible_inventory_and_a_vault_password(ansible_inventory, password_file):
    os.environ.pop("FLEETOPS_VAULT_PASSWORD_FILE", None)
    result = CliRunner().invoke(app, ["check", "--list", "-i", str(ansible_inventory / "hosts.ini"),
                                      "--vault-password-file", str(password_file), "--json", "-"])  # fmt: skip
    os.environ.pop("FLEETOPS_VAULT_PASSWORD_FILE", None)
    assert result.exit_code == 0, result.output
    assert CANARY not in result.output and INLINE not in result.output
    planned = json.loads(result.stdout)
    assert "db1.example.test" in json.dumps(planned)


def test_the_listing_is_cached_without_vault_and_never_with_it(tmp_path, monkeypatch):
    monkeypatch.setenv("FLEETOPS_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "hosts.ini").write_text("[web]\nw1 ansible_host=10.0.0.1\n")
    load(tmp_path / "hosts.ini")
    cached = list((tmp_path / "cache").rglob("*.json"))
    assert len(cached) == 1 and oct(cached[0].stat().st_mode & 0o777) == "0o600"
    (tmp_path / "hosts.ini").write_text("[web]\nw1 ansible_host=10.0.0.2\n")  # new content, new key
    assert by_name(load(tmp_path / "hosts.ini"))["w1"].data["ssh_hostname"] == "10.0.0.2"


def test_the_password_never_reaches_a_command_line(ansible_inventory, password_file, monkeypatch):
    """ansible-inventory gets the password file's path; the password itself is in no argv (ps)."""
    import subprocess

    from fleetops.ansible import inventory as module

    seen: list[list[str]] = []
    real = subprocess.run

    def spy(argv, *args, **kwargs):
        seen.append(list(argv))
        return real(argv, *args, **kwargs)

    monkeypatch.setattr(module.subprocess, "run", spy)
    load(ansible_inventory / "hosts.ini", password_file)
    assert seen and all(PASSWORD not in " ".join(argv) for argv in seen)
    assert str(password_file.resolve()) in seen[0]
