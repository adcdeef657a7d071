"""A/B firmware on the session's two gateways (e2e1, e2e3): real SWUpdate, real reboots.

The bootloader is the only simulated piece (the fleetops-fw-boot unit plays U-Boot's bootcount
part); SWUpdate, its CMS verification, the libubootenv environment, systemd and the reboots
(the container exits 133 and its launcher starts it again) are the real ones. The tests run in
file order and share the gateways' state: each starts from what the one before left.
"""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import pytest

from fleetops import sshutil
from fleetops.firmware import bundle as bundles
from fleetops.firmware.pki import make_pki
from fleetops.roles.firmware import FACTORY
from tests.e2e.helpers import address, fleetops, inventory_with, run, run_ok
from tests.firmware import bundles as rewritten

pytestmark = pytest.mark.lab

REPO = Path(__file__).parents[2]
GATEWAYS = ("e2e1", "e2e3")
FEATURE_SUITE = Path(__file__).parent / "suites/firmware-feature.yml"
FIRMWARE_DATA = """
firmware = {{
    "board": "edge-gw", "revision": "1.0", "ca_file": {ca!r}, "signer_name": "fleet release signer",
    "bootlimit": 2, "health_timeout": 10, "soak_seconds": 4, "trial_timeout": 120,
}}
"""
STATE = "fw_printenv | grep -v '^fleetops_rollback_reason=' | sort; find /var/lib/fleetops-fw/slots -type f -exec sha256sum {} + | sort"


@pytest.fixture(scope="module")
def fw(lab, converged, tmp_path_factory):
    """PKIs, bundles and an inventory whose gateways declare firmware; the role converged."""
    work = tmp_path_factory.mktemp("firmware")
    pki = make_pki(work / "pki", "fleet release signer")
    rogue = make_pki(work / "rogue", "fleet release signer")
    inventory = inventory_with(work, lab, "gateway", FIRMWARE_DATA.format(ca=str(pki.ca_cert)))
    serial = itertools.count()

    def build(version: str, tree: Path = FACTORY, signer=pki, revision="1.0", **kwargs) -> Path:
        out = work / f"fw-{version}-{next(serial)}.swu"
        bundles.build(tree, version, signer.signer_key, signer.signer_cert, out, "edge-gw", (revision,), **kwargs)
        return out

    def tree(name: str, change) -> Path:
        path = work / name
        shutil.copytree(FACTORY, path)
        change(path)
        return path

    first = deploy_firmware(inventory)
    assert first["status"] == "changed", first
    return {"work": work, "pki": pki, "rogue": rogue, "inventory": inventory, "build": build, "tree": tree}


def deploy_firmware(inventory: Path, *args: str) -> dict:
    done = fleetops("deploy", str(REPO / "deploys/firmware.py"), "-i", str(inventory), "--json", *args)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def update(fw, bundle: Path, *args: str) -> tuple[int, dict | None, str]:
    done = fleetops("firmware", "update", str(bundle), "-i", str(fw["inventory"]), "--json", *args)
    record = json.loads(done.stdout) if done.stdout.strip().startswith("{") else None
    return done.returncode, record, done.stderr


def status(fw, host: str) -> dict:
    done = fleetops("firmware", "status", "-i", str(fw["inventory"]), "--limit", host, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)[host]


def test_the_role_converges_twice_and_the_factory_slot_serves(lab, fw):
    again = deploy_firmware(fw["inventory"])
    changed = {name: [op["name"] for op in again["hosts"][name]["operations"] if op["changed"]] for name in GATEWAYS}
    assert changed == {"e2e1": [], "e2e3": []}
    for host in GATEWAYS:
        state = status(fw, host)
        assert (state["version"], state["booted_slot"], state["trial_pending"]) == ("1.0.0", "a", False)
        assert json.loads(run_ok(lab, host, "cat /run/fleetops-fw/agent.json"))["version"] == "1.0.0"
        assert run_ok(lab, host, "systemctl is-enabled swupdate.service swupdate.socket || true").split() == [
            "masked",
            "masked",
        ]
    check = fleetops("check", "-i", str(fw["inventory"]), "--suite", "firmware", "--limit", "e2e1", "--limit", "e2e3")
    assert check.returncode == 0, check.stdout[-2000:]


