"""Benchmark: the same converge through fleetops, stock pyinfra and ansible-core, as ratios.

Work: K directories and K small files per host (first converge creates them, later runs change
nothing, the common case in ops). The bench brings up its own lab (``bench``), converges once with
each tool so every tool measures an idempotent re-run on identical state, then times R re-runs per
tool and reports the median wall time and the ratio fleetops / other.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/deploy_bench.py --hosts 3 --items 20 --repeat 3 [--json out.json]

Needs root (lab). Results are printed as a table and written as JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fleetops.lab.fleet import Lab, free_subnet
from fleetops.lab.spec import generated_spec

BIN = Path(sys.executable).parent

PYINFRA_DEPLOY = """
from io import StringIO
from pyinfra.operations import files
for i in range({items}):
    files.directory(name=f"dir {{i}}", path=f"/opt/bench/d{{i}}", mode="755")
    files.put(name=f"file {{i}}", src=StringIO(f"item {{i}}\\n"), dest=f"/opt/bench/d{{i}}/f.txt", mode="644")
"""

PLAYBOOK = """
- hosts: all
  gather_facts: false
  tasks:
    - name: dir
      ansible.builtin.file: {{ path: "/opt/bench/d{{{{ item }}}}", state: directory, mode: "0755" }}
      loop: "{{{{ range({items}) | list }}}}"
    - name: file
      ansible.builtin.copy: {{ content: "item {{{{ item }}}}\\n", dest: "/opt/bench/d{{{{ item }}}}/f.txt", mode: "0644" }}
      loop: "{{{{ range({items}) | list }}}}"
"""


def ansible_inventory(lab: Lab) -> str:
    lines = ["[all]"]
    for name, host in lab.load_state()["hosts"].items():
        lines.append(
            f"{name} ansible_host={host['address']} ansible_user=root "
            f"ansible_ssh_private_key_file={lab.key_file} ansible_python_interpreter=/usr/bin/python3"
        )
    lines.append("[all:vars]")
    lines.append(f"ansible_ssh_common_args='-o UserKnownHostsFile={lab.known_hosts} -o StrictHostKeyChecking=yes'")
    return "\n".join(lines) + "\n"


def timed(argv: list[str], cwd: Path, env: dict | None = None) -> float:
    started = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"bench: {' '.join(argv[:3])} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=3)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", dest="json_out", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="leave the bench lab running")
    args = parser.parse_args()

    if shutil.which("ansible-playbook", path=str(BIN)) is None:
        print("bench: ansible-core missing; pip install -e '.[bench]'", file=sys.stderr)
        return 3
    lab = Lab("bench")
    status = lab.up(generated_spec(args.hosts, "bench", free_subnet("bench")))
    if not status.healthy:
        print(f"bench: lab not healthy: {status}", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="fleetops-bench-"))
    try:
        (work / "deploy.py").write_text(PYINFRA_DEPLOY.format(items=args.items))
        (work / "playbook.yml").write_text(PLAYBOOK.format(items=args.items))
        (work / "hosts.ini").write_text(ansible_inventory(lab))
        tools = {
            "fleetops": [str(BIN / "fleetops"), "deploy", "deploy.py", "-i", str(lab.inventory), "-q", "--yes"],
            "pyinfra": [str(BIN / "pyinfra"), str(lab.inventory), "deploy.py", "-y"],
            "ansible": [str(BIN / "ansible-playbook"), "-i", "hosts.ini", "playbook.yml", "-f", str(args.hosts)],
        }
        env = {
            "PATH": f"{BIN}:/usr/bin:/bin",
            "ANSIBLE_HOST_KEY_CHECKING": "True",
            "FLEETOPS_RUNS_DIR": str(work / "runs"),
            "HOME": str(work),
        }
        first = {name: timed(argv, work, env) for name, argv in tools.items()}  # converge once each
        runs = {name: [timed(argv, work, env) for _ in range(args.repeat)] for name, argv in tools.items()}
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not args.keep:
            lab.down()

    median = {name: statistics.median(times) for name, times in runs.items()}
    result = {
        "work": f"{args.hosts} hosts x {2 * args.items} operations, idempotent re-run",
        "repeat": args.repeat,
        "first_converge_s": {k: round(v, 3) for k, v in first.items()},
        "rerun_median_s": {k: round(v, 3) for k, v in median.items()},
        "ratio_fleetops_vs_pyinfra": round(median["fleetops"] / median["pyinfra"], 3),
        "ratio_fleetops_vs_ansible": round(median["fleetops"] / median["ansible"], 3),
    }
    print(f"{result['work']}, median of {args.repeat}")
    print(f"{'tool':<10}{'first converge':>16}{'re-run':>10}{'fleetops/tool':>15}")
    for name in tools:
        print(f"{name:<10}{first[name]:>15.2f}s{median[name]:>9.2f}s{median['fleetops'] / median[name]:>15.2f}")
    out = args.json_out or Path(__file__).parent / "results" / f"deploy-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"json: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
