"""SSH helpers for end-to-end assertions (host keys checked against the lab's known_hosts)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from fleetops import sshutil
from fleetops.lab.fleet import Lab


def address(lab: Lab, host: str) -> str:
    return lab.load_state()["hosts"][host]["address"]


def run(lab: Lab, host: str, command: str, user: str = "root") -> tuple[int, str, str]:
    client = sshutil.connect(address(lab, host), user=user, key_file=lab.key_file, known_hosts=lab.known_hosts)
    try:
        return sshutil.exec_command(client, command)
    finally:
        client.close()


def run_ok(lab: Lab, host: str, command: str) -> str:
    """``command`` as root on a lab host; its stdout, the test failing when it exits non-zero."""
    code, out, err = run(lab, host, command)
    assert code == 0, f"{host}: {command}: exit {code}: {err}"
    return out


BIN = Path(sys.executable).parent
GROUP_DATA = Path(__file__).parent / "group_data"


def inventory_with(tmp_path: Path, lab: Lab, group: str, extra: str) -> Path:
    """A copy of the lab inventory whose group data for ``group`` has ``extra`` appended."""
    shutil.copy(lab.inventory, tmp_path / "inventory.py")
    shutil.copytree(GROUP_DATA, tmp_path / "group_data")
    with open(tmp_path / "group_data" / f"{group}.py", "a") as handle:
        handle.write("\n" + extra + "\n")
    return tmp_path / "inventory.py"


def fleetops(*args: str, runs: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the real console script (its own process, as users run it)."""
    env = {**os.environ, **({"FLEETOPS_RUNS_DIR": str(runs)} if runs else {})}
    return subprocess.run([str(BIN / "fleetops"), *args], capture_output=True, text=True, timeout=timeout, env=env)