def test_every_refusal_changes_nothing_on_the_controller_or_the_gateway(lab, fw):
    """Refused by the controller before any upload, and by SWUpdate itself when the bundle is
    put on the gateway by hand: environment and slots byte for byte as before."""
    good = fw["build"]("2.0.0")
    cases = {
        "unsigned": (rewritten.rewrite(good, fw["work"] / "unsigned.swu", rewritten.unsigned), "unsigned bundle"),
        "rogue CA": (fw["build"]("2.0.0", signer=fw["rogue"]), "unable to get local issuer certificate"),
        "edited sw-description": (
            rewritten.rewrite(good, fw["work"] / "edited.swu", rewritten.edited_description),
            "signature does not verify",
        ),
        "tampered payload": (
            rewritten.rewrite(good, fw["work"] / "tampered.swu", rewritten.tampered_payload),
            "(tampered payload)",
        ),
    }
    gateway_says = {
        "unsigned": "sw-description.sig",
        "rogue CA": "signer",
        "edited sw-description": "Signature verification failed",
        "tampered payload": "HASH mismatch",
        "wrong hardware revision": "SW not compatible with hardware",
    }
    before = {host: run_ok(lab, host, STATE) for host in GATEWAYS}
    for name, (bad, reason) in cases.items():
        code, record, err = update(fw, bad)
        assert code == 1 and record is None, name
        assert reason in err and "no gateway was touched" in err, (name, err)
    per_gateway = {
        "wrong hardware revision": (fw["build"]("2.0.0", revision="2.0"), "fits hardware revisions 2.0"),
        "same version": (fw["build"]("1.0.0"), "version 1.0.0 is already installed"),
        "downgrade": (fw["build"]("0.9.0"), "older than the installed 1.0.0"),
    }
    for name, (bad, reason) in per_gateway.items():
        code, record, err = update(fw, bad)
        assert code == 1, (name, err)
        for host in GATEWAYS:
            gateway = record["firmware"]["gateways"][host]
            assert gateway["outcome"] == "refused" and reason in gateway["reason"], (name, gateway)
            assert [step["name"] for step in record["hosts"][host]["operations"]] == ["preflight"], name
    # SWUpdate's own refusals: the bundle uploaded by hand, installed with the gateway tool
    for name in ("unsigned", "rogue CA", "edited sw-description", "tampered payload", "wrong hardware revision"):
        bad = cases[name][0] if name in cases else per_gateway[name][0]
        _put(lab, "e2e1", bad, "/root/bad.swu")
        code, out, _err = run(lab, "e2e1", "python3 /usr/local/sbin/fleetops-fw install /root/bad.swu --version 2.0.0")
        answer = json.loads(out.strip().splitlines()[-1])
        assert code == 1 and not answer["ok"], name
        log = run_ok(lab, "e2e1", "cat /var/lib/fleetops-fw/last-install.log")
        assert gateway_says[name] in log, (name, answer, log[-1500:])
    after = {host: run_ok(lab, host, STATE) for host in GATEWAYS}
    assert after == before


def _put(lab, host: str, local: Path, remote: str) -> None:
    client = sshutil.connect(address(lab, host), user="root", key_file=lab.key_file, known_hosts=lab.known_hosts)
    try:
        sftp = client.open_sftp()
        sftp.put(str(local), remote)
        sftp.close()
    finally:
        client.close()


