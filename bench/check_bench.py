"""Benchmark: a `fleetops check` sweep against its floor and against pytest-testinfra.

Work: the same 10 checks on every host of a bench lab (default 50 hosts): uptime, load, memory,
disk and inodes of /, sshd active and enabled, port 22 listening, sshd_config mode, the
openssh-server package and the root user. Compared, as wall time of a whole-fleet sweep:

* floor: one plain SSH exec (``true``) per host, all hosts in parallel, same SSH library and
  the same connection settings; nothing with a fresh connection per host can be faster;
* fleetops: the check engine in-process (``fleetops.checking.engine.sweep``), and the whole
  ``fleetops check`` command (process start, inventory loading, outputs);
* testinfra: the same 10 checks as pytest-testinfra tests over its paramiko backend, run the
  way its docs show (one pytest process), and with pytest-xdist when installed.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/check_bench.py --hosts 50 --repeat 3 [--json out.json] [--keep]

Needs root (lab). Prints a table; writes JSON to bench/results/.
"""

from __future__ import annotations

# pyinfra's CLI package (which loads inventories) patches the standard library with gevent on
# import; it must happen before any thread starts, as in `fleetops check` itself.
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fleetops.checking import remote
from fleetops.checking.engine import HostWork, sweep
from fleetops.checking.plan import plan
from fleetops.checks.result import Status
from fleetops.checks.suite import load_suite
from fleetops.lab.fleet import Lab, free_subnet
from fleetops.lab.spec import generated_spec

BIN = Path(sys.executable).parent

SUITE = """
name: bench
checks:
  - {kind: uptime}
  - {kind: load, warn: 50, crit: 100}
  - {kind: memory}
  - {kind: disk, paths: [/], warn: 98, crit: 99}
  - {kind: inodes, paths: [/]}
  - {kind: service, unit: ssh}
  - {kind: port, port: 22}
  - {kind: file, path: /etc/ssh/sshd_config, mode: "0644"}
  - {kind: package, package: openssh-server}
  - {kind: user, user: root, shell: /bin/bash}
"""

TESTINFRA = '''
"""The bench suite as pytest-testinfra tests (one assertion set per fleetops check)."""


def test_uptime(host):
    assert float(host.file("/proc/uptime").content_string.split()[0]) > 0


def test_load(host):
    load1 = float(host.file("/proc/loadavg").content_string.split()[0])
    assert load1 / int(host.check_output("nproc")) < 100


def test_memory(host):
    info = dict(line.split(":", 1) for line in host.file("/proc/meminfo").content_string.splitlines())
    total, available = (int(info[key].split()[0]) for key in ("MemTotal", "MemAvailable"))
    assert 100 * (total - available) / total < 95


def test_disk(host):
    assert int(host.check_output("df -P / | tail -1").split()[4].rstrip("%")) < 99


def test_inodes(host):
    assert int(host.check_output("df -Pi / | tail -1").split()[4].rstrip("%")) < 90


def test_sshd(host):
    service = host.service("ssh")
    assert service.is_running and service.is_enabled


def test_port(host):
    assert host.socket("tcp://0.0.0.0:22").is_listening


def test_file(host):
    assert host.file("/etc/ssh/sshd_config").mode == 0o644


def test_package(host):
    assert host.package("openssh-server").is_installed


def test_user(host):
    assert host.user("root").shell == "/bin/bash"
'''


def floor(work: list[HostWork], timeout: float) -> float:
    """Wall time of one plain exec per host, all hosts at once (threads, like the engine)."""

    def one(item: HostWork) -> None:
        client = item.target.connect(timeout=timeout)
        try:
            _in, out, _err = client.exec_command("true", timeout=timeout)
            out.read()
            if out.channel.recv_exit_status() != 0:
                raise RuntimeError(f"{item.target.name}: true failed")
        finally:
            client.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=min(100, len(work))) as pool:
        list(pool.map(one, work))
    return time.perf_counter() - started


PROBE_CPU_MS: list[float] = []


def engine(work: list[HostWork], timeout: float) -> float:
    started = time.perf_counter()
    run = sweep(work, suite="bench", inventory="bench", timeout=timeout)
    seconds = time.perf_counter() - started
    bad = [r for r in run.results if r.status != Status.OK]
    if bad:
        raise SystemExit(
            f"bench: checks not OK, results would not be comparable: {bad[0].host} {bad[0].check}: {bad[0].message}"
        )
    PROBE_CPU_MS.extend(r.details["probe_cpu_ms"] for r in run.results if r.check == "reachable")
    return seconds


