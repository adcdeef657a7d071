"""Issue 16 (Ansible side) on the shared fleet: the same baseline deploy and checks from an Ansible
INI and a YAML inventory (group_vars, host_vars, a vault file, an inline !vault value) as from the
lab's pyinfra inventory, and the vaulted password hash in no output, record or process list."""

from __future__ import annotations

import json

import pytest
import yaml

from fleetops.inventory import load_inventory
from tests.ansible.conftest import PASSWORD, vault_tool
from tests.e2e.conftest import REPO
from tests.e2e.helpers import fleetops, run

pytestmark = pytest.mark.lab

CONNECTION = ("ssh_hostname", "ssh_user", "ssh_key", "ssh_known_hosts_file", "ssh_strict_host_key_checking")
NEW_HASH = "$6$vaultcanary2$VaultedHashNeverLogged0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"


def ansible_inventory(lab, root, canary_hash: str):
    """An Ansible twin of the lab's pyinfra inventory: common data in group_vars/all, the rest in
    host_vars, the canary user's hash from a vault file (and, for one host, an inline !vault)."""
    inventory = load_inventory(lab.inventory)
    hosts = {host.name: host for host in inventory}
    data = {name: json.loads(json.dumps(host.data.dict(), default=str)) for name, host in hosts.items()}
    common = {k: v for k, v in next(iter(data.values())).items() if all(d.get(k) == v for d in data.values())}
    password_file = root / "vault-pass"
    password_file.write_text(PASSWORD + "\n")
    password_file.chmod(0o600)
    folder = root / "inv"
    (folder / "group_vars" / "all").mkdir(parents=True)
    (folder / "host_vars").mkdir()
    for user in common["users"]:
        if user.get("password_hash"):
            user["password_hash"] = "{{ vault_canary_hash }}"
    connection = {k: common.pop(k) for k in CONNECTION if k in common}
    (folder / "group_vars" / "all" / "main.yml").write_text(yaml.safe_dump(common))
    vault_file = folder / "group_vars" / "all" / "vault.yml"
    vault_file.write_text(yaml.safe_dump({"vault_canary_hash": canary_hash}))
    vault_tool("encrypt", str(vault_file), password_file=password_file)
    groups: dict[str, list[str]] = {}
    for index, (name, host) in enumerate(sorted(hosts.items())):
        own = {k: v for k, v in data[name].items() if k not in common and k not in CONNECTION}
        text = yaml.safe_dump(own) if own else ""
        if index == 1:  # one host takes the same hash from an inline !vault value
            text += vault_tool(
                "encrypt_string", canary_hash, "--name", "vault_canary_hash", password_file=password_file
            )
        (folder / "host_vars" / f"{name}.yml").write_text(text)
        for group in host.groups:
            groups.setdefault(str(group), []).append(name)
    args = (
        f"-o UserKnownHostsFile={connection['ssh_known_hosts_file']} "
        f"-o StrictHostKeyChecking={connection['ssh_strict_host_key_checking']}"
    )
    lines = []
    for group, members in sorted(groups.items()):
        lines.append(f"[{group}]")
        for name in members:
            address = data[name]["ssh_hostname"]
            lines.append(f"{name} ansible_host={address} ansible_user=root "
                         f"ansible_ssh_private_key_file={connection['ssh_key']} ansible_ssh_common_args='{args}'")  # fmt: skip
    (folder / "hosts.ini").write_text("\n".join(lines) + "\n")
    yml = {"all": {"children": {group: {"hosts": {
        name: {"ansible_host": data[name]["ssh_hostname"], "ansible_user": "root",
               "ansible_ssh_private_key_file": connection["ssh_key"], "ansible_ssh_common_args": args}
        for name in members}} for group, members in groups.items()}}}  # fmt: skip
    (folder / "hosts.yml").write_text(yaml.safe_dump(yml))
    return folder, password_file


def test_the_same_deploy_and_checks_from_ini_and_yaml(lab, converged, tmp_path, isolated_runs):
    from tests.e2e.group_data.all import CANARY_HASH

    folder, password_file = ansible_inventory(lab, tmp_path, CANARY_HASH)
    reference = fleetops("check", "-i", str(lab.inventory), "--suite", "baseline", "--json", "-", "--no-history")
    expected = {(r["host"], r["check"]): r["status"] for r in json.loads(reference.stdout)["results"]}
    for form in ("hosts.ini", "hosts.yml"):
        source = str(folder / form)
        proc = fleetops("deploy", str(REPO / "deploys/baseline.py"), "-i", source, "--vault-password-file",
                        str(password_file), "--dry", "--diff", "-vvv", "--json", runs=isolated_runs)  # fmt: skip
        assert proc.returncode == 0, (form, proc.stderr[-3000:])  # 0, not 4: nothing pending, same data
        record = json.loads(proc.stdout)
        assert record["status"] == "ok" and sorted(record["hosts"]) == sorted(
            h.split()[0] for h in ["e2e1", "e2e2", "e2e3"]
        )
        assert CANARY_HASH not in proc.stdout + proc.stderr
        checked = fleetops("check", "-i", source, "--vault-password-file", str(password_file), "--suite", "baseline",
                           "--json", "-", "--no-history")  # fmt: skip
        assert {(r["host"], r["check"]): r["status"] for r in json.loads(checked.stdout)["results"]} == expected
    for saved in isolated_runs.glob("*.json"):
        assert CANARY_HASH not in saved.read_text()


def test_a_vaulted_hash_is_applied_without_reaching_any_process_list(lab, converged, deploy, tmp_path, isolated_runs):
    folder, password_file = ansible_inventory(lab, tmp_path, NEW_HASH)
    watcher = (
        "nohup sh -c 'end=$(($(date +%s)+90)); while [ $(date +%s) -lt $end ] && [ ! -e /root/stop-watch ]; do "
        'cat /proc/[0-9]*/cmdline 2>/dev/null | tr "\\000" " " >> /root/cmdlines.log; done\' >/dev/null 2>&1 &'
    )
    for host in ("e2e1", "e2e2", "e2e3"):
        assert run(lab, host, "rm -f /root/cmdlines.log /root/stop-watch; " + watcher)[0] == 0
    try:
        proc = fleetops("deploy", str(REPO / "deploys/baseline.py"), "-i", str(folder / "hosts.ini"),
                        "--vault-password-file", str(password_file), "--yes", "--json", runs=isolated_runs)  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-3000:]
        changed = {host: result["changed"] for host, result in json.loads(proc.stdout)["hosts"].items()}
        assert all(count >= 1 for count in changed.values()), changed  # the canary's hash changed everywhere
        assert NEW_HASH not in proc.stdout + proc.stderr
        for host in ("e2e1", "e2e2", "e2e3"):
            assert run(lab, host, "getent shadow canary | cut -d: -f2")[1].strip() == NEW_HASH
            run(lab, host, "touch /root/stop-watch; sleep 1")  # the watcher stops before anything names the salt
            # the bracket keeps this command's own argv from matching (the watcher is stopped anyway)
            seen = run(lab, host, "wc -c < /root/cmdlines.log; grep -c 'vaultcanar[y]2' /root/cmdlines.log || true")[
                1
            ].split()
            assert int(seen[0]) > 0 and seen[1] == "0", (host, seen)
        for saved in isolated_runs.glob("*.json"):
            assert NEW_HASH not in saved.read_text()
    finally:
        code, _record, err = deploy(REPO / "deploys/baseline.py")  # back to the pyinfra inventory's hash
        assert code == 0, err