def test_a_good_bundle_installs_reboots_and_commits_canary_first(lab, fw):
    code, record, err = update(fw, fw["build"]("2.0.0"), "--canary", "1")
    assert code == 0, err[-2000:]
    section = record["firmware"]
    assert record["kind"] == "firmware-update" and section["unattempted"] == []
    for host in GATEWAYS:
        gateway = section["gateways"][host]
        assert (gateway["outcome"], gateway["by"], gateway["boots"]) == ("committed", "health-gate", 1), gateway
        assert (gateway["from_slot"], gateway["to_slot"], gateway["to_version"]) == ("a", "b", "2.0.0")
        state = status(fw, host)
        assert (state["version"], state["booted_slot"], state["trial_pending"], state["ustate"]) == (
            "2.0.0",
            "b",
            False,
            "0",
        )
        assert json.loads(run_ok(lab, host, "cat /run/fleetops-fw/agent.json")) == {
            **json.loads(run_ok(lab, host, "cat /run/fleetops-fw/agent.json")),
            "version": "2.0.0",
            "slot": "b",
        }, "the agent runs from the new slot"
        events = [
            e["event"] for e in json.loads(run_ok(lab, host, "python3 /usr/local/sbin/fleetops-fw history"))["events"]
        ]
        assert events[-4:] == ["install", "trial-boot", "health-passed", "commit"]


def test_a_failing_health_test_rolls_back_over_the_reboot_with_its_output(lab, fw):
    def break_health(path: Path) -> None:
        (path / "usr/lib/fleetops-fw/health").write_text(
            "#!/bin/sh\necho 'inference smoke test: model.onnx failed to load (input shape mismatch)'\nexit 1\n"
        )

    bad = fw["build"]("3.0.0", fw["tree"]("broken-health", break_health))
    code, record, _err = update(fw, bad, "--limit", "e2e1")
    assert code == 1
    gateway = record["firmware"]["gateways"]["e2e1"]
    assert (gateway["outcome"], gateway["by"], gateway["boots"]) == ("rolled_back", "health", 1), gateway
    assert "inference smoke test: model.onnx failed to load (input shape mismatch)" in gateway["reason"]
    state = status(fw, "e2e1")
    assert (state["version"], state["booted_slot"], state["boot_slot"]) == ("2.0.0", "b", "b")
    assert "input shape mismatch" in state["rollback_reason"], "the reason survives the reboot in the env"


def test_a_failing_health_suite_rolls_back_with_the_failing_checks_output(lab, fw):
    """The on-gateway tests pass; the controller's suite wants a file the release does not ship."""
    bad = fw["build"]("3.0.1")
    code, record, _err = update(fw, bad, "--limit", "e2e3", "--health-suite", str(FEATURE_SUITE))
    assert code == 1
    gateway = record["firmware"]["gateways"]["e2e3"]
    assert (gateway["outcome"], gateway["by"]) == ("rolled_back", "health-gate"), gateway
    assert (
        gateway["reason"].startswith("feature-flags:")
        and "/run/fleetops-fw/current/etc/feature-flags" in gateway["reason"]
    )
    assert status(fw, "e2e3")["version"] == "2.0.0"
    with_feature = fw["build"]("3.0.2", fw["tree"]("featured", lambda p: (p / "etc/feature-flags").write_text("x\n")))
    code, record, err = update(fw, with_feature, "--limit", "e2e3", "--health-suite", str(FEATURE_SUITE))
    assert code == 0, err[-1500:]
    assert status(fw, "e2e3")["version"] == "3.0.2"


def test_a_boot_loop_falls_back_at_the_boot_limit(lab, fw):
    def crash(path: Path) -> None:
        agent = path / "usr/bin/fw-agent"
        agent.write_text(
            agent.read_text().replace(
                "while True:", "import subprocess\ntime.sleep(1)\nsubprocess.run(['systemctl', 'reboot'])\nwhile True:"
            )
        )

    code, record, _err = update(fw, fw["build"]("4.0.0", fw["tree"]("boot-loop", crash)), "--limit", "e2e1")
    assert code == 1
    gateway = record["firmware"]["gateways"]["e2e1"]
    assert (gateway["outcome"], gateway["by"], gateway["boots"]) == ("rolled_back", "bootloader", 2), gateway
    assert gateway["reason"] == "bootlimit exceeded: slot a booted 2 times without commit (bootlimit=2)"
    state = status(fw, "e2e1")
    assert (state["version"], state["booted_slot"]) == ("2.0.0", "b")


