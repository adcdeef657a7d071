"""A realistic Ansible inventory, INI and YAML, with group_vars, host_vars, a vault-encrypted file
and an inline !vault value, encrypted by the real ansible-vault."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PASSWORD = "correct-horse-battery-staple"
CANARY = "vault-canary-7f3a9c1e"  # the vault file's secret: it must appear nowhere
INLINE = "inline-canary-42d8b6"  # the inline !vault value
BIN = Path(sys.executable).parent

INI = """\
[web]
web[01:03].example.test ansible_user=deploy
web-canary.example.test ansible_host=10.99.0.250 ansible_port=2222

[db]
db1.example.test ansible_host=10.99.1.11 ansible_become=true
db2.example.test ansible_host=10.99.1.12 ansible_become=true ansible_become_user=postgres

[eu:children]
web
db

[web:vars]
http_port=8080
"""

YAML = """\
all:
  children:
    eu:
      children:
        web:
          hosts:
            web[01:03].example.test: {ansible_user: deploy}
            web-canary.example.test: {ansible_host: 10.99.0.250, ansible_port: 2222}
          vars: {http_port: 8080}
        db:
          hosts:
            db1.example.test: {ansible_host: 10.99.1.11, ansible_become: true}
            db2.example.test: {ansible_host: 10.99.1.12, ansible_become: true, ansible_become_user: postgres}
"""


def vault_tool(*args: str, stdin: str | None = None, password_file: Path) -> str:
    proc = subprocess.run(
        [str(BIN / "ansible-vault"), *args, "--vault-password-file", str(password_file)],
        input=stdin, capture_output=True, text=True, check=True, env={**os.environ, "ANSIBLE_NOCOLOR": "1"},
    )  # fmt: skip
    return proc.stdout


def write_inventory(root: Path) -> Path:
    """The inventory folder with hosts.ini and hosts.yml; the vault password file beside it."""
    password_file = root / "vault-pass"
    password_file.write_text(PASSWORD + "\n")
    password_file.chmod(0o600)
    inventory = root / "inv"
    (inventory / "group_vars" / "all").mkdir(parents=True)
    (inventory / "group_vars" / "web").mkdir()
    (inventory / "host_vars").mkdir()
    (inventory / "hosts.ini").write_text(INI)
    (inventory / "hosts.yml").write_text(YAML)
    (inventory / "group_vars" / "all" / "main.yml").write_text(
        "ansible_user: ops\nansible_ssh_private_key_file: ~/.ssh/fleet_ed25519\napp_name: shop\n"
        'app_url: "https://{{ inventory_hostname }}/{{ app_name }}"\ndb_password: "{{ vault_db_password }}"\n'
    )
    vault_file = inventory / "group_vars" / "all" / "vault.yml"
    vault_file.write_text(f"vault_db_password: {CANARY}\n")
    vault_tool("encrypt", str(vault_file), password_file=password_file)
    (inventory / "group_vars" / "web" / "main.yml").write_text("nginx_workers: 4\nhttp_port: 8081\n")
    inline = vault_tool("encrypt_string", INLINE, "--name", "replication_password", password_file=password_file)
    (inventory / "group_vars" / "db.yml").write_text("pg_port: 5432\n" + inline)
    (inventory / "host_vars" / "web03.example.test.yml").write_text("nginx_workers: 16\nansible_host: 10.99.0.3\n")
    return inventory


@pytest.fixture(scope="session")
def ansible_inventory(tmp_path_factory) -> Path:
    return write_inventory(tmp_path_factory.mktemp("ansible"))
