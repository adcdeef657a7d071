"""Security properties that only real hosts can show (../shared/docs/security-audit.md):
staging under sudo (finding 4), the receiver's authentication and TLS (1), token rotation, the
edge app's user and address (7), SQL under NO_BACKSLASH_ESCAPES (10), model checks on the
gateway (12)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO
from tests.e2e.helpers import address, fleetops, inventory_with, run

pytestmark = pytest.mark.lab
HERE = Path(__file__).parent
GATEWAY, SERVER = "e2e1", "e2e2"
CANARY = "CanarySudoStaged-4f2a91"  # what tests/e2e/deploys/secret_sudo.py writes

# Runs on the host as root: records every file created below /tmp and the target directory
# (watching new directories too) with its mode and the modes of the directories above it.
WATCHER = r"""
import ctypes, json, os, select, struct, sys, time
libc = ctypes.CDLL("libc.so.6", use_errno=True)
IN_CREATE, IN_MOVED_TO, IN_CLOSE_WRITE, IN_ISDIR = 0x100, 0x80, 0x8, 0x40000000
fd = libc.inotify_init1(os.O_NONBLOCK)
watches = {}
def watch(path):
    wd = libc.inotify_add_watch(fd, path.encode(), IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE)
    if wd >= 0:
        watches[wd] = path
for root in sys.argv[2:]:
    os.makedirs(root, exist_ok=True)
    watch(root)
seen, deadline = [], time.time() + float(sys.argv[1])
open("/run/fleetops-watcher.ready", "w").close()
while time.time() < deadline:
    if not select.select([fd], [], [], 0.2)[0]:
        continue
    data = os.read(fd, 65536)
    offset = 0
    while offset < len(data):
        wd, mask, _cookie, size = struct.unpack_from("iIII", data, offset)
        name = data[offset + 16: offset + 16 + size].rstrip(b"\0").decode()
        offset += 16 + size
        path = os.path.join(watches.get(wd, "?"), name)
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if mask & IN_ISDIR:
            watch(path)
        parents, up = [], os.path.dirname(path)
        while up not in ("/", ""):
            parents.append(os.stat(up).st_mode & 0o777)
            up = os.path.dirname(up)
        seen.append({"path": path, "mode": st.st_mode & 0o777, "dir": bool(mask & IN_ISDIR), "parents": parents})