def test_redeploying_during_a_trial_changes_nothing(lab, fw):
    """A trial armed (installed, not yet rebooted): the role leaves env and slots alone, a second
    update is refused, and an operator rollback cancels the trial."""
    bundle = fw["build"]("5.0.0")
    _put(lab, "e2e3", bundle, "/root/next.swu")
    run_ok(lab, "e2e3", "python3 /usr/local/sbin/fleetops-fw install /root/next.swu --version 5.0.0")
    before = run_ok(lab, "e2e3", STATE)
    again = deploy_firmware(fw["inventory"], "--limit", "e2e3")
    assert again["hosts"]["e2e3"]["changed"] == 0
    assert run_ok(lab, "e2e3", STATE) == before
    code, record, _err = update(fw, fw["build"]("5.0.1"), "--limit", "e2e3")
    assert code == 1 and record["firmware"]["gateways"]["e2e3"]["reason"] == "a trial of 5.0.0 is pending"
    done = fleetops("firmware", "rollback", "-i", str(fw["inventory"]), "--limit", "e2e3", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    state = status(fw, "e2e3")
    assert (state["version"], state["trial_pending"]) == ("3.0.2", False)


def test_swupdate_killed_mid_install_leaves_the_old_slot_serving(lab, fw):
    def big(path: Path) -> None:
        (path / "data").mkdir()
        with open(path / "data/blob.bin", "wb") as handle:
            handle.write(b"\0" * (300 << 20))  # 300 MiB written while streaming into the slot

    streamed = fw["build"]("6.0.0", fw["tree"]("big", big), installed_directly=True)
    _put(lab, "e2e1", streamed, "/root/big.swu")
    # start the install, and kill SWUpdate the moment the slot's big file appears
    run_ok(
        lab,
        "e2e1",
        "(python3 /usr/local/sbin/fleetops-fw install /root/big.swu --version 6.0.0 > /root/kill.out 2>&1 &) ; "
        "for i in $(seq 600); do [ -e /var/lib/fleetops-fw/slots/a/data/blob.bin ] && break; sleep 0.05; done; "
        "pkill -KILL -x swupdate; sleep 1; cat /root/kill.out",
    )
    answer = json.loads(run_ok(lab, "e2e1", "grep '^{' /root/kill.out"))
    assert not answer["ok"] and "swupdate was killed (signal 9)" in answer["error"], answer
    state = status(fw, "e2e1")
    assert (state["boot_slot"], state["trial_pending"], state["recovery_status"]) == ("b", False, "in_progress")
    assert json.loads(run_ok(lab, "e2e1", "cat /run/fleetops-fw/agent.json"))["version"] == "2.0.0"
    check = fleetops("check", "-i", str(fw["inventory"]), "--suite", "firmware", "--limit", "e2e1", "--json")
    results = {r["check"]: r for r in json.loads(check.stdout)["results"]}
    assert (
        results["firmware-slot"]["status"] == "warning" and "interrupted install" in results["firmware-slot"]["message"]
    )
    # the old slot still boots, and the next update installs over the broken one
    booted = state["boot_id"]
    run(lab, "e2e1", "systemctl --no-block reboot")
    state = _after_reboot(fw, "e2e1", booted)
    assert (state["booted_slot"], state["version"]) == ("b", "2.0.0")
    code, record, err = update(fw, fw["build"]("6.0.1"), "--limit", "e2e1")
    assert code == 0, err[-1500:]
    state = status(fw, "e2e1")
    assert (state["version"], state["booted_slot"], state["recovery_status"]) == ("6.0.1", "a", "")


def _after_reboot(fw, host: str, boot_id: str, seconds: float = 90) -> dict:
    """The gateway's status once it has booted again (a new boot id)."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done = fleetops("firmware", "status", "-i", str(fw["inventory"]), "--limit", host, "--json")
        if done.returncode == 0:
            state = json.loads(done.stdout)[host]
            if state.get("boot_id") and state["boot_id"] != boot_id:
                return state
        time.sleep(1)
    raise AssertionError(f"{host} did not come back within {seconds:.0f} s")
