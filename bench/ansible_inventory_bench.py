"""Load time of a 500-host Ansible inventory (issue 16's figure), cold and again.

    .venv/bin/python bench/ansible_inventory_bench.py [--hosts 500] [--json FILE]

web[001:400], db[01:50], lb[01:50] in children groups; 4 group_vars files of 20 keys, 100
host_vars files, one vault file and an inline !vault value on every db host (so nothing is
cached: a vault was involved), and the same inventory without any vault (cached the second time).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.ansible.conftest import PASSWORD, vault_tool  # noqa: E402


def write(root: Path, with_vault: bool, hosts: int) -> tuple[Path, Path]:
    web, db, lb = hosts * 4 // 5, hosts // 10, hosts - hosts * 4 // 5 - hosts // 10
    password_file = root / "pass"
    password_file.write_text(PASSWORD + "\n")
    password_file.chmod(0o600)
    (root / "group_vars" / "all").mkdir(parents=True)
    (root / "host_vars").mkdir()
    (root / "hosts.ini").write_text(
        f"[web]\nweb[001:{web:03d}].example.test\n[db]\ndb[01:{db:02d}].example.test\n"
        f"[lb]\nlb[01:{lb:02d}].example.test\n[eu:children]\nweb\ndb\n[prod:children]\neu\nlb\n"
    )
    for group in ("all/main", "web", "db", "lb"):
        (root / "group_vars" / f"{group}.yml").write_text(
            "".join(f"{group.split('/')[0]}_key{i}: value{i}\n" for i in range(20))
        )
    for i in range(1, 101):
        (root / "host_vars" / f"web{i:03d}.example.test.yml").write_text(
            f"ansible_host: 10.0.{i // 250}.{i % 250 + 1}\n"
        )
    if with_vault:
        vault_file = root / "group_vars" / "all" / "vault.yml"
        vault_file.write_text("vault_db_password: s3cr3t-db-pw\n")
        vault_tool("encrypt", str(vault_file), password_file=password_file)
        inline = vault_tool(
            "encrypt_string", "replicator-pw", "--name", "replication_password", password_file=password_file
        )
        with (root / "group_vars" / "db.yml").open("a") as handle:
            handle.write(inline)
    return root / "hosts.ini", password_file


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=500)
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args()
    os.environ.setdefault("FLEETOPS_CACHE_DIR", tempfile.mkdtemp(prefix="fleetops-ansible-bench-"))
    from fleetops.ansible.inventory import load
    from fleetops.inventory import load_inventory

    rows = []
    for with_vault in (True, False):
        source, password_file = write(Path(tempfile.mkdtemp()), with_vault, args.hosts)
        os.environ["FLEETOPS_VAULT_PASSWORD_FILE"] = str(password_file)
        for attempt in ("first", "again"):
            started = time.perf_counter()
            hosts = load(source)
            loaded = time.perf_counter() - started
            started = time.perf_counter()
            inventory = load_inventory(source)
            total = time.perf_counter() - started
            rows.append({"vault": with_vault, "run": attempt, "hosts": len(hosts), "ansible_load_s": round(loaded, 2),
                         "pyinfra_inventory_s": round(total, 2), "pyinfra_hosts": len(list(inventory))})  # fmt: skip
    print(f"{'vault':<6} {'run':<6} {'hosts':>6} {'load s':>8} {'inventory s':>12}")
    for row in rows:
        print(
            f"{str(row['vault']):<6} {row['run']:<6} {row['hosts']:>6} {row['ansible_load_s']:>8} {row['pyinfra_inventory_s']:>12}"
        )
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
