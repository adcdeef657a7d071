"""The MySQL role and its backups on a real MariaDB (e2e2, group `db`).

Converge twice (password changes included), a timer-made backup, restore brings a deleted row
back, verify passes on a good backup and fails on corrupted ones, an interrupted backup never
counts, and canary passwords never show up in logs, run records or the host's process list.
"""

from __future__ import annotations

import json
import threading
import time

import pytest

from fleetops.paths import runs_dir
from fleetops.runner.record import validate
from tests.e2e.conftest import REPO
from tests.e2e.group_data.db import CANARY_BACKUP_PASSWORD, CANARY_DB_PASSWORD
from tests.e2e.helpers import fleetops, inventory_with, run

pytestmark = pytest.mark.lab
MYSQL = REPO / "deploys/mysql.py"
HOST = "e2e2"
CANARIES = (CANARY_DB_PASSWORD, CANARY_BACKUP_PASSWORD)
DEST = "/var/backups/fleetops-mysql"


def sql(lab, statement: str) -> str:
    code, out, err = run(lab, HOST, f"mysql -N -B -e {json.dumps(statement)}")
    assert code == 0, err
    return out.strip()


@pytest.fixture(scope="module")
def db(converged, deploy, lab):
    """MariaDB converged at the highest verbosity; returns (record, stderr) of that run."""
    code, record, err = deploy(MYSQL, "-vvv")
    assert code == 0, err[-3000:]
    sql(lab, "CREATE TABLE IF NOT EXISTS shop.items (id INT PRIMARY KEY, name VARCHAR(40))")
    sql(lab, "REPLACE INTO shop.items VALUES (1, 'apple'), (2, 'pear'), (3, 'plum')")
    return record, err


def backup_ids(lab) -> list[str]:
    code, out, err = run(lab, HOST, "fleetops-backup list mysql")
    assert code == 0, err
    return [json.loads(line)["id"] for line in out.splitlines()]


def test_converges_and_is_secured(db, lab):
    record, _ = db
    validate(record)
    assert record["hosts"][HOST]["status"] == "changed"
    assert sql(lab, "SELECT COUNT(*) FROM mysql.user WHERE User=''") == "0"
    assert sql(lab, "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name='test'") == "0"
    assert sql(lab, "SELECT @@bind_address") == "127.0.0.1"
    grants = sql(lab, "SHOW GRANTS FOR 'report'@'localhost'")
    assert "GRANT SELECT, SHOW VIEW ON `shop`.* TO `report`@`localhost`" in grants
    # the backup account works through its 0600 option file, and only root can read that file
    code, out, _ = run(
        lab,
        HOST,
        "stat -c '%a %U' /etc/fleetops/mysql-backup.cnf && "
        "mysql --defaults-extra-file=/etc/fleetops/mysql-backup.cnf -N -e 'SELECT CURRENT_USER()'",
    )
    assert code == 0 and out.split() == ["600", "root", "fleetops_backup@localhost"]


def test_second_converge_and_dry_run_change_nothing(db, deploy):
    code, record, err = deploy(MYSQL)
    assert code == 0, err
    assert record["summary"]["changed"] == 0, [
        op["name"] for op in record["hosts"][HOST]["operations"] if op["changed"]
    ]
    code, record, err = deploy(MYSQL, "--dry")
    assert code == 0 and record["status"] == "ok"


def test_password_change_converges_once(db, lab, tmp_path):
    changed = inventory_with(tmp_path, lab, "db", 'mysql["users"][1]["password"] = "report-password-new"')
    proc = fleetops("deploy", str(MYSQL), "-i", str(changed), "--json", runs=tmp_path / "runs")
    assert proc.returncode == 0, proc.stderr
    names = [
        op["name"].split(" | ")[-1] for op in json.loads(proc.stdout)["hosts"][HOST]["operations"] if op["changed"]
    ]
    assert names == ["Password of database user report@localhost"]
    proc = fleetops("deploy", str(MYSQL), "-i", str(changed), "--json", runs=tmp_path / "runs")
    assert json.loads(proc.stdout)["summary"]["changed"] == 0
    proc = fleetops("deploy", str(MYSQL), "-i", str(lab.inventory), "--json", runs=tmp_path / "runs")
    assert proc.returncode == 0  # back to the original password for the other tests


def test_timer_makes_backups(db, lab):
    deadline = time.monotonic() + 150
    while not backup_ids(lab) and time.monotonic() < deadline:
        time.sleep(3)
    assert backup_ids(lab), "the minutely timer made no backup within 150 s"
    code, out, _ = run(lab, HOST, "systemctl show fleetops-mysql-backup.timer -p LastTriggerUSec --value")
    assert out.strip() not in ("", "n/a", "0")