print(json.dumps(seen))
"""


def exposed(entry: dict) -> bool:
    """Readable by another account: the file is world-readable and every directory above it is
    world-searchable (the sticky /tmp included)."""
    return bool(entry["mode"] & 0o004) and all(mode & 0o001 for mode in entry["parents"])


def test_f4_secrets_are_never_staged_readable_by_others_under_sudo(lab, converged, tmp_path):
    # a login of its own with passwordless sudo (independent of what other tests did to the baseline)
    public_key = Path(str(lab.key_file) + ".pub").read_text().strip()
    setup = (
        f"id stager >/dev/null 2>&1 || useradd -m -s /bin/bash stager; install -d -m 700 -o stager ~stager/.ssh; "
        f"echo {public_key!r} > ~stager/.ssh/authorized_keys; chown stager ~stager/.ssh/authorized_keys; "
        "echo 'stager ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/e2e-stager; chmod 440 /etc/sudoers.d/e2e-stager"
    )
    assert run(lab, GATEWAY, setup)[0] == 0
    namespace: dict = {}
    exec(lab.inventory.read_text(), namespace)
    data = {**namespace["_HOSTS"][GATEWAY], "ssh_user": "stager"}
    inventory = tmp_path / "inventory.py"
    inventory.write_text(f"hosts = [({GATEWAY!r}, {data!r})]\n")
    run(lab, GATEWAY, "rm -rf /etc/fleetops-e2e /run/fleetops-watcher.ready")
    result: dict = {}

    def watch() -> None:
        result["out"] = run(lab, GATEWAY, f"python3 - 40 /tmp /etc/fleetops-e2e <<'EOF'\n{WATCHER}\nEOF")

    thread = threading.Thread(target=watch)
    thread.start()
    deadline = time.time() + 20
    while run(lab, GATEWAY, "test -e /run/fleetops-watcher.ready")[0] != 0 and time.time() < deadline:
        time.sleep(0.2)
    proc = fleetops(
        "deploy", str(HERE / "deploys/secret_sudo.py"), "-i", str(inventory), "--json", runs=tmp_path / "runs"
    )
    thread.join(timeout=60)
    assert proc.returncode == 0, proc.stderr[-3000:]
    code, out, err = result["out"]
    assert code == 0, err
    created = json.loads(out)
    staged = [entry for entry in created if "fleetops-stage" in entry["path"] or "pyinfra-" in entry["path"]]
    assert staged, created  # the upload really went through a staging file (sudo path)
    leaks = [entry for entry in created if not entry["dir"] and exposed(entry)]
    assert not leaks, leaks
    assert run(lab, GATEWAY, "stat -c '%a %U' /etc/fleetops-e2e/secret.conf")[1].strip() == "600 root"
    assert CANARY in run(lab, GATEWAY, "cat /etc/fleetops-e2e/secret.conf")[1]
    assert run(lab, GATEWAY, "ls /tmp | grep -c fleetops-stage || true")[1].strip() == "0"  # cleaned up
    run(lab, GATEWAY, "rm -f /etc/sudoers.d/e2e-stager; userdel -r stager 2>/dev/null; rm -rf /etc/fleetops-e2e")


def _https(
    lab,
    host: str,
    path: str,
    body: dict | None = None,
    token: str | None = None,
    cafile: str | None = "/etc/fleetops-edge/server-ca.pem",
    method: str = "POST",
) -> str:
    """An HTTPS call from ``host`` to the receiver: the status code, or the TLS failure."""
    url = f"https://{address(lab, SERVER)}:8600{path}"
    script = (
        "import json, ssl, sys, urllib.request, urllib.error\n"
        f"ctx = ssl.create_default_context(cafile={cafile!r})\n"
        f"headers = {{'Content-Type': 'application/json'}}\n"
        f"token = {token!r}\n"
        "if token: headers['Authorization'] = 'Bearer ' + token\n"
        f"data = {json.dumps(json.dumps(body)) if body is not None else None}\n"
        f"request = urllib.request.Request({url!r}, data=data.encode() if data else None, headers=headers, "
        f"method={method!r})\n"
        "try:\n    print(urllib.request.urlopen(request, context=ctx, timeout=10).status)\n"
        "except urllib.error.HTTPError as error:\n    print(error.code)\n"
        "except urllib.error.URLError as error:\n    print('tls:', error.reason)\n"
    )
    code, out, err = run(lab, host, f"python3 - <<'EOF'\n{script}EOF")
    assert code == 0, err
    return out.strip()


def test_f1_receiver_ingest_is_authenticated_over_verified_tls(platform, lab):
    token = run(lab, GATEWAY, "cat /etc/fleetops-edge/server.token")[1].strip()
    beat = {"gateway": GATEWAY, "ready": False, "reason": "spoofed"}
    before = run(lab, SERVER, 'mysql -N -B edge_platform -e "SELECT COUNT(*) FROM heartbeats WHERE ready = 0"')[1]
    assert _https(lab, GATEWAY, "/api/heartbeat", beat) == "401"
    assert _https(lab, GATEWAY, "/api/heartbeat", beat, token="not-the-token-0000000000") == "401"
    assert _https(lab, GATEWAY, "/api/heartbeat", {**beat, "gateway": "e2e3"}, token=token) == "403"
    assert _https(lab, GATEWAY, "/api/gateways", method="GET") == "401"
    after = run(lab, SERVER, 'mysql -N -B edge_platform -e "SELECT COUNT(*) FROM heartbeats WHERE ready = 0"')[1]
    assert before == after  # nothing stored from any of them
    # the gateway trusts only the receiver's own certificate: the system CAs do not vouch for it
    assert _https(lab, GATEWAY, "/health", method="GET", cafile=None).startswith("tls:")
    assert _https(lab, GATEWAY, "/health", method="GET") == "200"
    mode = run(lab, GATEWAY, "stat -c '%a %U %G' /etc/fleetops-edge/server.token")[1].strip()
    assert mode == "640 root fleetops-edge"
    digest = run(
        lab, SERVER, f"mysql -N -B edge_platform -e \"SELECT token_sha256 FROM gateways WHERE name = '{GATEWAY}'\""
    )[1]
    assert token not in digest and len(digest.strip()) == 64


def test_f1_rotating_a_token_keeps_the_app_and_its_queue(platform, lab, tmp_path):
    old = run(lab, GATEWAY, "cat /etc/fleetops-edge/server.token")[1].strip()
    pid = run(lab, GATEWAY, "systemctl show -p MainPID --value fleetops-edge")[1].strip()
    inventory = inventory_with(tmp_path, lab, "gateway", 'edge["rotate_token"] = True')
    proc = fleetops(
        "deploy", str(HERE / "deploys/platform_and_gateways.py"), "-i", str(inventory), "--json", runs=tmp_path / "runs"
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    new = run(lab, GATEWAY, "cat /etc/fleetops-edge/server.token")[1].strip()
    assert new and new != old
    assert run(lab, GATEWAY, "systemctl show -p MainPID --value fleetops-edge")[1].strip() == pid  # no restart
    started = time.time()
    while time.time() - started < 20:
        age = run(
            lab,
            SERVER,
            'mysql -N -B edge_platform -e "SELECT TIMESTAMPDIFF(SECOND, last_heartbeat, '
            f"UTC_TIMESTAMP()) FROM gateways WHERE name = '{GATEWAY}'\"",
        )[1].strip()
        if age and int(age) <= 1 and time.time() - started > 3:
            break
        time.sleep(1)
    assert int(age) <= 2, age  # heartbeats flow again with the new token
    assert _https(lab, GATEWAY, "/api/heartbeat", {"gateway": GATEWAY, "ready": True}, token=old) == "401"
    # a converge without the flag keeps the new token
    proc = fleetops(
        "deploy",
        str(HERE / "deploys/platform_and_gateways.py"),
        "-i",
        str(lab.inventory),
        "--json",
        runs=tmp_path / "runs",
    )
    assert proc.returncode == 0 and json.loads(proc.stdout)["summary"]["changed"] == 0, proc.stdout[-2000:]


def test_f7_edge_app_runs_unprivileged_on_its_own_address(edge, lab):
    user = run(lab, GATEWAY, "ps -o user= -p $(systemctl show -p MainPID --value fleetops-edge)")[1].strip()
    assert user == "fleetops-edge"
    listening = run(lab, GATEWAY, "ss -Hltn 'sport = :8500'")[1]
    assert f"{address(lab, GATEWAY)}:8500" in listening and "0.0.0.0:8500" not in listening


def test_f10_sql_is_safe_when_the_server_runs_with_no_backslash_escapes(converged, deploy, lab, tmp_path):
    password = "it's-a\\\\test'; DROP DATABASE shop; --"
    inventory = inventory_with(
        tmp_path,
        lab,
        "db",
        'mysql = {**mysql, "users": [*mysql.get("users", []), '
        f'{{"name": "quoter", "password": {password!r}, "privileges": {{}}}}]}}',
    )
    assert run(lab, SERVER, "mysql -e \"SET GLOBAL sql_mode = 'NO_BACKSLASH_ESCAPES'\"")[0] == 0
    try:
        proc = fleetops(
            "deploy", str(REPO / "deploys/mysql.py"), "-i", str(inventory), "--json", runs=tmp_path / "runs"
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
    finally:
        run(lab, SERVER, 'mysql -e "SET GLOBAL sql_mode = DEFAULT"')
    # the account exists with exactly the declared password, and nothing else was run
    check = (
        "python3 - <<'EOF'\nimport subprocess\n"  # the password on argv: a test account, no option-file escapes
        f"pw = {password!r}\n"
        "print(subprocess.run(['mysql', '--protocol=socket', '-u', 'quoter', '-p' + pw, '-N', "
        "'-e', 'SELECT CURRENT_USER()'], capture_output=True, text=True))\nEOF"
    )
    answer = run(lab, SERVER, check)[1]
    run(lab, SERVER, "mysql -e \"DROP USER IF EXISTS 'quoter'@'localhost'\"")
    assert "quoter@localhost" in answer, answer
    assert run(lab, SERVER, "mysql -N -e \"SHOW DATABASES LIKE 'shop'\"")[1].strip() == "shop"


def test_f12_a_corrupted_model_upload_never_goes_live(edge, lab, model_dir, tmp_path):
    """The role's model step checks sha256 on the gateway: a file changed on the gateway is
    replaced by a verified upload, never served as it is."""
    current = run(lab, GATEWAY, "readlink -f /opt/fleetops-edge/models/current")[1].strip()
    assert run(lab, GATEWAY, f"printf x >> {current}/model.onnx && systemctl restart fleetops-edge")[0] == 0
    time.sleep(3)
    ready = run(lab, GATEWAY, f"curl -s http://{address(lab, GATEWAY)}:8500/ready")[1]
    assert '"ready":false' in ready.replace(" ", "") and "sha256" in ready
    proc = fleetops(
        "deploy",
        str(REPO / "deploys/edge.py"),
        "-i",
        str(lab.inventory),
        "--limit",
        GATEWAY,
        "--json",
        runs=tmp_path / "runs",
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    ready = run(lab, GATEWAY, f"curl -s http://{address(lab, GATEWAY)}:8500/ready")[1]
    assert '"ready":true' in ready.replace(" ", "")