def transport_only(work: list[HostWork], timeout: float) -> float:
    """The engine with the host side reduced to reading the script and exiting: its overhead
    over the floor is fleetops' own (threads, script transfer, parsing), not the probes' work."""
    saved = remote.REMOTE_COMMAND
    remote.REMOTE_COMMAND = "cat >/dev/null; echo \"{'clock': 0}\"; echo \"{'results': {}}\""
    try:
        started = time.perf_counter()
        sweep(work, suite="bench", inventory="bench", timeout=timeout)
        return time.perf_counter() - started
    finally:
        remote.REMOTE_COMMAND = saved


def timed(argv: list[str], cwd: Path, env: dict, ok_codes: tuple[int, ...] = (0,)) -> float:
    started = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    if proc.returncode not in ok_codes:
        raise SystemExit(
            f"bench: {' '.join(argv[:4])} failed ({proc.returncode}):\n{(proc.stdout + proc.stderr)[-3000:]}"
        )
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--json", dest="json_out", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="leave the bench lab running")
    args = parser.parse_args()
    if importlib.util.find_spec("testinfra") is None:
        print("bench: pytest-testinfra missing; pip install -e '.[bench]'", file=sys.stderr)
        return 3
    xdist = importlib.util.find_spec("xdist") is not None

    lab = Lab("chkbench")
    status = lab.up(generated_spec(args.hosts, "chkbench", free_subnet("chkbench")))
    if not status.healthy:
        print(f"bench: lab not healthy: {status}", file=sys.stderr)
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="fleetops-check-bench-"))
    try:
        (tmp / "bench.yml").write_text(SUITE)
        (tmp / "test_bench.py").write_text(TESTINFRA)
        (tmp / "ssh_config").write_text(f"Host *\n  User root\n  IdentityFile {lab.key_file}\n")
        work = plan(lab.inventory, load_suite(str(tmp / "bench.yml")))
        addresses = [item.target.hostname for item in work]
        hosts_arg = ",".join(f"paramiko://root@{address}" for address in addresses)
        env = {**os.environ, "PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(tmp), "FLEETOPS_STATE_DIR": str(tmp / "state")}
        testinfra = [
            str(BIN / "python"),
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--hosts={hosts_arg}",
            f"--ssh-config={tmp / 'ssh_config'}",
            "test_bench.py",
        ]
        cli = [
            str(BIN / "fleetops"),
            "check",
            "-i",
            str(lab.inventory),
            "--suite",
            str(tmp / "bench.yml"),
            "-q",
            "--no-history",
            "--timeout",
            str(args.timeout),
        ]
        measures = {
            "floor (1 exec/host)": lambda: floor(work, args.timeout),
            "fleetops engine": lambda: engine(work, args.timeout),
            "engine, no-op host side": lambda: transport_only(work, args.timeout),
            "fleetops check (CLI)": lambda: timed(cli, tmp, env),
            "testinfra": lambda: timed(testinfra, tmp, env),
        }
        if xdist:
            workers = str(2 * (os.cpu_count() or 1))
            measures[f"testinfra -n {workers}"] = lambda: timed(testinfra + ["-n", workers], tmp, env)
        for measure in measures.values():  # warm caches (page cache, host keys) once each
            measure()
        times = {name: [measure() for _ in range(args.repeat)] for name, measure in measures.items()}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if not args.keep:
            lab.down()

    median = {name: statistics.median(values) for name, values in times.items()}
    base = median["fleetops engine"]
    result = {
        "work": f"{args.hosts} hosts x 10 checks, whole-fleet sweep",
        "repeat": args.repeat,
        "cpus": os.cpu_count(),
        "median_s": {name: round(value, 3) for name, value in median.items()},
        "ratio_engine_vs_floor": round(base / median["floor (1 exec/host)"], 3),
        "ratio_transport_vs_floor": round(median["engine, no-op host side"] / median["floor (1 exec/host)"], 3),
        "probe_cpu_ms_per_host_median": statistics.median(PROBE_CPU_MS),
        "ratio_cli_vs_floor": round(median["fleetops check (CLI)"] / median["floor (1 exec/host)"], 3),
        "ratio_engine_vs_testinfra": round(base / median["testinfra"], 3),
        "ratio_cli_vs_testinfra": round(median["fleetops check (CLI)"] / median["testinfra"], 3),
    }
    print(
        f"{result['work']}, median of {args.repeat} ({result['cpus']} CPUs shared by controller "
        f"and hosts); probe CPU per host {result['probe_cpu_ms_per_host_median']:.0f} ms"
    )
    print(f"{'':<24}{'median':>10}{'engine/this':>14}")
    for name, value in median.items():
        print(f"{name:<24}{value:>9.2f}s{base / value:>14.2f}")
    out = args.json_out or Path(__file__).parent / "results" / f"check-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"json: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
