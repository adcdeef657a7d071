"""CMS signatures over sw-description: made with ``cryptography``, checked with ``openssl cms``.

The signature is what SWUpdate's Debian build insists on (CMS/X.509, detached, DER, no S/MIME
capabilities: ``openssl cms -sign -outform DER -nosmimecap -binary``). Verification on the
controller runs the same OpenSSL code SWUpdate links against (``openssl cms -verify -purpose
smimesign``), so a bundle the controller accepts is one the gateway accepts.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from fleetops.errors import InputError


class SignatureRefused(Exception):
    """The signature does not verify against the CA, or the signer is not the expected one."""


def load_signer(cert_file: Path, key_file: Path) -> tuple[x509.Certificate, object]:
    """The signer's certificate and private key, or InputError naming the file."""
    try:
        cert = x509.load_pem_x509_certificate(Path(cert_file).read_bytes())
    except (OSError, ValueError) as error:
        raise InputError(f"--cert {cert_file}: not a PEM certificate ({error})") from None
    try:
        key = serialization.load_pem_private_key(Path(key_file).read_bytes(), password=None)
    except TypeError:
        raise InputError(f"--key {key_file}: the key is encrypted; give an unencrypted signing key") from None
    except (OSError, ValueError) as error:
        raise InputError(f"--key {key_file}: not a PEM private key ({error})") from None
    if key.public_key().public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo):
        raise InputError(f"--key {key_file} does not belong to --cert {cert_file}")
    return cert, key


def sign(content: bytes, cert: x509.Certificate, key: object) -> bytes:
    """A detached DER CMS signature over ``content``."""
    return (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(content)
        .add_signer(cert, key, hashes.SHA256())  # type: ignore[arg-type]
        .sign(
            serialization.Encoding.DER,
            [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary, pkcs7.PKCS7Options.NoCapabilities],
        )
    )


def common_name(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


def verify(content: bytes, signature: bytes, ca_file: Path, signer_name: str | None = None) -> str:
    """The signer's common name when ``signature`` over ``content`` chains to ``ca_file`` (and the
    name is ``signer_name`` when given); SignatureRefused with OpenSSL's reason otherwise."""
    if not Path(ca_file).is_file():
        raise InputError(f"--ca {ca_file}: no such file")
    with tempfile.TemporaryDirectory(prefix="fleetops-fw-") as scratch:
        work = Path(scratch)
        (work / "content").write_bytes(content)
        (work / "sig").write_bytes(signature)
        done = subprocess.run(
            [
                "openssl", "cms", "-verify", "-binary", "-inform", "DER",
                "-in", str(work / "sig"), "-content", str(work / "content"),
                "-CAfile", str(ca_file), "-purpose", "smimesign",
                "-signer", str(work / "signer.pem"), "-out", "/dev/null",
            ],
            capture_output=True,
            text=True,
        )  # fmt: skip
        if done.returncode != 0:
            raise SignatureRefused(
                f"signature does not verify against {Path(ca_file).name}: {_openssl_reason(done.stderr)}"
            )
        signers = x509.load_pem_x509_certificates((work / "signer.pem").read_bytes())
    name = common_name(signers[0])
    if signer_name is not None and name != signer_name:
        raise SignatureRefused(f"signed by {name!r}, not by the expected signer {signer_name!r}")
    return name


def _openssl_reason(stderr: str) -> str:
    """OpenSSL's most telling line (the verify error, else the last error)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if "Verify error:" in line:
            return line.split("Verify error:", 1)[1].strip()
    for line in reversed(lines):
        if ":error:" in line:
            return line.split(":")[-1].strip() or line
    return lines[-1] if lines else "openssl cms -verify failed"
