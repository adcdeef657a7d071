"""Backups beyond the dump on the shared lab: point-in-time restore, the off-host store, app backups
(named to run after test_mysql.py, whose first converge must be the first one).

e2e2 (db) keeps its copies on e2e3 (group data ``backup_store``); the edge app on e2e1 keeps its
copies on e2e2 in an inventory variant. Uses the MySQL role as ``test_mysql`` converged it.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.e2e.conftest import REPO
from tests.e2e.helpers import fleetops, inventory_with, run, run_ok

pytestmark = pytest.mark.lab
DB, STORE, GATEWAY = "e2e2", "e2e3", "e2e1"
DEST = "/var/backups/fleetops-mysql"
SHIP = (
    "ssh -i /etc/fleetops/backup-ship/id_ed25519 -o IdentitiesOnly=yes -o BatchMode=yes "
    "-o UserKnownHostsFile=/etc/fleetops/backup-ship/known_hosts fleetops-store@{address}"
)


def sql(lab, statement: str) -> str:
    return run_ok(lab, DB, f"mysql -N -B -e {json.dumps(statement)}").strip()


@pytest.fixture(scope="module")
def db(converged, deploy, lab):
    code, _record, err = deploy(REPO / "deploys/mysql.py")
    assert code == 0, err[-3000:]
    # no minutely backup or binlog copy in between; and left stopped afterwards: later modules
    # stop e2e3 (the store), and a backup that cannot be copied off-host fails its unit, which
    # would leave e2e2 "degraded" while the lab waits for a healthy fleet
    run_ok(lab, DB, "systemctl stop fleetops-mysql-backup.timer fleetops-mysql-binlogs.timer")
    yield
    run(lab, DB, "systemctl reset-failed 'fleetops-*' || true")


def backup(lab, *args: str) -> list[dict]:
    proc = fleetops("backup", *args, "-i", str(lab.inventory), "--json")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return json.loads(proc.stdout)[0]["results"]


def host_time(lab) -> str:
    return run_ok(lab, DB, "date '+%Y-%m-%d %H:%M:%S'").strip()


def test_point_in_time_restore_brings_back_rows_and_the_dropped_table(db, lab):
    sql(lab, "DROP TABLE IF EXISTS shop.ledger; CREATE TABLE shop.ledger (id INT PRIMARY KEY, note VARCHAR(20))")
    backup(lab, "run", "--limit", DB)
    sql(lab, "INSERT INTO shop.ledger VALUES (1, 't1')")
    time.sleep(1.1)
    sql(lab, "INSERT INTO shop.ledger VALUES (2, 't2')")
    time.sleep(1.1)
    between = host_time(lab)  # after t2, before t3
    time.sleep(1.1)
    sql(lab, "DROP TABLE shop.ledger")  # t3
    started = time.monotonic()
    results = backup(lab, "restore", "--limit", DB, "--to", between, "--yes")
    took = time.monotonic() - started
    assert sql(lab, "SELECT id, note FROM shop.ledger ORDER BY id") == "1\tt1\n2\tt2"
    assert any(line.get("point_in_time") for line in results)
    seconds = next(line["restore_seconds"] for line in results if "restore_seconds" in line)
    print(f"point-in-time restore: {took:.1f} s end to end, {seconds} s on the host")  # the notes' figure

    # the newest DROP found by a search of the binlogs: everything before it comes back
    sql(lab, "INSERT INTO shop.ledger VALUES (3, 't4')")
    sql(lab, "DROP TABLE shop.ledger")
    results = backup(lab, "restore", "--limit", DB, "--before-statement", r"DROP TABLE .*ledger", "--yes")
    assert sql(lab, "SELECT COUNT(*) FROM shop.ledger") == "3"
    assert "DROP TABLE `shop`.`ledger`" in next(line["stop_before"] for line in results if "stop_before" in line)


def test_verify_proves_point_in_time_recovery(db, lab):
    result = backup(lab, "verify", "--limit", DB)[-1]
    assert result["status"] == "ok", result
    marks = sql(lab, "SELECT COUNT(*) FROM fleetops_pitr.marks")
    assert int(marks) >= 2  # the two writes it replayed to between
    # a copied binlog that goes missing breaks the chain, and verify says so
    name = run_ok(lab, DB, f"ls {DEST}/binlogs | grep -v SUMS | tail -n 2 | head -n 1").strip()
    run_ok(lab, DB, f"mv {DEST}/binlogs/{name} /root/{name}")
    try:
        proc = fleetops("backup", "verify", "-i", str(lab.inventory), "--limit", DB, "--json")
        assert proc.returncode == 1
        detail = json.loads(proc.stdout)[0]["results"][-1]["detail"]
        assert "chain broken" in detail or name in detail, detail
    finally:
        run_ok(lab, DB, f"mv /root/{name} {DEST}/binlogs/{name}")
    assert backup(lab, "verify", "--limit", DB)[-1]["status"] == "ok"
    # each drill is in the check history: ok -> critical (the broken chain) -> ok
    proc = fleetops("check", "history", "--host", DB, "--check", "backup:drill", "--json")
    changes = [(c["from"], c["to"]) for c in json.loads(proc.stdout)]
    assert changes[-2:] == [("ok", "critical"), ("critical", "ok")], changes


def test_restore_from_the_backup_host_when_the_local_copies_are_gone(db, lab):
    sql(lab, "CREATE TABLE IF NOT EXISTS shop.kept (id INT PRIMARY KEY); REPLACE INTO shop.kept VALUES (7)")
    made = backup(lab, "run", "--limit", DB)[-1]["id"]
    on_store = backup(lab, "list", "--limit", DB, "--store")
    assert made in [item["id"] for item in on_store] and all(item["where"] == "store" for item in on_store)
    run_ok(lab, DB, f"rm -rf {DEST}")
    sql(lab, "DROP TABLE shop.kept")
    results = backup(lab, "restore", "--limit", DB, "--backup", made, "--yes")
    assert {"fetched": made, "source": "store"} in results
    assert sql(lab, "SELECT id FROM shop.kept") == "7"
    listed = backup(lab, "list", "--limit", DB)
    assert made in [item["id"] for item in listed] and all(item["checksums_ok"] for item in listed)


def test_the_database_hosts_key_cannot_delete_or_overwrite_copies(db, lab):
    store_address = lab.load_state()["hosts"][STORE]["address"]
    before = run_ok(lab, STORE, "find /srv/fleetops-backups -type f | sort | xargs sha256sum")
    ship = SHIP.format(address=store_address)
    first = before.split()[1]
    backup_id, name = first.split("/")[-2], first.split("/")[-1]
    attempts = [
        f"{ship} rm -rf /srv/fleetops-backups",
        f"{ship} 'find /srv -delete'",
        f"echo forged | {ship} put mysql {backup_id} {name} $(echo forged | sha256sum | cut -d' ' -f1)",
        f"{ship} -s sftp </dev/null",
        f"scp -i /etc/fleetops/backup-ship/id_ed25519 -o BatchMode=yes -o UserKnownHostsFile=/etc/fleetops/backup-ship/known_hosts /etc/hostname fleetops-store@{store_address}:/srv/fleetops-backups/x",
    ]
    for attempt in attempts:
        code, out, err = run(lab, DB, attempt)
        assert code != 0, (attempt, out, err)
    after = run_ok(lab, STORE, "find /srv/fleetops-backups -type f | sort | xargs sha256sum")
    assert after == before  # every copy still there, byte for byte
    # the account's only door is the forced command, with restrict
    keys = run_ok(lab, STORE, "cat /var/lib/fleetops-store/.ssh/authorized_keys")
    assert f'restrict,command="/usr/local/sbin/fleetops-backup store-serve {DB}"' in keys


@pytest.fixture(scope="module")
def edge_backups(edge, lab, tmp_path_factory):
    """The edge app on e2e1 with app_backup, its copies kept on e2e2."""
    inventory = inventory_with(
        tmp_path_factory.mktemp("appbackup"), lab, "gateway", 'app_backup = {"apps": ["edge"]}\nbackup_store = "e2e2"'
    )
    proc = fleetops("deploy", str(REPO / "deploys/backup.py"), "-i", str(inventory), "--limit", GATEWAY, "--limit", DB,
                    "--yes", "--json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    again = fleetops("deploy", str(REPO / "deploys/backup.py"), "-i", str(inventory), "--limit", GATEWAY, "--limit", DB,
                     "--yes", "--json")  # fmt: skip
    assert json.loads(again.stdout)["summary"]["changed"] == 0  # converges
    return inventory


def test_an_edge_app_restore_brings_back_its_config_and_model(edge_backups, lab):
    inventory = edge_backups
    files = "/etc/fleetops-edge/config.json /opt/fleetops-edge/models/current/model.onnx"
    wanted = run_ok(lab, GATEWAY, f"sha256sum {files}; readlink /opt/fleetops-edge/models/current")
    proc = fleetops("backup", "run", "--app", "edge", "-i", str(inventory), "--limit", GATEWAY, "--json")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    made = json.loads(proc.stdout)[0]["results"][-1]["id"]
    # break it: another config, the model gone, and the local backups gone too
    run_ok(lab, GATEWAY, "sed -i 's/0.6/0.9/' /etc/fleetops-edge/config.json && "
           "rm -rf \"$(readlink -f /opt/fleetops-edge/models/current)\" && rm -rf /var/backups/fleetops-apps")  # fmt: skip
    assert run(lab, GATEWAY, f"sha256sum {files}")[0] != 0
    proc = fleetops("backup", "restore", "--app", "edge", "--latest", "--yes", "-i", str(inventory), "--limit",
                    GATEWAY, "--json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr + proc.stdout
    results = json.loads(proc.stdout)[0]["results"]
    assert {"fetched": made, "source": "store"} in results
    assert run_ok(lab, GATEWAY, f"sha256sum {files}; readlink /opt/fleetops-edge/models/current") == wanted
    deadline = time.monotonic() + 60
    while run(lab, GATEWAY, "systemctl is-active fleetops-edge")[0] != 0 and time.monotonic() < deadline:
        time.sleep(1)
    assert run(lab, GATEWAY, "systemctl is-active fleetops-edge")[0] == 0
