"""``fleetops firmware`` without a gateway: pki, build, verify, and bad input in one line."""

from __future__ import annotations

import json

from click.testing import CliRunner

from fleetops.cli import app
from fleetops.roles.firmware import FACTORY
from tests.firmware import bundles


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_pki_build_verify(tmp_path):
    assert (
        invoke("firmware", "pki", "--out", str(tmp_path / "pki"), "--signer-name", "fleet release signer").exit_code
        == 0
    )
    again = invoke("firmware", "pki", "--out", str(tmp_path / "pki"), "--signer-name", "x")
    assert again.exit_code == 2 and "already exist (--force replaces them)" in again.stderr
    out = tmp_path / "fw.swu"
    built = invoke(
        "firmware", "build", str(FACTORY), "--version", "2.0.0", "--key", str(tmp_path / "pki/signer.key"),
        "--cert", str(tmp_path / "pki/signer.pem"), "--board", "edge-gw", "--revision", "1.0", "--out", str(out),
    )  # fmt: skip
    assert built.exit_code == 0, built.output
    checked = invoke("firmware", "verify", str(out), "--ca", str(tmp_path / "pki/ca.pem"), "--json")
    assert checked.exit_code == 0
    assert json.loads(checked.stdout) == {
        **json.loads(checked.stdout),
        "ok": True,
        "version": "2.0.0",
        "board": "edge-gw",
    }
    tampered = bundles.rewrite(out, tmp_path / "t.swu", bundles.tampered_payload)
    refused = invoke("firmware", "verify", str(tampered), "--ca", str(tmp_path / "pki/ca.pem"))
    assert refused.exit_code == 1 and "(tampered payload)" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    wrong_signer = invoke("firmware", "verify", str(out), "--ca", str(tmp_path / "pki/ca.pem"), "--signer-name", "x")
    assert wrong_signer.exit_code == 1 and "not by the expected signer 'x'" in wrong_signer.stderr


def test_bad_input_is_one_line_exit_2(tmp_path):
    missing = invoke("firmware", "verify", str(tmp_path / "none.swu"), "--ca", str(tmp_path / "ca.pem"))
    assert (
        missing.exit_code == 2
        and missing.stderr.strip() == f"fleetops: error: bundle {tmp_path / 'none.swu'}: no such file"
    )
    bad_version = invoke(
        "firmware", "build", str(FACTORY), "--version", "two", "--key", "k", "--cert", "c",
        "--board", "edge-gw", "--revision", "1.0", "--out", str(tmp_path / "x.swu"),
    )  # fmt: skip
    assert bad_version.exit_code == 2 and "'two' is not a firmware version" in bad_version.stderr
    assert not (tmp_path / "x.swu").exists()


def test_update_without_firmware_gateways_says_so(tmp_path):
    inventory = tmp_path / "inventory.py"
    inventory.write_text("hosts = [('h1', {'ssh_hostname': '127.0.0.1'})]\n")
    (tmp_path / "fw.swu").write_bytes(b"")
    done = invoke("firmware", "update", str(tmp_path / "fw.swu"), "-i", str(inventory))
    assert done.exit_code == 2 and "no selected host declares A/B firmware (group data firmware)" in done.stderr


def test_firmware_group_data_is_validated_with_the_key_named(tmp_path):
    inventory = tmp_path / "inventory.py"
    inventory.write_text(
        "gateway = [('g1', {'ssh_hostname': '127.0.0.1', 'firmware': {'board': 'edge gw', 'revision': '1.0',"
        " 'ca_file': 'ca.pem', 'signer_name': 's'}})]\n"
    )
    done = invoke("firmware", "status", "-i", str(inventory))
    assert done.exit_code == 2 and "host g1: firmware.board" in done.stderr
