"""The platform receiver on e2e2 (group `platform`, beside MariaDB) and the gateways reporting to it.

Gateways e2e1 and e2e3 send a heartbeat every second (tests/e2e/group_data/gateway.py); the
receiver stores them in MySQL. Reference data (registered gateways, event labels, admin account)
converges like everything else: the second run changes nothing.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.e2e.conftest import REPO
from tests.e2e.group_data.platform import CANARY_ADMIN_PASSWORD, CANARY_PLATFORM_DB_PASSWORD
from tests.e2e.helpers import address, fleetops, inventory_with, run

pytestmark = pytest.mark.lab
PLATFORM = REPO / "deploys/platform.py"
SERVER = "e2e2"


def sql(lab, statement: str) -> list[list[str]]:
    code, out, err = run(lab, SERVER, f"mysql -N -B edge_platform -e {json.dumps(statement)}")
    assert code == 0, err
    return [line.split("\t") for line in out.splitlines()]


def test_converges_and_second_run_changes_nothing(platform, deploy, lab):
    changed = [op["name"].split(" | ")[-1] for op in platform["hosts"][SERVER]["operations"] if op["changed"]]
    assert {"Tables and reference data", "Install the release", "Wait until the platform receiver is ready"} <= set(
        changed
    ), changed
    code, record, err = deploy(PLATFORM)
    assert code == 0 and record["summary"]["changed"] == 0, err
    # reference data: both inventory gateways plus the declared spare, the label, one admin
    assert sorted(row[0] for row in sql(lab, "SELECT name FROM gateways")) == ["e2e1", "e2e3", "spare-gw"]
    assert sql(lab, "SELECT label, severity FROM event_labels") == [["7", "warning"]]
    assert sql(lab, "SELECT name FROM admins") == [["admin"]]
    # the account writes what gateways report, reads reference data, and nothing more (per table)
    grants = run(lab, SERVER, "mysql -N -B -e \"SHOW GRANTS FOR 'edge_platform'@'localhost'\"")[1]
    from fleetops.facts.mysql import parse_grants
    from fleetops.platform.schema import APP_PRIVILEGES

    assert parse_grants(grants.splitlines()) == {
        (privilege, f"edge_platform.{table}")
        for table, privileges in APP_PRIVILEGES.items()
        for privilege in privileges
    }


def test_heartbeats_land_in_mysql_and_checks_pass(platform, lab, tmp_path, isolated_state):
    deadline = time.time() + 30
    while time.time() < deadline:
        rows = dict(sql(lab, "SELECT gateway, COUNT(*) FROM heartbeats GROUP BY gateway"))
        if set(rows) >= {"e2e1", "e2e3"}:
            break
        time.sleep(1)
    assert set(rows) == {"e2e1", "e2e3"}, rows
    ready = dict(sql(lab, "SELECT name, ready FROM gateways WHERE last_heartbeat IS NOT NULL"))
    assert ready == {"e2e1": "1", "e2e3": "1"}
    proc = fleetops("check", "-i", str(lab.inventory), "--suite", "platform", "--json")
    assert proc.returncode == 0, proc.stdout[-3000:]
    results = {(r["host"], r["check"]): r for r in json.loads(proc.stdout)["results"]}
    for gateway in ("e2e1", "e2e3"):
        assert results[(gateway, "platform:api")]["status"] == "ok"
        beat = results[(gateway, "platform:heartbeat")]
        assert beat["status"] == "ok" and 0 <= beat["value"] < 30, beat
    assert results[(SERVER, "platform-ready")]["status"] == "ok"


def _infer(lab, gateway: str, times: int, smoke: bool = False) -> None:
    """``times`` inferences of the model's first golden input, as a camera client would send them."""
    import urllib.request

    base = f"http://{address(lab, gateway)}:8500"
    golden = json.loads(urllib.request.urlopen(base + "/model", timeout=10).read())["golden"][0]
    headers = {"Content-Type": "application/json", **({"X-Fleetops-Smoke": "1"} if smoke else {})}
    for _ in range(times):
        request = urllib.request.Request(
            base + "/infer", data=json.dumps({"input": golden["input"]}).encode(), headers=headers
        )
        assert urllib.request.urlopen(request, timeout=10).status == 200


def events_of(lab, gateway: str) -> int:
    return int(sql(lab, f"SELECT COUNT(*) FROM events WHERE gateway = '{gateway}'")[0][0])


def test_smoke_traffic_makes_no_detection_events(platform, lab):
    before = events_of(lab, "e2e3")
    assert fleetops("smoke", "-i", str(lab.inventory), "--no-history", "--limit", "e2e3").returncode == 0
    _infer(lab, "e2e3", 6, smoke=True)
    time.sleep(3)  # three heartbeat rounds: anything queued would have arrived
    assert events_of(lab, "e2e3") == before


