"""Benchmark: a fleetops backup against plain `mysqldump | zstd` on the same data, as a ratio.

The bench brings up a one-host lab (``bkbench``), converges the MySQL role with a backup policy,
fills a table with N rows (default 2 million, a few hundred MB), then times R runs of each:

* fleetops: ``systemctl start fleetops-mysql-backup.service`` (table statistics, consistent
  dump, zstd, sha256, manifest, atomic rename, retention);
* plain: ``mysqldump --single-transaction DB | zstd -q -T0 -3 > file`` on the same host.

    .venv/bin/python bench/backup_bench.py --rows 2000000 --repeat 3 [--json out.json] [--keep]

Needs root (lab). Prints a table; writes JSON to bench/results/.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from fleetops import sshutil  # noqa: E402
from fleetops.lab.fleet import Lab, free_subnet  # noqa: E402
from fleetops.lab.spec import parse_spec  # noqa: E402

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[1]
GROUP_DATA = """
mysql = {
    "databases": [{"name": "bench"}],
    "backup": {"schedule": "*-*-01 00:00:00", "password": "bench-backup-password",
               "keep_last": 2, "keep_daily": 0, "keep_weekly": 0, "keep_monthly": 0},
}
"""


def remote(lab: Lab, command: str) -> float:
    address = lab.load_state()["hosts"]["bkbench1"]["address"]
    client = sshutil.connect(address, user="root", key_file=lab.key_file, known_hosts=lab.known_hosts)
    try:
        started = time.perf_counter()
        code, out, err = sshutil.exec_command(client, command, timeout=3600)
        seconds = time.perf_counter() - started
    finally:
        client.close()
    if code != 0:
        raise SystemExit(f"bench: {command[:60]} failed: {err[-2000:]}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", dest="json_out", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="leave the bench lab running")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="fleetops-backup-bench-"))
    (work / "group_data").mkdir()
    (work / "group_data" / "db.py").write_text(GROUP_DATA)
    spec = parse_spec(
        {
            "name": "bkbench",
            "subnet": free_subnet("bkbench"),
            "group_data": "group_data",
            "hosts": [{"name": "bkbench1", "groups": ["db"]}],
        },
        "bench",
        work,
    )
    lab = Lab("bkbench")
    try:
        if not lab.up(spec).healthy:
            raise SystemExit("bench: lab not healthy")
        proc = subprocess.run(
            [str(BIN / "fleetops"), "deploy", str(REPO / "deploys/mysql.py"), "-i", str(lab.inventory), "-q", "--yes"],
            capture_output=True,
            text=True,
            env={"PATH": f"{BIN}:/usr/bin:/bin", "FLEETOPS_RUNS_DIR": str(work / "runs")},
        )
        if proc.returncode != 0:
            raise SystemExit(f"bench: deploy failed: {proc.stderr[-2000:]}")
        remote(
            lab,
            "mysql -e 'DROP TABLE IF EXISTS bench.rows; CREATE TABLE bench.rows (id INT PRIMARY KEY "
            "AUTO_INCREMENT, customer INT, amount DECIMAL(10,2), note VARCHAR(120), created DATETIME)'",
        )
        remote(
            lab,
            f'mysql -e "INSERT INTO bench.rows (customer, amount, note, created) SELECT seq % 9973, '
            f"seq * 0.37, CONCAT('order ', seq, ' ', MD5(seq)), NOW() - INTERVAL seq SECOND "
            f'FROM bench.seq_1_to_{args.rows}"',
        )
        size = remote_size(lab)
        commands = {
            "fleetops backup": "systemctl start fleetops-mysql-backup.service",
            "mysqldump | zstd": "mysqldump --single-transaction --quick bench | zstd -q -T0 -3 > /root/plain.sql.zst",
        }
        for command in commands.values():  # warm the buffer pool and page cache once
            remote(lab, command)
        times = {name: [remote(lab, command) for _ in range(args.repeat)] for name, command in commands.items()}
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not args.keep:
            lab.down()
    median = {name: statistics.median(values) for name, values in times.items()}
    ratio = median["fleetops backup"] / median["mysqldump | zstd"]
    result = {
        "work": f"{args.rows} rows, {size / 1e6:.0f} MB of table data",
        "repeat": args.repeat,
        "median_s": {k: round(v, 3) for k, v in median.items()},
        "throughput_mb_s": {k: round(size / 1e6 / v, 1) for k, v in median.items()},
        "ratio_fleetops_vs_plain": round(ratio, 3),
    }
    print(f"{result['work']}, median of {args.repeat}")
    for name, value in median.items():
        print(f"{name:<20}{value:>8.2f}s{size / 1e6 / value:>10.1f} MB/s")
    print(f"fleetops / plain: {ratio:.2f}")
    out = args.json_out or Path(__file__).parent / "results" / f"backup-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"json: {out}")
    return 0


def remote_size(lab: Lab) -> int:
    address = lab.load_state()["hosts"]["bkbench1"]["address"]
    client = sshutil.connect(address, user="root", key_file=lab.key_file, known_hosts=lab.known_hosts)
    try:
        sshutil.exec_command(client, "mysql -N -e 'ANALYZE TABLE bench.rows' >/dev/null")  # fresh stats
        _code, out, _err = sshutil.exec_command(
            client,
            'mysql -N -e "SELECT data_length + index_length '
            "FROM information_schema.tables WHERE table_schema='bench'\"",
        )
    finally:
        client.close()
    return int(out.split()[0])


if __name__ == "__main__":
    sys.exit(main())
