"""`fleetops check` against the real fleet: healthy, then broken in the ways ops see daily.

Each scenario asserts the exit code (Nagios contract) and which checks fail, from the JSON
output; the other formats are validated by real consumers (junitparser, promtool, Chromium).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from junitparser import JUnitXml

from tests.e2e.conftest import HERE
from tests.e2e.helpers import run

pytestmark = pytest.mark.lab
BIN = Path(sys.executable).parent
SUITE = str(HERE / "suites/e2e.yml")
SCRATCH_MB = 10


def fleetops_check(lab, *args: str, timeout: float = 120) -> tuple[int, dict, str]:
    """Run the real console script; returns (exit code, JSON results, stderr)."""
    proc = subprocess.run(
        [str(BIN / "fleetops"), "check", "-i", str(lab.inventory), "--suite", SUITE, "--json", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ},
    )
    data = json.loads(proc.stdout) if proc.stdout.strip().startswith("{") else {}
    return proc.returncode, data, proc.stderr


def failing(data: dict) -> dict[tuple[str, str], str]:
    return {(r["host"], r["check"]): r["status"] for r in data["results"] if r["status"] != "ok"}


@pytest.fixture(scope="module")
def prepared(lab, converged):
    """Baseline applied; a scratch mount point everywhere, a web server on e2e1, a user on e2e3."""
    for host in ("e2e1", "e2e2", "e2e3"):
        assert run(lab, host, "mkdir -p /srv/scratch")[0] == 0
    code, _, err = run(
        lab,
        "e2e1",
        "mkdir -p /srv/e2e-web && echo 'fleetops e2e' > /srv/e2e-web/index.html && "
        "systemd-run --unit=e2e-web --property=Restart=no "
        "python3 -m http.server 8090 --directory /srv/e2e-web && sleep 1",
    )
    assert code == 0, err
    assert run(lab, "e2e3", "id e2echeck || useradd e2echeck")[0] == 0
    yield lab
    run(lab, "e2e1", "systemctl stop e2e-web; true")
    run(lab, "e2e2", "umount /srv/scratch; true")
    run(lab, "e2e3", "userdel e2echeck; true")


def test_healthy_fleet_passes_and_every_output_validates(prepared, tmp_path, isolated_state):
    lab = prepared
    outputs = {"junit": tmp_path / "junit.xml", "prometheus": tmp_path / "fleet.prom", "html": tmp_path / "report.html"}
    code, data, err = fleetops_check(lab, *(arg for name, path in outputs.items() for arg in (f"--{name}", str(path))))
    assert code == 0, (failing(data), err)
    assert data["status"] == "ok" and data["exit_code"] == 0
    assert set(data["hosts"]) == {"e2e1", "e2e2", "e2e3"}
    by_host = {}
    for result in data["results"]:
        by_host.setdefault(result["host"], set()).add(result["check"])
    assert {"e2e-web-http", "port:8090", "service:e2e-web"} <= by_host["e2e1"]
    assert "user:e2echeck" in by_host["e2e3"] and "user:e2echeck" not in by_host["e2e1"]
    assert len(by_host["e2e2"]) == 18  # every shared check ran (plus reachable)
    values = {(r["host"], r["check"]): r["value"] for r in data["results"]}
    assert 0 < values[("e2e2", "disk:/,/srv/scratch")] < 80
    assert values[("e2e2", "uptime")] > 0 and values[("e2e1", "e2e-web-http")] > 0

    suites = {suite.name: suite for suite in JUnitXml.fromfile(str(outputs["junit"]))}
    assert set(suites) == {"e2e1", "e2e2", "e2e3"}
    assert sum(suite.tests for suite in suites.values()) == len(data["results"])
    assert all(suite.failures == 0 and suite.errors == 0 for suite in suites.values())
    promtool = shutil.which("promtool", path=str(BIN)) or shutil.which("promtool")
    assert promtool, "promtool missing (scripts/install-deps.sh installs it)"
    proc = subprocess.run(
        [promtool, "check", "metrics"], input=outputs["prometheus"].read_text(), capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'fleetops_host_status{host="e2e1"} 0.0' in outputs["prometheus"].read_text()
    assert "<!DOCTYPE html>" in outputs["html"].read_text()


def fill_scratch(lab, host: str, megabytes: float) -> None:
    code, _, err = run(
        lab,
        host,
        f"mountpoint -q /srv/scratch || mount -t tmpfs -o size={SCRATCH_MB}M "
        f"tmpfs /srv/scratch; rm -f /srv/scratch/fill; dd if=/dev/zero "
        f"of=/srv/scratch/fill bs=512K count={int(megabytes * 2)} status=none",
    )
    assert code == 0, err


def test_disk_between_warn_and_crit_is_a_warning(prepared, isolated_state):
    fill_scratch(prepared, "e2e2", 0.85 * SCRATCH_MB)  # warn at 80 %, crit at 90 %
    try:
        code, data, err = fleetops_check(prepared)
    finally:
        run(prepared, "e2e2", "rm -f /srv/scratch/fill")
    assert code == 1, (failing(data), err)
    assert failing(data) == {("e2e2", "disk:/,/srv/scratch"): "warning"}


def test_broken_fleet_fails_the_right_checks(prepared, tmp_path, isolated_state):
    lab = prepared
    code, data, err = fleetops_check(lab)  # a healthy run first, so history sees the change
    assert code == 0, (failing(data), err)
    fill_scratch(lab, "e2e2", SCRATCH_MB - 1)
    assert run(lab, "e2e1", "systemctl stop e2e-web")[0] == 0
    assert run(lab, "e2e3", "userdel e2echeck")[0] == 0
    html = tmp_path / "report.html"
    try:
        code, data, err = fleetops_check(lab, "--html", str(html))
        nagios = subprocess.run(
            [str(BIN / "fleetops"), "check", "-i", str(lab.inventory), "--suite", SUITE, "--nagios", "--no-history"],
            capture_output=True,
            text=True,
        )
    finally:
        run(lab, "e2e2", "rm -f /srv/scratch/fill")
        run(
            lab,
            "e2e1",
            "systemd-run --unit=e2e-web --property=Restart=no "
            "python3 -m http.server 8090 --directory /srv/e2e-web && sleep 1",
        )
        run(lab, "e2e3", "useradd e2echeck")
    assert code == 2, err
    assert failing(data) == {
        ("e2e1", "service:e2e-web"): "critical",
        ("e2e1", "port:8090"): "critical",
        ("e2e1", "e2e-web-http"): "critical",
        ("e2e2", "disk:/,/srv/scratch"): "critical",
        ("e2e3", "user:e2echeck"): "critical",
    }
    messages = {(r["host"], r["check"]): r["message"] for r in data["results"]}
    assert "/srv/scratch 9" in messages[("e2e2", "disk:/,/srv/scratch")]
    assert messages[("e2e3", "user:e2echeck")] == "user e2echeck does not exist"
    assert nagios.returncode == 2 and nagios.stdout.startswith("FLEETOPS CRITICAL - 5 critical")
    assert len(nagios.stdout.strip().splitlines()) == 1
    screenshot_shows_failing_host_first(html, tmp_path)

    # History saw every change: ok -> critical for each broken check.
    proc = subprocess.run(
        [str(BIN / "fleetops"), "check", "history", "--json"], capture_output=True, text=True, env={**os.environ}
    )
    changes = {(c["host"], c["check"], c["from"], c["to"]) for c in json.loads(proc.stdout)}
    assert ("e2e3", "user:e2echeck", "ok", "critical") in changes
    assert ("e2e1", "service:e2e-web", "ok", "critical") in changes


def screenshot_shows_failing_host_first(html: Path, tmp_path: Path) -> None:
    """Chromium renders the report; the first host row in the picture is red (critical)."""
    from PIL import Image

    chromium = shutil.which("chromium")
    assert chromium, "chromium missing (scripts/install-deps.sh installs it)"
    shot = tmp_path / "report.png"
    proc = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--force-device-scale-factor=1",
            "--window-size=1400,900",
            f"--screenshot={shot}",
            html.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shot.exists(), proc.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    colours = {
        (0xC6, 0x28, 0x28): "critical",
        (0x2E, 0x7D, 0x32): "ok",
        (0xF9, 0xA8, 0x25): "warning",
        (0x6A, 0x1B, 0x9A): "unknown",
    }
    # Walk down the host column (x = 30 px is inside the first column) and list row colours.
    rows: list[str] = []
    for y in range(120, image.height):
        status = colours.get(image.getpixel((30, y)))
        if status and (not rows or rows[-1] != status):
            rows.append(status)
    assert rows[:2] == ["critical", "critical"] or rows[0] == "critical", rows
    assert "ok" not in rows or rows.index("ok") > 0
    dom = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", html.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    first_row = dom.split('<tr data-host="', 1)[1].split('"', 1)[0]
    assert first_row in {"e2e1", "e2e2", "e2e3"}
    assert 'data-status="critical"' in dom.split('<tr data-host="', 1)[1].split(">", 1)[0]


def test_stopped_host_is_critical_and_does_not_stall_the_others(prepared, spec, isolated_state):
    lab = prepared
    os.kill(lab.load_state()["hosts"]["e2e3"]["launcher_pid"], signal.SIGTERM)
    try:
        deadline = time.monotonic() + 30
        while run_ok(lab, "e2e3") and time.monotonic() < deadline:
            time.sleep(0.5)
        started = time.monotonic()
        code, data, err = fleetops_check(lab, "--timeout", "5")
        elapsed = time.monotonic() - started
    finally:
        status = lab.up(spec)
        assert status.healthy
    assert code == 2, err
    assert elapsed < 60  # bounded by the per-host timeout, not by TCP retries
    results = {(r["host"], r["check"]): r for r in data["results"]}
    assert results[("e2e3", "reachable")]["status"] == "critical"
    assert results[("e2e3", "tcp:22")]["status"] == "critical"
    assert results[("e2e3", "disk:/,/srv/scratch")]["status"] == "unknown"
    assert "host unreachable" in results[("e2e3", "disk:/,/srv/scratch")]["message"]
    assert {host for (host, _check), r in results.items() if r["status"] != "ok"} == {"e2e3"}
    assert data["hosts"] == {"e2e1": "ok", "e2e2": "ok", "e2e3": "critical"}


def run_ok(lab, host: str) -> bool:
    try:
        return run(lab, host, "true")[0] == 0
    except Exception:  # noqa: BLE001 - the host is going away
        return False


def test_bad_suite_is_unknown_and_runs_nothing(lab, tmp_path, isolated_state):
    bad = tmp_path / "bad.yml"
    bad.write_text("checks:\n  - {kind: disk, warn: 95, crit: 90}\n")
    proc = subprocess.run(
        [str(BIN / "fleetops"), "check", "-i", str(lab.inventory), "--suite", str(bad)], capture_output=True, text=True
    )
    assert proc.returncode == 3
    assert (
        proc.stderr.strip().startswith("fleetops: error: suite ") and "crit (90) must be above warn (95)" in proc.stderr
    )
    assert not (isolated_state / "check-history.sqlite").exists()