def test_detection_events_are_stored_and_need_an_admin_to_read(platform, lab):
    _infer(lab, "e2e1", 6)  # confirm_frames 3: two detections
    deadline = time.time() + 20
    while time.time() < deadline and not sql(lab, "SELECT COUNT(*) FROM events WHERE gateway = 'e2e1'")[0][0] != "0":
        time.sleep(1)
    assert int(sql(lab, "SELECT COUNT(*) FROM events WHERE gateway = 'e2e1'")[0][0]) > 0
    reader = (
        "python3 - <<'EOF'\nimport base64, json, ssl, sys, urllib.request, urllib.error\n"
        "ssl._create_default_https_context = lambda: ssl.create_default_context("
        "cafile='/etc/fleetops-platform/tls.crt')\n"
        f"request = urllib.request.Request('https://{address(lab, SERVER)}:8600/api/events?limit=5')\n"
        "auth = {auth!r}\n"
        "if auth: request.add_header('Authorization', 'Basic ' + base64.b64encode(auth.encode()).decode())\n"
        "try:\n    print(urllib.request.urlopen(request).read().decode())\n"
        "except urllib.error.HTTPError as error:\n    print(error.code)\nEOF"
    )
    assert run(lab, SERVER, reader.format(auth=""))[1].strip() == "401"
    assert run(lab, SERVER, reader.format(auth="admin:wrong"))[1].strip() == "401"
    events = json.loads(run(lab, SERVER, reader.format(auth=f"admin:{CANARY_ADMIN_PASSWORD}"))[1])["events"]
    assert events and all(event["frames"] == 3 and event["confidence"] >= 0.6 for event in events)
    unknown = run(
        lab,
        SERVER,
        'python3 -c "import urllib.request, urllib.error, json, ssl\n'
        "try:\n    urllib.request.urlopen(urllib.request.Request('https://127.0.0.1:8600/api/heartbeat', "
        "data=json.dumps({'gateway': 'nope', 'ready': True}).encode(), "
        "headers={'Content-Type': 'application/json'}), context=ssl._create_unverified_context())\n"
        'except urllib.error.HTTPError as error:\n    print(error.code)"',
    )[1]
    assert unknown.strip() == "401"  # no token, no answer about which names exist


def test_a_stopped_receiver_fails_the_gateway_checks(platform, lab, isolated_state):
    assert run(lab, SERVER, "systemctl stop fleetops-platform")[0] == 0
    try:
        proc = fleetops("check", "-i", str(lab.inventory), "--suite", "platform", "--json")
        assert proc.returncode == 2
        results = {(r["host"], r["check"]): r for r in json.loads(proc.stdout)["results"]}
        assert results[("e2e1", "platform:api")]["status"] == "critical"
        assert "unreachable" in results[("e2e1", "platform:api")]["message"]
        assert results[(SERVER, "service:fleetops-platform")]["status"] == "critical"
    finally:
        assert run(lab, SERVER, "systemctl start fleetops-platform && sleep 2")[0] == 0


def test_admin_password_change_converges_and_secrets_stay_out(platform, lab, tmp_path):
    inventory = inventory_with(
        tmp_path, lab, "platform", 'platform["admins"] = [{"name": "admin", "password": "Changed-admin-pw-e2e"}]'
    )
    proc = fleetops("deploy", str(PLATFORM), "-i", str(inventory), "--json", "-vvv", runs=tmp_path / "runs")
    assert proc.returncode == 0, proc.stderr[-2000:]
    record = json.loads(proc.stdout)
    changed = [op["name"].split(" | ")[-1] for op in record["hosts"][SERVER]["operations"] if op["changed"]]
    assert changed == ["Tables and reference data"], changed
    proc2 = fleetops("deploy", str(PLATFORM), "-i", str(lab.inventory), "--json", runs=tmp_path / "runs")
    assert proc2.returncode == 0 and json.loads(proc2.stdout)["summary"]["changed"] == 1  # back to the original
    records = "".join(path.read_text() for path in (tmp_path / "runs").glob("*.json"))
    for secret in (CANARY_ADMIN_PASSWORD, CANARY_PLATFORM_DB_PASSWORD, "Changed-admin-pw-e2e"):
        assert secret not in proc.stdout + proc.stderr + proc2.stdout + proc2.stderr + records
    mode = run(lab, SERVER, "stat -c '%a %U' /etc/fleetops-platform/client.cnf")[1].strip()
    assert mode == "600 fleetops-platform"
    processes = run(lab, SERVER, "ps -eo args")[1]
    assert CANARY_PLATFORM_DB_PASSWORD not in processes
