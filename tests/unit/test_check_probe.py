"""The remote probe script, run here on the controller exactly as a host runs it (python3 -)."""

import ast
import subprocess
import sys

from fleetops.checking.remote import build_script
from fleetops.checks.probe import PROBES


def run_probe(requests):
    proc = subprocess.run(
        [sys.executable, "-"], input=build_script(requests), capture_output=True, timeout=30, check=True
    )
    clock_line, results_line = proc.stdout.decode().splitlines()
    return ast.literal_eval(clock_line)["clock"], ast.literal_eval(results_line)["results"]


def test_every_op_runs_and_a_broken_probe_does_not_hide_the_others(tmp_path):
    target = tmp_path / "f.txt"
    target.write_text("hello world\n")
    requests = [
        {"id": "0", "op": "uptime"},
        {"id": "1", "op": "load"},
        {"id": "2", "op": "meminfo"},
        {"id": "3", "op": "filesystems", "args": {"paths": [str(tmp_path), "/nonexistent"]}},
        {"id": "4", "op": "file", "args": {"path": str(target), "sha256": True, "contains": "wor"}},
        {"id": "5", "op": "user", "args": {"name": "root"}},
        {"id": "6", "op": "group", "args": {"name": "root"}},
        {"id": "7", "op": "command", "args": {"command": "echo 'quoted; $HOME'", "timeout": 5}},
        {"id": "8", "op": "listening", "args": {"port": 1}},
        {"id": "9", "op": "process", "args": {"name": None, "pattern": "python"}},
        {"id": "10", "op": "file", "args": {"path": str(tmp_path / "missing")}},
        {"id": "11", "op": "no-such-op"},
    ]
    clock, results = run_probe(requests)
    assert clock > 0
    assert results["0"]["seconds"] > 0
    assert results["1"]["cpus"] >= 1
    assert results["2"]["mem_total"] > results["2"]["mem_available"] > 0
    fs = {entry["path"]: entry for entry in results["3"]["filesystems"]}
    assert fs[str(tmp_path)]["blocks"] > 0 and "error" in fs["/nonexistent"]
    assert results["4"]["contains"] is True and len(results["4"]["sha256"]) == 64
    assert results["5"]["exists"] and results["5"]["uid"] == 0
    assert results["6"]["exists"]
    assert results["7"]["exit"] == 0 and results["7"]["stdout"] == "quoted; $HOME\n"
    assert results["8"]["listening"] is False
    assert results["9"]["count"] >= 1
    assert results["10"] == {"exists": False, "_seconds": results["10"]["_seconds"]}
    assert results["11"]["error"].startswith("KeyError")


def test_dpkg_status_parsing():
    from fleetops.checks.probe import dpkg_stanza

    status = (
        "Package: a\nStatus: install ok installed\nVersion: 1.0\n\n"
        "Package: nginx\nStatus: deinstall ok config-files\nVersion: 1.22\n"
        "Description: x\n more\n\nPackage: nginx-common\nStatus: install ok installed\n"
        "Version: 1.22.1-9\n"
    )
    assert dpkg_stanza(status, "a")["Version"] == "1.0"
    assert dpkg_stanza(status, "nginx")["Status"] == "deinstall ok config-files"
    assert dpkg_stanza(status, "nginx-common")["Version"] == "1.22.1-9"
    assert dpkg_stanza(status, "ngin") is None


def test_the_script_embeds_requests_as_data_not_code():
    script = build_script([{"id": "0", "op": "command", "args": {"command": '"); import os; os._exit(9) #'}}])
    proc = subprocess.run([sys.executable, "-"], input=script, capture_output=True, timeout=30)
    assert proc.returncode == 0
    assert set(PROBES) >= {
        "uptime",
        "load",
        "meminfo",
        "filesystems",
        "service",
        "process",
        "listening",
        "file",
        "package",
        "user",
        "group",
        "command",
        "dns",
    }
