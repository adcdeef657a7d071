"""FTP and web roles on the real fleet: converge twice, checks pass, bad input never breaks service.

e2e1 is in group `web`, e2e3 in group `ftp` (tests/e2e/lab.yml); their group data mirrors the
default lab's (tests/e2e/group_data/web.py, ftp.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fleetops.runner.record import validate
from tests.e2e.conftest import REPO
from tests.e2e.helpers import fleetops, inventory_with, run

pytestmark = pytest.mark.lab
BIN = Path(sys.executable).parent
WEB, FTP = REPO / "deploys/web.py", REPO / "deploys/ftp.py"


@pytest.fixture(scope="module")
def services(converged, deploy):
    """web and ftp converged once; their run records."""
    records = {}
    for name, path in (("web", WEB), ("ftp", FTP)):
        code, record, err = deploy(path)
        assert code == 0, err
        records[name] = record
    return records


def fleetops_check(inventory: Path, suite: str) -> tuple[int, dict, str]:
    proc = subprocess.run(
        [str(BIN / "fleetops"), "check", "-i", str(inventory), "--suite", suite, "--json", "--no-history"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    data = json.loads(proc.stdout) if proc.stdout.startswith("{") else {}
    return proc.returncode, data, proc.stderr


def not_ok(data: dict) -> list[str]:
    return [f"{r['host']} {r['check']}: {r['message']}" for r in data.get("results", []) if r["status"] != "ok"]


def test_first_converge_installs_both_services(services):
    for name, host in (("web", "e2e1"), ("ftp", "e2e3")):
        record = services[name]
        validate(record)
        assert record["hosts"][host]["status"] == "changed"
        other = {"web": "e2e3", "ftp": "e2e1"}[name]
        assert record["hosts"][other]["changed"] == 0  # not in the group: nothing to do


@pytest.mark.parametrize("deploy_file", [WEB, FTP], ids=["web", "ftp"])
def test_second_converge_and_dry_run_change_nothing(services, deploy, deploy_file):
    code, record, err = deploy(deploy_file)
    assert code == 0, err
    assert record["summary"]["changed"] == 0, [
        (h, op["name"]) for h, r in record["hosts"].items() for op in r["operations"] if op["changed"]
    ]
    code, record, err = deploy(deploy_file, "--dry")
    assert code == 0, err  # no false "restart"/"reload" pending
    assert record["status"] == "ok"


def test_web_and_ftp_checks_pass(services, lab, isolated_state):
    for suite in ("web", "ftp"):
        code, data, err = fleetops_check(lab.inventory, suite)
        assert code == 0, (suite, not_ok(data), err)
        checked = {r["check"] for r in data["results"]}
        if suite == "ftp":
            assert {"ftp-login-chroot", "ftps-round-trip", "ftp-anonymous-refused"} <= checked
        else:
            assert {"site-lab", "site-lab-tls", "site-api-proxy", "api-upstream"} <= checked


def test_ftp_user_is_confined_and_cannot_log_in_over_ssh(services, lab):
    code, out, _ = run(lab, "e2e3", "getent passwd ftpuser; stat -c '%U %a' /srv/ftp/ftpuser /srv/ftp/ftpuser/upload")
    assert code == 0
    passwd, home, upload = out.strip().splitlines()
    assert passwd.endswith(":/srv/ftp/ftpuser:/usr/sbin/nologin")
    assert home == "root 750" and upload == "ftpuser 750"


def deploy_cli(inventory: Path, deploy_file: Path, runs: Path) -> subprocess.CompletedProcess:
    return fleetops("deploy", str(deploy_file), "-i", str(inventory), "--json", runs=runs, timeout=300)


def test_bad_value_is_rejected_before_anything_changes(services, lab, tmp_path):
    inventory = inventory_with(tmp_path, lab, "web", 'web["sites"][1]["listen"] = "eighty"')
    before = run(lab, "e2e1", "sha256sum /etc/nginx/conf.d/fleetops-backend.conf")[1]
    proc = deploy_cli(inventory, WEB, tmp_path / "runs")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        "fleetops: error: host e2e1: web.sites[1].listen: Input should be a valid integer, "
        "unable to parse string as an integer"
    )
    assert not (tmp_path / "runs").exists()
    assert run(lab, "e2e1", "sha256sum /etc/nginx/conf.d/fleetops-backend.conf")[1] == before


def test_config_rejected_by_nginx_is_rolled_back_and_site_keeps_serving(services, lab, tmp_path):
    inventory = inventory_with(tmp_path, lab, "web", 'web["sites"][1]["extra_directives"] = ["bogus_directive on;"]')
    proc = deploy_cli(inventory, WEB, tmp_path / "runs")
    assert proc.returncode == 1, proc.stderr
    record = json.loads(proc.stdout)
    failed = [op for op in record["hosts"]["e2e1"]["operations"] if op["status"] == "failed"]
    assert [op["name"].split(" | ")[-1] for op in failed] == ["nginx site backend"]
    assert "bogus_directive" in failed[0]["error"]
    code, out, _ = run(
        lab, "e2e1", "nginx -t 2>&1 && grep -c bogus_directive /etc/nginx/conf.d/fleetops-backend.conf || true"
    )
    assert "syntax is ok" in out and out.strip().endswith("0")
    code, data, err = fleetops_check(lab.inventory, "web")
    assert code == 0, not_ok(data)


def test_config_rejected_by_vsftpd_is_kept_out_and_ftp_keeps_serving(services, lab, tmp_path):
    inventory = inventory_with(tmp_path, lab, "ftp", 'ftp["extra_options"] = {"bogus_option": "YES"}')
    before = run(lab, "e2e3", "sha256sum /etc/vsftpd.conf")[1]
    proc = deploy_cli(inventory, FTP, tmp_path / "runs")
    assert proc.returncode == 1, proc.stderr
    record = json.loads(proc.stdout)
    failed = [op["name"].split(" | ")[-1] for op in record["hosts"]["e2e3"]["operations"] if op["status"] == "failed"]
    assert failed == ["vsftpd configuration"]
    assert run(lab, "e2e3", "sha256sum /etc/vsftpd.conf")[1] == before
    code, data, err = fleetops_check(lab.inventory, "ftp")
    assert code == 0, not_ok(data)
