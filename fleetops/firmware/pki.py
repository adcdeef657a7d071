"""A firmware signing PKI: a CA and a release signer that SWUpdate accepts.

SWUpdate verifies CMS signatures against a CA file and, by default, wants the signer's certificate
to allow S/MIME use (``extendedKeyUsage=emailProtection``, ``keyUsage=digitalSignature``); the
signer's common name is what ``forced-signer-name`` pins. ``fleetops firmware pki`` writes one for
labs and exams; production fleets bring their own (an offline CA, a release signer per product).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from fleetops.errors import InputError
from fleetops.fileutil import atomic_write_bytes

SIGNER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$")


@dataclass(frozen=True)
class Pki:
    ca_cert: Path
    ca_key: Path
    signer_cert: Path
    signer_key: Path


def check_signer_name(name: str) -> str:
    """A signer common name safe to render into swupdate.cfg (libconfig string) and argv."""
    if not SIGNER_NAME.match(name or ""):
        raise InputError(f"signer name {name!r}: letters, digits, space, '.', '_' or '-' (1 to 64)")
    return name


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_pki(out: Path, signer_name: str, ca_name: str = "fleetops firmware CA", days: int = 3650) -> Pki:
    """Write ``ca.pem``/``ca.key``/``signer.pem``/``signer.key`` into ``out`` (keys 0600)."""
    check_signer_name(signer_name)
    check_signer_name(ca_name)
    out.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name(ca_name))
        .issuer_name(_name(ca_name))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    signer_key = ec.generate_private_key(ec.SECP256R1())
    signer = (
        x509.CertificateBuilder()
        .subject_name(_name(signer_name))
        .issuer_name(ca.subject)
        .public_key(signer_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pki = Pki(out / "ca.pem", out / "ca.key", out / "signer.pem", out / "signer.key")
    for path, key in ((pki.ca_key, ca_key), (pki.signer_key, signer_key)):
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        atomic_write_bytes(path, pem)  # 0600 from the first byte
    atomic_write_bytes(pki.ca_cert, ca.public_bytes(serialization.Encoding.PEM), 0o644)
    atomic_write_bytes(pki.signer_cert, signer.public_bytes(serialization.Encoding.PEM), 0o644)
    return pki


def _usage(cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )
