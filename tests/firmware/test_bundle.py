"""Bundles: built, signed and read back; every refusal the controller makes, with its reason."""

from __future__ import annotations

import io
import tarfile

import pytest

from fleetops.errors import InputError
from fleetops.firmware import bundle, description, versions
from fleetops.firmware.pki import make_pki
from fleetops.firmware.verify import BundleRefused, hardware_refusal, verify_bundle
from fleetops.roles.firmware import FACTORY
from tests.firmware import bundles


def test_a_built_bundle_verifies_and_says_what_it_holds(good_bundle, pki):
    verified = verify_bundle(good_bundle, pki.ca_cert, "fleet release signer")
    assert (verified.version, verified.board, verified.revisions) == ("2.0.0", "edge-gw", ("1.0", "1.1"))
    assert verified.signer == "fleet release signer"
    names = [name for name, _data in bundles.members(good_bundle)]
    assert names == ["sw-description", "sw-description.sig", "rootfs.tar.gz", "clean-a.sh", "clean-b.sh"]


def test_the_rootfs_is_root_owned_and_carries_the_bundle_version(good_bundle):
    data = dict(bundles.members(good_bundle))["rootfs.tar.gz"]
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        infos = {info.name: info for info in tar.getmembers()}
        assert tar.extractfile("etc/fw-version").read() == b"2.0.0\n"
    assert all(info.uid == 0 and info.gid == 0 for info in infos.values())
    assert infos["usr/bin/fw-agent"].mode & 0o111, "executables stay executable"


def test_each_copy_targets_its_own_slot_and_arms_a_trial(good_bundle):
    import libconf

    text = dict(bundles.members(good_bundle))["sw-description"].decode()
    stable = libconf.loads(text)["software"]["stable"]
    for copy, slot in (("copy1", "a"), ("copy2", "b")):
        assert stable[copy]["images"][0]["path"] == f"/var/lib/fleetops-fw/slots/{slot}"
        env = {entry["name"]: entry["value"] for entry in stable[copy]["bootenv"]}
        assert env["boot_slot"] == slot and env["upgrade_available"] == "1" and env["bootcount"] == "0"
        assert env["fleetops_trial_version"] == "2.0.0"
        assert stable[copy]["scripts"][0]["filename"] == f"clean-{slot}.sh"


@pytest.mark.parametrize(
    "change, reason",
    [
        (bundles.unsigned, "unsigned bundle: the second member is 'rootfs.tar.gz', not sw-description.sig"),
        (bundles.edited_description, "signature does not verify"),
        (bundles.tampered_payload, "rootfs.tar.gz: sha256"),
        (bundles.extra_member, "member 'evil.sh' is not in sw-description"),
        (bundles.missing_member, "sw-description lists 'clean-b.sh' but the bundle does not hold it"),
    ],
    ids=["unsigned", "edited-description", "tampered-payload", "extra-member", "missing-member"],
)
def test_a_changed_bundle_is_refused_with_its_reason(good_bundle, pki, tmp_path, change, reason):
    bad = bundles.rewrite(good_bundle, tmp_path / "bad.swu", change)
    with pytest.raises(BundleRefused, match=reason.replace("(", r"\(").replace(")", r"\)")):
        verify_bundle(bad, pki.ca_cert, "fleet release signer")


def test_another_ca_and_another_signer_name_are_refused(good_bundle, rogue, pki, tmp_path):
    with pytest.raises(BundleRefused, match="does not verify against ca.pem: unable to get local issuer"):
        verify_bundle(good_bundle, rogue.ca_cert)
    with pytest.raises(BundleRefused, match="signed by 'fleet release signer', not by the expected signer 'other'"):
        verify_bundle(good_bundle, pki.ca_cert, "other")
    # a rogue bundle: the same signer name, under another CA
    rogue_bundle = tmp_path / "rogue.swu"
    bundle.build(FACTORY, "2.0.0", rogue.signer_key, rogue.signer_cert, rogue_bundle, "edge-gw", ("1.0",))
    with pytest.raises(BundleRefused, match="unable to get local issuer certificate"):
        verify_bundle(rogue_bundle, pki.ca_cert, "fleet release signer")


def test_a_signer_without_email_protection_is_refused(pki, tmp_path):
    """SWUpdate's default --cert-purpose: the same check on the controller."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    ca_key = serialization.load_pem_private_key(pki.ca_key.read_bytes(), None)
    ca = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "fleet release signer")]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(ca.not_valid_before_utc)
        .not_valid_after(ca.not_valid_after_utc)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    (tmp_path / "k.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    out = tmp_path / "codesign.swu"
    bundle.build(FACTORY, "2.0.0", tmp_path / "k.pem", tmp_path / "c.pem", out, "edge-gw", ("1.0",))
    with pytest.raises(BundleRefused, match="unsuitable certificate purpose"):
        verify_bundle(out, pki.ca_cert)


def test_not_a_bundle_is_one_line(tmp_path, pki):
    junk = tmp_path / "junk.swu"
    junk.write_bytes(b"\x00" * 300)
    with pytest.raises(InputError, match="junk.swu: not a readable .swu"):
        verify_bundle(junk, pki.ca_cert)


def test_hardware_and_versions_gate(good_bundle, pki):
    verified = verify_bundle(good_bundle, pki.ca_cert)
    assert hardware_refusal(verified, "edge-gw", "1.1") is None
    assert "fits hardware revisions 1.0, 1.1; the gateway is edge-gw 2.0" in hardware_refusal(
        verified, "edge-gw", "2.0"
    )
    assert "for board 'edge-gw', the gateway is 'other-gw'" in hardware_refusal(verified, "other-gw", "1.0")
    assert versions.gate("2.0.0", "2.0", force=False) == "version 2.0.0 is already installed (--force reinstalls)"
    assert "older than the installed 2.1.0" in versions.gate("2.0.0", "2.1.0", force=False)
    assert versions.gate("2.0.0", "2.1.0", force=True) is None
    assert versions.gate("2.0.10", "2.0.9", force=False) is None, "numeric, not string, comparison"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"version": "2.0-rc1"}, "'2.0-rc1' is not a firmware version"),
        ({"version": "70000.0"}, "'70000.0' is not a firmware version"),
        ({"board": "Edge GW"}, "board 'Edge GW'"),
        ({"revisions": ("1.0;rm",)}, "hardware revision '1.0;rm'"),
        ({"revisions": ()}, "at least one hardware revision"),
    ],
)
def test_bad_build_input_is_one_line_and_writes_nothing(pki, tmp_path, kwargs, message):
    args = {"version": "2.0.0", "board": "edge-gw", "revisions": ("1.0",), **kwargs}
    out = tmp_path / "out.swu"
    with pytest.raises(InputError, match=message):
        bundle.build(FACTORY, args["version"], pki.signer_key, pki.signer_cert, out, args["board"], args["revisions"])
    assert list(tmp_path.iterdir()) == []


def test_a_key_that_is_not_the_certificates_is_refused(pki, rogue, tmp_path):
    with pytest.raises(InputError, match="does not belong to --cert"):
        bundle.build(FACTORY, "2.0.0", rogue.signer_key, pki.signer_cert, tmp_path / "x.swu", "edge-gw", ("1.0",))


def test_pki_keys_are_private(tmp_path):
    made = make_pki(tmp_path / "p", "release")
    assert made.ca_key.stat().st_mode & 0o777 == 0o600 and made.signer_key.stat().st_mode & 0o777 == 0o600
    assert made.ca_cert.stat().st_mode & 0o777 == 0o644


def test_description_parse_refuses_what_fleetops_did_not_write():
    with pytest.raises(InputError, match="not a fleetops firmware description"):
        description.parse('software = { version = "1.0"; };')
    with pytest.raises(InputError, match="not a fleetops firmware description"):
        description.parse("this is { not libconfig")