def test_restore_brings_back_a_deleted_row(db, lab, isolated_state):
    proc = fleetops("backup", "run", "-i", str(lab.inventory), "--limit", HOST, "--json")
    assert proc.returncode == 0, proc.stderr
    backup_id = json.loads(proc.stdout)[0]["results"][-1]["id"]
    sql(lab, "DELETE FROM shop.items WHERE id = 2")
    assert sql(lab, "SELECT COUNT(*) FROM shop.items") == "2"
    proc = fleetops(
        "backup",
        "restore",
        "-i",
        str(lab.inventory),
        "--limit",
        HOST,
        "--backup",
        backup_id,
        "--database",
        "shop",
        "--yes",
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert sql(lab, "SELECT name FROM shop.items WHERE id = 2") == "pear"
    # without --yes and without a terminal, restore refuses and changes nothing
    proc = fleetops("backup", "restore", "-i", str(lab.inventory), "--latest")
    assert proc.returncode == 2 and "pass --yes" in proc.stderr


def new_backup(lab) -> str:
    proc = fleetops("backup", "run", "-i", str(lab.inventory), "--limit", HOST, "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)[0]["results"][-1]["id"]


def verify(lab, backup_id: str) -> tuple[int, dict]:
    proc = fleetops("backup", "verify", "-i", str(lab.inventory), "--limit", HOST, "--backup", backup_id, "--json")
    return proc.returncode, json.loads(proc.stdout)[0]["results"][-1]


def test_verify_passes_on_a_good_backup_and_fails_on_corrupted_ones(db, lab, isolated_state):
    good = new_backup(lab)
    code, result = verify(lab, good)
    assert code == 0 and result["status"] == "ok"
    proc = fleetops("check", "-i", str(lab.inventory), "--suite", "db", "--limit", HOST, "--json")
    assert proc.returncode == 0, proc.stdout[-2000:]

    # 1. bytes flipped in a dump: the checksums catch it
    bad = new_backup(lab)
    assert (
        run(lab, HOST, f"printf 'XXXX' | dd of={DEST}/{bad}/shop.sql.zst bs=1 seek=20 conv=notrunc status=none")[0] == 0
    )
    code, result = verify(lab, bad)
    assert code == 1 and result["status"] == "failed" and "checksums" in result["detail"]

    # 2. a row removed from the dump and the checksums rewritten: the restore comparison catches it
    forged = new_backup(lab)
    code, _, err = run(
        lab,
        HOST,
        f"cd {DEST}/{forged} && zstd -q -d -c shop.sql.zst | "
        "sed 's/(2,.pear.),//' | zstd -q -o shop.tmp && mv shop.tmp shop.sql.zst && "
        "sha256sum shop.sql.zst shop.stats manifest.json > SHA256SUMS",
    )
    assert code == 0, err
    code, result = verify(lab, forged)
    assert code == 1 and "differ" in result["detail"], result
    proc = fleetops("check", "-i", str(lab.inventory), "--suite", "db", "--limit", HOST, "--json")
    assert proc.returncode == 2
    statuses = {r["check"]: r["status"] for r in json.loads(proc.stdout)["results"]}
    assert statuses["backup:verified"] == "critical"
    run(lab, HOST, f"rm -rf {DEST}/{bad} {DEST}/{forged}")
    assert verify(lab, good)[0] == 0  # leave a good last verification for other tests


def test_interrupted_backup_never_counts(db, lab):
    sql(lab, "CREATE TABLE IF NOT EXISTS shop.big (id INT PRIMARY KEY AUTO_INCREMENT, pad CHAR(200))")
    if int(sql(lab, "SELECT COUNT(*) FROM shop.big")) == 0:
        sql(lab, "INSERT INTO shop.big (pad) SELECT REPEAT('x', 200) FROM shop.seq_1_to_300000")
    run(lab, HOST, "systemctl stop fleetops-mysql-backup.timer")  # no timer run in between
    try:
        interrupt_a_backup(lab)
    finally:
        run(lab, HOST, "systemctl start fleetops-mysql-backup.timer")


def interrupt_a_backup(lab) -> None:
    before = backup_ids(lab)
    code, _, err = run(
        lab,
        HOST,
        "systemctl start --no-block fleetops-mysql-backup.service; "
        f"for i in $(seq 200); do ls -d {DEST}/.*.partial >/dev/null 2>&1 && break; sleep 0.05; done; "
        "systemctl kill --signal=KILL fleetops-mysql-backup.service; sleep 1; "
        f"ls -d {DEST}/.*.partial",
    )
    assert code == 0, err  # the partial directory was there when the run died
    assert backup_ids(lab) == before  # ... and it does not count as a backup
    after = new_backup(lab)
    assert after not in before
    code, out, _ = run(lab, HOST, f"ls -A {DEST} | grep -c partial || true")
    assert out.strip() == "0"  # the next run cleaned the leftovers


def test_canaries_never_leak(db, lab):
    record, stderr = db
    for canary in CANARIES:
        assert canary not in stderr  # -vvv console output of the first converge
        assert canary not in json.dumps(record)
    seen: list[str] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            seen.append(run(lab, HOST, "ps -eo args")[1])

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        proc = fleetops("backup", "run", "-i", str(lab.inventory), "--limit", HOST)
    finally:
        stop.set()
        sampler.join()
    assert proc.returncode == 0
    assert any("mysqldump" in snapshot or "mariadb-dump" in snapshot for snapshot in seen), (
        "the process sampler never saw the dump running"
    )
    journal = run(lab, HOST, "journalctl -u fleetops-mysql-backup.service --no-pager -o cat")[1]
    for canary in CANARIES:
        assert not any(canary in snapshot for snapshot in seen)
        assert canary not in journal
        for path in runs_dir().glob("*.json"):  # every run record of the session
            assert canary not in path.read_text(), path
