"""The lab fleet itself: idempotent up, status, and a down that leaves nothing behind."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from fleetops.lab.fleet import Lab
from fleetops.lab.spec import generated_spec
from tests.e2e.helpers import run

pytestmark = pytest.mark.lab


def test_lab_up_again_changes_nothing(lab, spec):
    pids = {n: h["launcher_pid"] for n, h in lab.load_state()["hosts"].items()}
    status = lab.up(spec)
    assert status.healthy
    assert {h.action for h in status.hosts} == {"kept"}
    assert {n: h["launcher_pid"] for n, h in lab.load_state()["hosts"].items()} == pids


def test_hosts_are_real_systemd_machines_with_own_identity(lab):
    code, out, _ = run(lab, "e2e2", "cat /proc/1/comm; systemd-detect-virt; hostname -I; cat /etc/machine-id")
    comm, virt, address, machine_id = out.split("\n")[:4]
    assert (comm, virt) == ("systemd", "systemd-nspawn")
    assert address.strip() == "10.99.0.12"
    other = run(lab, "e2e1", "cat /etc/machine-id")[1].strip()
    assert machine_id != other
    keys = {run(lab, h, "cat /etc/ssh/ssh_host_ed25519_key.pub")[1].split()[1] for h in ("e2e1", "e2e2")}
    assert len(keys) == 2


def test_lab_down_leaves_nothing_behind(lab):
    """A separate one-host lab, so the session's fleet stays up."""
    spare = Lab("fodown")
    status = spare.up(generated_spec(1, "fodown", "10.98.0.0/24"))
    assert status.healthy
    host_dir = spare.host_dir("fodown1")
    spare.down()
    mounts = Path("/proc/mounts").read_text()
    assert str(host_dir) not in mounts
    assert subprocess.run(["ip", "link", "show", "fo-fodown"], capture_output=True).returncode != 0
    rules = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
    assert "fleetops-fodown" not in rules
    assert not any(
        Path(root, "fleetops", "fodown").exists() for root in ("/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified")
    )
    procs = subprocess.run(["pgrep", "-f", "fleetops.lab.launcher fodown"], capture_output=True)
    assert procs.returncode == 1
    assert not spare.dir.exists()
